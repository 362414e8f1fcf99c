"""Every write to the registry goes through here, and every write records its history.

Like zulip's ``do_*`` actions: one function per act (create a household, correct a person,
deactivate, move between families), each inside one transaction, each writing a `Change`
row (entity, before → after) under a `ChangeSet` (who, role, scope, why, source). Views,
proposals, imports and the admin call these functions; nothing else calls ``.save()`` on a
registry row.

Create changes carry an empty diff: the values at creation are the current values with the
later update diffs undone, so a snapshot would only double the storage on bulk imports.

Validation problems are collected, not raised one by one: a `RegistryError` carries every
error (Indonesian and English message, with the path of the offending field) so a form or an
import report can show them all at once. Warnings never block; they are returned on the
saved object as ``obj.warnings``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.utils import timezone, translation

from terpadu.accounts.access import Action, can
from terpadu.lib.names import normalise_name
from terpadu.lib.nik import check_nik, check_no_kk
from terpadu.regions.models import Level, Region
from terpadu.registry import bulkpipe
from terpadu.registry.bulkkeys import KeyCheck, set_checked_keys
from terpadu.registry.codelists import is_informal
from terpadu.registry.models import (
    Change,
    ChangeSet,
    Family,
    FamilyMembership,
    Household,
    NonaktifReason,
    Person,
    PersonPPKS,
    Program,
    ProgramMembership,
    RecordStatus,
)

if TYPE_CHECKING:
    from terpadu.accounts.models import User

Source = ChangeSet.Source

# Columns the system keeps itself: keys, the denormalised scope column, derived values and
# timestamps. Status/nonaktif_reason move only through deactivate/reactivate (an act with
# its own reason code), never as a plain field edit.
_SYSTEM_FIELDS = frozenset(
    {
        "id",
        "household",
        "family",
        "region",
        "region_code",
        "created_at",
        "updated_at",
        "name_norm",
        "mother_name_norm",
        "informal_work",
    }
)
_STATUS_ONLY = frozenset({"status", "nonaktif_reason"})


def _editable(model: type[models.Model]) -> frozenset[str]:
    return frozenset(
        f.name
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and f.name not in _SYSTEM_FIELDS
    )


HOUSEHOLD_CREATE_FIELDS = _editable(Household)
HOUSEHOLD_EDIT_FIELDS = (HOUSEHOLD_CREATE_FIELDS - _STATUS_ONLY) | {"region"}
FAMILY_CREATE_FIELDS = _editable(Family) - {"head"}
FAMILY_EDIT_FIELDS = (FAMILY_CREATE_FIELDS - _STATUS_ONLY) | {"head"}
PERSON_CREATE_FIELDS = _editable(Person)
PERSON_EDIT_FIELDS = PERSON_CREATE_FIELDS - _STATUS_ONLY

RELATION_HEAD = 1  # hubungan dengan kepala keluarga: 1 = kepala keluarga


@dataclass(frozen=True)
class RecordIssue:
    """One validation finding, located by `path` (e.g. ``families[0].members[2].nik``)."""

    path: str
    code: str
    severity: str  # "error" | "warning"
    message_id: str
    message_en: str

    @property
    def message(self) -> str:
        """The message in the active language (Indonesian unless English is active)."""
        lang = translation.get_language() or "id"
        return self.message_en if lang.startswith("en") else self.message_id

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class RegistryError(Exception):
    """A write was refused; `issues` holds every error found (and the warnings seen)."""

    def __init__(self, issues: Sequence[RecordIssue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(str(i) for i in self.errors) or "registry error")

    @property
    def errors(self) -> list[RecordIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[RecordIssue]:
        return [i for i in self.issues if i.severity == "warning"]


def _error(path: str, code: str, message_id: str, message_en: str) -> RecordIssue:
    return RecordIssue(path, code, "error", message_id, message_en)


def _from_id_check(path: str, check: Any) -> list[RecordIssue]:
    """Turn terpadu.lib.nik issues into located RecordIssues."""
    return [RecordIssue(path, i.code, i.severity, i.message_id, i.message_en) for i in check.issues]


def _from_validation(path: str, exc: ValidationError) -> RecordIssue:
    # Django ships Indonesian and English catalogues, so both texts come from the same error.
    with translation.override("id"):
        msg_id = " ".join(str(m) for m in exc.messages)
    with translation.override("en"):
        msg_en = " ".join(str(m) for m in exc.messages)
    return _error(path, "invalid", msg_id, msg_en)


def _raise_if_errors(issues: list[RecordIssue]) -> list[RecordIssue]:
    """Raise with every issue when any is an error; otherwise return the warnings."""
    if any(i.severity == "error" for i in issues):
        raise RegistryError(issues)
    return issues


def json_safe(value: Any) -> Any:
    """A value as it is stored in `Change.diff` (dates as ISO strings, rows as their pk)."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


# --- actors and changesets ------------------------------------------------------------


def open_changeset(*, by: User | None, reason: str, source: str, source_ref: str = "") -> ChangeSet:
    """Start one act of change, copying the actor's role and scope as they are now.

    `by` is None only for system work (demo data, scheduled jobs); imports and proposals
    pass the person who applied them.
    """
    if not (reason or "").strip():
        raise RegistryError(
            [
                _error(
                    "reason",
                    "reason_required",
                    "Alasan perubahan wajib diisi.",
                    "A reason for the change is required.",
                )
            ]
        )
    return ChangeSet.objects.create(
        actor=by,
        actor_role=(by.role or ("superuser" if by.is_superuser else "")) if by else "",
        actor_scope=by.scope if by else "",
        reason=reason.strip(),
        source=source,
        source_ref=source_ref,
    )


def _ensure_edit(by: User | None, region_code: str) -> None:
    # Writes answer 403, not 404: the caller already holds the record it wants to change.
    if by is not None and not can(by, Action.EDIT, region_code):
        raise PermissionDenied


def record_creates(
    changeset: ChangeSet, entity: str, objs: Iterable[models.Model], *, batch_size: int = 2000
) -> list[Change]:
    """Bulk-write one CREATE Change per object (objects must have pks and `region_code`).

    One INSERT per `batch_size` objects whatever the number of rows: imports and demo data
    call this after their own bulk_create.
    """
    rows = [
        Change(
            changeset=changeset,
            entity=entity,
            entity_id=obj.pk,
            region_code=obj.region_code,
            action=Change.Action.CREATE,
            diff={},
        )
        for obj in objs
    ]
    return Change.objects.bulk_create(rows, batch_size=batch_size)


def _record(
    changeset: ChangeSet, obj: models.Model, action: str, diff: dict[str, list[Any]]
) -> Change:
    return Change.objects.create(
        changeset=changeset,
        entity=obj._meta.model_name,
        entity_id=obj.pk,
        region_code=obj.region_code,
        action=action,
        diff=diff,
    )


# --- value cleaning -------------------------------------------------------------------


def _clean_fields(
    model: type[models.Model], data: Mapping[str, Any], *, allowed: frozenset[str], path: str
) -> tuple[dict[str, Any], list[RecordIssue]]:
    """Check names against `allowed` and convert values with the model fields' own rules."""
    cleaned: dict[str, Any] = {}
    issues: list[RecordIssue] = []
    for name, raw in data.items():
        where = f"{path}.{name}" if path else name
        if name not in allowed:
            issues.append(
                _error(
                    where,
                    "unknown_field",
                    f"Kolom '{name}' tidak dikenal atau tidak boleh diubah.",
                    f"Field '{name}' is unknown or not editable.",
                )
            )
            continue
        if name in ("nik", "no_kk"):
            # Raw identifiers go to terpadu.lib.nik, which strips spaces/dots first.
            cleaned[name] = None if raw in (None, "") else str(raw)
            continue
        field = model._meta.get_field(name)
        value = raw
        if value == "" and field.null and not isinstance(field, models.CharField):
            value = None
        if isinstance(field, models.CharField) and value is None and not field.null:
            value = ""
        try:
            cleaned[name] = field.clean(value, None)
        except ValidationError as exc:
            issues.append(_from_validation(where, exc))
    return cleaned, issues


def _keep_fields(
    model: type[models.Model], data: Mapping[str, Any], *, allowed: frozenset[str], path: str
) -> tuple[dict[str, Any], list[RecordIssue]]:
    """`_clean_fields` for values it has already accepted: a copy, no issues."""
    return dict(data), []


def _check_person_ids(
    values: dict[str, Any], *, path: str, sex: int | None, birth_date: dt.date | None
) -> list[RecordIssue]:
    """Validate and normalise the NIK in `values` in place (blank NIK = unknown, allowed)."""
    raw = values.get("nik")
    if raw in (None, ""):
        values["nik"] = None
        return []
    result = check_nik(raw, sex=sex, birth_date=birth_date)
    if result.ok:
        values["nik"] = result.value
    return _from_id_check(f"{path}.nik" if path else "nik", result)


def _check_kk(values: dict[str, Any], *, path: str) -> list[RecordIssue]:
    raw = values.get("no_kk")
    if raw in (None, ""):
        values["no_kk"] = None
        return []
    result = check_no_kk(raw)
    if result.ok:
        values["no_kk"] = result.value
    return _from_id_check(f"{path}.no_kk" if path else "no_kk", result)


def _derive_person(person: Person, changed: Iterable[str] | None = None) -> set[str]:
    """Keep the stored derived columns in step with their sources (design §1a).

    With `changed` (names of source fields that changed) only their derived columns are
    recomputed: name normalisation is the costly part of a bulk correction. Returns the
    derived columns set.
    """
    sources = set(DERIVED) if changed is None else set(changed) & set(DERIVED)
    if "name" in sources:
        person.name_norm = normalise_name(person.name)
    if "mother_name" in sources:
        person.mother_name_norm = normalise_name(person.mother_name) if person.mother_name else ""
    if "employment_status" in sources:
        person.informal_work = is_informal(person.employment_status)
    return {DERIVED[name] for name in sources}


# Source field → the derived column stored from it.
DERIVED = {
    "name": "name_norm",
    "mother_name": "mother_name_norm",
    "employment_status": "informal_work",
}


# --- create ---------------------------------------------------------------------------


def _validate_region(region: Region, by: User | None, *, path: str = "region") -> None:
    if region.level != Level.DESA or region.valid_to is not None:
        raise RegistryError([_region_not_desa(path)])
    _ensure_edit(by, region.digits)


def _region_not_desa(path: str) -> RecordIssue:
    return _error(
        path,
        "region_not_desa",
        "Wilayah harus desa/kelurahan yang masih berlaku.",
        "The region must be a current desa/kelurahan.",
    )


_Bundle = tuple[
    dict[str, Any], list[tuple[dict[str, Any], list[dict[str, Any]]]], list[RecordIssue]
]


def _clean_bundle(
    families: Sequence[Mapping[str, Any]],
    household_fields: Mapping[str, Any] | None,
    *,
    precleaned: bool = False,
) -> _Bundle:
    """Clean a household bundle: (household values, [(family values, [member values])], issues).

    The one copy of the household/family/member rules, shared by `create_household` and
    `validate_household_bundle` (a proposal checks its bundle months before it is applied).
    `precleaned`: the values already passed `_clean_fields` (typed, e.g. an import's dry
    run), so that step — which only ever reports errors — is skipped; the id checks and the
    bundle rules (and their warnings) run as always.
    """
    clean_fields = _keep_fields if precleaned else _clean_fields
    issues: list[RecordIssue] = []
    hh_values, found = clean_fields(
        Household, household_fields or {}, allowed=HOUSEHOLD_CREATE_FIELDS, path="household"
    )
    issues += found
    if not families:
        issues.append(
            _error(
                "families",
                "no_family",
                "Rumah tangga harus memiliki keluarga.",
                "A household needs at least one family.",
            )
        )

    fam_rows: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    seen_nik: dict[str, str] = {}
    member_no = 0
    for f_idx, fam in enumerate(families):
        f_path = f"families[{f_idx}]"
        fam_data = {k: v for k, v in fam.items() if k != "members"}
        fam_data.setdefault("nuk", f_idx + 1)
        fam_values, found = clean_fields(
            Family, fam_data, allowed=FAMILY_CREATE_FIELDS, path=f_path
        )
        issues += found + _check_kk(fam_values, path=f_path)
        members = list(fam.get("members") or [])
        if not members:
            issues.append(
                _error(
                    f"{f_path}.members",
                    "no_member",
                    "Keluarga harus memiliki anggota.",
                    "A family needs at least one member.",
                )
            )
        member_values: list[dict[str, Any]] = []
        heads = 0
        for m_idx, member in enumerate(members):
            m_path = f"{f_path}.members[{m_idx}]"
            values, found = clean_fields(Person, member, allowed=PERSON_CREATE_FIELDS, path=m_path)
            issues += found
            issues += _check_person_ids(
                values, path=m_path, sex=values.get("sex"), birth_date=values.get("birth_date")
            )
            nik = values.get("nik")
            if nik and nik in seen_nik:
                issues.append(
                    _error(
                        f"{m_path}.nik",
                        "nik_repeated",
                        f"NIK sama dengan {seen_nik[nik]} dalam rumah tangga ini.",
                        f"NIK repeats {seen_nik[nik]} in this household.",
                    )
                )
            elif nik:
                seen_nik[nik] = m_path
            member_no += 1
            values.setdefault("member_no", member_no)
            heads += values.get("relation_kk") == RELATION_HEAD
            member_values.append(values)
        if heads > 1:
            issues.append(
                _error(
                    f"{f_path}.members",
                    "many_heads",
                    "Keluarga memiliki lebih dari satu kepala keluarga.",
                    "The family has more than one head.",
                )
            )
        elif members and heads == 0:
            issues.append(
                RecordIssue(
                    f"{f_path}.members",
                    "no_head",
                    "warning",
                    "Keluarga belum memiliki kepala keluarga.",
                    "The family has no head yet.",
                )
            )
        fam_rows.append((fam_values, member_values))
    return hh_values, fam_rows, issues


def validate_household_bundle(
    region: Region,
    families: Sequence[Mapping[str, Any]],
    household_fields: Mapping[str, Any] | None = None,
    *,
    precleaned: bool = False,
) -> list[RecordIssue]:
    """Every issue (errors and warnings) `create_household` would find, writing nothing.

    Proposals (usulan baru) call this when the desa enters the data, so NIK/No KK errors
    show at once rather than at the monthly determination. The region is checked as data
    (a current desa); whether the caller may write there is the caller's own check.
    """
    issues: list[RecordIssue] = []
    if region.level != Level.DESA or region.valid_to is not None:
        issues.append(_region_not_desa("region"))
    return issues + _clean_bundle(families, household_fields, precleaned=precleaned)[2]


def create_household(
    *,
    region: Region,
    families: Sequence[Mapping[str, Any]],
    household_fields: Mapping[str, Any] | None = None,
    by: User | None = None,
    changeset: ChangeSet | None = None,
    reason: str = "",
    source: str = Source.FORM,
    source_ref: str = "",
) -> Household:
    """Create a household with its families, members and memberships, all or nothing.

    `families` is ``[{"no_kk": ..., "nuk": 1, "members": [{person fields}, ...]}, ...]``;
    the member with ``relation_kk == 1`` becomes the family head. Pass `by` (a new
    changeset is opened with `reason`) or an open `changeset` (its actor is checked).
    Raises `RegistryError` listing every error; warnings are returned as
    ``household.warnings``. Costs a fixed number of queries whatever the member count.
    """
    actor = by if by is not None else (changeset.actor if changeset else None)
    if changeset is None and by is None:
        raise ValueError("create_household needs `by` or `changeset`")
    _validate_region(region, actor)
    hh_values, fam_rows, issues = _clean_bundle(families, household_fields)
    warnings = _raise_if_errors(issues)

    code = region.digits
    today = timezone.localdate()
    with transaction.atomic():
        if changeset is None:
            changeset = open_changeset(by=by, reason=reason, source=source, source_ref=source_ref)
        household = Household.objects.create(region=region, region_code=code, **hh_values)
        fam_objs = Family.objects.bulk_create(
            [Family(household=household, region_code=code, **values) for values, _ in fam_rows]
        )
        persons: list[Person] = []
        for fam_obj, (_, members) in zip(fam_objs, fam_rows, strict=True):
            for values in members:
                person = Person(household=household, family=fam_obj, region_code=code, **values)
                _derive_person(person)
                persons.append(person)
        persons = Person.objects.bulk_create(persons)
        heads_set = []
        for person in persons:
            if person.relation_kk == RELATION_HEAD:
                fam_obj = next(f for f in fam_objs if f.pk == person.family_id)
                fam_obj.head = person
                heads_set.append(fam_obj)
        if heads_set:
            Family.objects.bulk_update(heads_set, ["head"])
        FamilyMembership.objects.bulk_create(
            [
                FamilyMembership(
                    person=p,
                    family_id=p.family_id,
                    region_code=code,
                    relation_kk=p.relation_kk,
                    valid_from=today,
                )
                for p in persons
            ]
        )
        record_creates(changeset, "household", [household])
        record_creates(changeset, "family", fam_objs)
        record_creates(changeset, "person", persons)
    household.warnings = warnings  # type: ignore[attr-defined]
    return household


# --- update ---------------------------------------------------------------------------


def _diff_and_apply(fresh: models.Model, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set changed values on `fresh`; return ``{field: [before, after]}`` (JSON-safe)."""
    diff: dict[str, list[Any]] = {}
    for name, new in values.items():
        field = fresh._meta.get_field(name)
        attname = field.attname
        old = getattr(fresh, attname)
        new_raw = new.pk if isinstance(new, models.Model) else new
        if old == new_raw:
            continue
        diff[name] = [json_safe(old), json_safe(new_raw)]
        setattr(fresh, attname, new_raw)
    return diff


def _copy_back(target: models.Model, fresh: models.Model, names: Iterable[str]) -> None:
    """Mirror saved values onto the caller's instance so it need not re-read."""
    for name in names:
        attname = target._meta.get_field(name).attname
        setattr(target, attname, getattr(fresh, attname))


def update_person(
    person: Person,
    *,
    by: User | None,
    changes: Mapping[str, Any],
    reason: str,
    source: str = Source.FORM,
    source_ref: str = "",
    changeset: ChangeSet | None = None,
) -> Person:
    """Correct a person's fields; writes one UPDATE Change with before → after.

    Status changes go through `deactivate_person`/`reactivate_person`; family moves through
    `move_person_to_family`. A call that changes nothing writes nothing.
    """
    _ensure_edit(by, person.region_code)
    values, issues = _clean_fields(Person, changes, allowed=PERSON_EDIT_FIELDS, path="")
    _raise_if_errors(issues)
    with transaction.atomic():
        # Compare against the row as it is now, locked, so two editors cannot lose an update.
        fresh = Person.objects.select_for_update().get(pk=person.pk)
        if "nik" in values:
            issues += _check_person_ids(
                values,
                path="",
                sex=values.get("sex", fresh.sex),
                birth_date=values.get("birth_date", fresh.birth_date),
            )
        warnings = _raise_if_errors(issues)
        old_relation = fresh.relation_kk
        diff = _diff_and_apply(fresh, values)
        if not diff:
            person.warnings = warnings  # type: ignore[attr-defined]
            return person
        before_informal = fresh.informal_work
        _derive_person(fresh)
        if fresh.informal_work != before_informal:
            diff["informal_work"] = [before_informal, fresh.informal_work]
        changeset = changeset or open_changeset(
            by=by, reason=reason, source=source, source_ref=source_ref
        )
        saved = [*diff, "name_norm", "mother_name_norm", "updated_at"]
        fresh.save(update_fields=sorted(set(saved)))
        _record(changeset, fresh, Change.Action.UPDATE, diff)
        if "relation_kk" in diff:
            _sync_relation(fresh, old_relation, changeset)
    _copy_back(person, fresh, saved)
    person.warnings = warnings  # type: ignore[attr-defined]
    return person


def _sync_relation(person: Person, old_relation: int | None, changeset: ChangeSet) -> None:
    """Keep the open membership and the family head in step with relation_kk."""
    FamilyMembership.objects.filter(person=person, valid_to__isnull=True).update(
        relation_kk=person.relation_kk
    )
    family = Family.objects.select_for_update().get(pk=person.family_id)
    new_head = family.head_id
    if person.relation_kk == RELATION_HEAD and family.head_id is None:
        new_head = person.pk
    elif old_relation == RELATION_HEAD and family.head_id == person.pk:
        new_head = None
    if new_head != family.head_id:
        diff = {"head": [family.head_id, new_head]}
        family.head_id = new_head
        family.save(update_fields=["head", "updated_at"])
        _record(changeset, family, Change.Action.UPDATE, diff)


def update_household(
    household: Household,
    *,
    by: User | None,
    changes: Mapping[str, Any],
    reason: str,
    source: str = Source.FORM,
    source_ref: str = "",
    changeset: ChangeSet | None = None,
) -> Household:
    """Correct household fields (Blok I/III/V); a new `region` carries every member along.

    Moving to another desa re-stamps `region_code` on the families, persons, memberships,
    programme memberships and PPKS rows of the household (set-based, fixed query count),
    so scope filters keep finding them; the household's Change records the move.
    """
    _ensure_edit(by, household.region_code)
    changes = dict(changes)
    new_region = changes.pop("region", None)
    values, issues = _clean_fields(Household, changes, allowed=HOUSEHOLD_EDIT_FIELDS, path="")
    _raise_if_errors(issues)
    if new_region is not None:
        if not isinstance(new_region, Region):
            new_region = Region.objects.get(pk=new_region)
        _validate_region(new_region, by)
    with transaction.atomic():
        fresh = Household.objects.select_for_update().get(pk=household.pk)
        if new_region is not None:
            values["region"] = new_region
        diff = _diff_and_apply(fresh, values)
        if not diff:
            return household
        old_code = fresh.region_code
        if "region" in diff:
            fresh.region_code = new_region.digits
            diff["region_code"] = [old_code, fresh.region_code]
        changeset = changeset or open_changeset(
            by=by, reason=reason, source=source, source_ref=source_ref
        )
        saved = [*diff, "updated_at"]
        fresh.save(update_fields=sorted(set(saved)))
        _record(changeset, fresh, Change.Action.UPDATE, diff)
        if "region_code" in diff:
            _restamp_region(fresh)
    _copy_back(household, fresh, saved)
    return household


def _restamp_region(household: Household) -> None:
    restamp_regions_bulk(Household.objects.filter(pk=household.pk))


def restamp_regions_bulk(households: models.QuerySet[Household], *, units: bool = True) -> None:
    """Copy each household's `region_code` onto everything under it, one UPDATE per table.

    `units=False` leaves families and persons alone (the monthly determination writes their
    codes itself, after versioning them) and restamps only the memberships and PPKS rows.
    """
    hh_ids = households.values("pk")
    code_of = models.Subquery(
        Household.objects.filter(pk=models.OuterRef("household_id")).values("region_code")[:1]
    )
    if units:
        Family.objects.filter(household_id__in=hh_ids).update(region_code=code_of)
        Person.objects.filter(household_id__in=hh_ids).update(region_code=code_of)
    family_code = models.Subquery(
        Family.objects.filter(pk=models.OuterRef("family_id")).values("region_code")[:1]
    )
    person_code = models.Subquery(
        Person.objects.filter(pk=models.OuterRef("person_id")).values("region_code")[:1]
    )
    # Subqueries on the indexed foreign keys, not joins: an OR across joins scans the table.
    fam_ids = Family.objects.filter(household_id__in=hh_ids).values("pk")
    person_ids = Person.objects.filter(household_id__in=hh_ids).values("pk")
    FamilyMembership.objects.filter(family_id__in=fam_ids).update(region_code=family_code)
    ProgramMembership.objects.filter(person_id__in=person_ids).update(region_code=person_code)
    ProgramMembership.objects.filter(family_id__in=fam_ids).update(region_code=family_code)
    PersonPPKS.objects.filter(person_id__in=person_ids).update(region_code=person_code)


def update_family(
    family: Family,
    *,
    by: User | None,
    changes: Mapping[str, Any],
    reason: str,
    source: str = Source.FORM,
    source_ref: str = "",
    changeset: ChangeSet | None = None,
) -> Family:
    """Correct family fields (No KK, NUK, desil, head, status dimensions) with history."""
    _ensure_edit(by, family.region_code)
    changes = dict(changes)
    has_head = "head" in changes
    head = changes.pop("head", None)
    values, issues = _clean_fields(Family, changes, allowed=FAMILY_EDIT_FIELDS, path="")
    if "no_kk" in values:
        issues += _check_kk(values, path="")
    if has_head:
        head_id = head.pk if isinstance(head, models.Model) else head
        if (
            head_id is not None
            and not Person.objects.filter(pk=head_id, family_id=family.pk).exists()
        ):
            issues.append(
                _error(
                    "head",
                    "head_not_member",
                    "Kepala keluarga harus anggota keluarga ini.",
                    "The head must be a member of this family.",
                )
            )
        values["head"] = head_id
    warnings = _raise_if_errors(issues)
    with transaction.atomic():
        fresh = Family.objects.select_for_update().get(pk=family.pk)
        diff = _diff_and_apply(fresh, values)
        if diff:
            changeset = changeset or open_changeset(
                by=by, reason=reason, source=source, source_ref=source_ref
            )
            saved = [*diff, "updated_at"]
            fresh.save(update_fields=sorted(set(saved)))
            _record(changeset, fresh, Change.Action.UPDATE, diff)
            _copy_back(family, fresh, saved)
    family.warnings = warnings  # type: ignore[attr-defined]
    return family


# --- status ---------------------------------------------------------------------------


def deactivate_person(
    person: Person,
    *,
    by: User | None,
    reason_code: str,
    reason: str,
    source: str = Source.FORM,
    source_ref: str = "",
    changeset: ChangeSet | None = None,
) -> Person:
    """Set a person nonaktif with a reason code (meninggal, pindah, ganda …); never deletes."""
    _ensure_edit(by, person.region_code)
    if reason_code not in NonaktifReason.values:
        raise RegistryError(
            [
                _error(
                    "reason_code",
                    "bad_reason",
                    "Alasan nonaktif tidak dikenal.",
                    "Unknown deactivation reason.",
                )
            ]
        )
    return _set_status(
        person,
        by=by,
        status=RecordStatus.NONAKTIF,
        reason_code=reason_code,
        action=Change.Action.DEACTIVATE,
        reason=reason,
        source=source,
        source_ref=source_ref,
        changeset=changeset,
    )


def reactivate_person(
    person: Person,
    *,
    by: User | None,
    reason: str,
    source: str = Source.FORM,
    source_ref: str = "",
    changeset: ChangeSet | None = None,
) -> Person:
    """Set a nonaktif person aktif again (e.g. wrongly marked dead); the reason is kept."""
    _ensure_edit(by, person.region_code)
    return _set_status(
        person,
        by=by,
        status=RecordStatus.AKTIF,
        reason_code="",
        action=Change.Action.REACTIVATE,
        reason=reason,
        source=source,
        source_ref=source_ref,
        changeset=changeset,
    )


def _set_status(
    person: Person,
    *,
    by: User | None,
    status: str,
    reason_code: str,
    action: str,
    reason: str,
    source: str,
    source_ref: str,
    changeset: ChangeSet | None,
) -> Person:
    with transaction.atomic():
        fresh = Person.objects.select_for_update().get(pk=person.pk)
        already = (fresh.status == RecordStatus.NONAKTIF) == (status == RecordStatus.NONAKTIF)
        if already:
            raise RegistryError(
                [
                    _error(
                        "status",
                        "same_status",
                        "Status individu sudah seperti itu.",
                        "The person already has that status.",
                    )
                ]
            )
        diff = _diff_and_apply(fresh, {"status": status, "nonaktif_reason": reason_code})
        changeset = changeset or open_changeset(
            by=by, reason=reason, source=source, source_ref=source_ref
        )
        fresh.save(update_fields=["status", "nonaktif_reason", "updated_at"])
        _record(changeset, fresh, action, diff)
    _copy_back(person, fresh, ["status", "nonaktif_reason", "updated_at"])
    return person


# --- moves ----------------------------------------------------------------------------


def move_person_to_family(
    person: Person,
    family: Family,
    *,
    by: User | None,
    relation_kk: int | None,
    reason: str,
    source: str = Source.FORM,
    source_ref: str = "",
    changeset: ChangeSet | None = None,
) -> Person:
    """Move a person to another family (and its household/desa), keeping membership history.

    The open FamilyMembership is closed today and a new one opened; the old family loses its
    head if this person was it, and the new family gains one when it had none.
    """
    _ensure_edit(by, person.region_code)
    _ensure_edit(by, family.region_code)
    if relation_kk is not None and not 1 <= int(relation_kk) <= 8:
        raise RegistryError(
            [
                _error(
                    "relation_kk",
                    "bad_relation",
                    "Hubungan dengan kepala keluarga harus kode 1–8.",
                    "Relationship to the head must be code 1–8.",
                )
            ]
        )
    today = timezone.localdate()
    with transaction.atomic():
        fresh = Person.objects.select_for_update().get(pk=person.pk)
        if fresh.family_id == family.pk:
            raise RegistryError(
                [
                    _error(
                        "family",
                        "same_family",
                        "Individu sudah anggota keluarga ini.",
                        "The person is already in this family.",
                    )
                ]
            )
        old_family = Family.objects.select_for_update().get(pk=fresh.family_id)
        new_family = Family.objects.select_for_update().get(pk=family.pk)
        diff = _diff_and_apply(
            fresh,
            {
                "family": new_family.pk,
                "household": new_family.household_id,
                "relation_kk": relation_kk,
            },
        )
        old_code = fresh.region_code
        if old_code != new_family.region_code:
            fresh.region_code = new_family.region_code
            diff["region_code"] = [old_code, fresh.region_code]
        changeset = changeset or open_changeset(
            by=by, reason=reason, source=source, source_ref=source_ref
        )
        fresh.save(
            update_fields=["family", "household", "relation_kk", "region_code", "updated_at"]
        )
        FamilyMembership.objects.filter(person=fresh, valid_to__isnull=True).update(valid_to=today)
        FamilyMembership.objects.create(
            person=fresh,
            family=new_family,
            region_code=fresh.region_code,
            relation_kk=relation_kk,
            valid_from=today,
        )
        _record(changeset, fresh, Change.Action.UPDATE, diff)
        if old_family.head_id == fresh.pk:
            old_family.head = None
            old_family.save(update_fields=["head", "updated_at"])
            _record(changeset, old_family, Change.Action.UPDATE, {"head": [fresh.pk, None]})
        if relation_kk == RELATION_HEAD and new_family.head_id is None:
            new_family.head = fresh
            new_family.save(update_fields=["head", "updated_at"])
            _record(changeset, new_family, Change.Action.UPDATE, {"head": [None, fresh.pk]})
    _copy_back(person, fresh, ["family", "household", "relation_kk", "region_code", "updated_at"])
    return person


# --- checks without writing -----------------------------------------------------------

_EDIT_FIELDS: dict[type[models.Model], frozenset[str]] = {
    Household: HOUSEHOLD_EDIT_FIELDS - {"region"},
    Family: FAMILY_EDIT_FIELDS - {"head"},
    Person: PERSON_EDIT_FIELDS,
}


def check_changes(obj: models.Model, changes: Mapping[str, Any]) -> list[RecordIssue]:
    """The issues `update_*` would find in `changes` for `obj`, without writing anything.

    Forms (the admin included) call this in ``clean()`` so errors show next to the field.
    Relations (``region``, ``head``) are checked by the update functions themselves.
    """
    return clean_changes(obj, changes)[1]


def clean_changes(
    obj: models.Model, changes: Mapping[str, Any]
) -> tuple[dict[str, Any], list[RecordIssue]]:
    """`changes` cleaned as `update_*` would store them, and the issues found (see above)."""
    plain = {k: v for k, v in changes.items() if k not in ("region", "head")}
    values, issues = _clean_fields(type(obj), plain, allowed=_EDIT_FIELDS[type(obj)], path="")
    if "nik" in values:
        issues += _check_person_ids(
            values,
            path="",
            sex=values.get("sex", getattr(obj, "sex", None)),
            birth_date=values.get("birth_date", getattr(obj, "birth_date", None)),
        )
    if "no_kk" in values:
        issues += _check_kk(values, path="")
    return values, issues


# --- set-based writes (the monthly determination) ------------------------------------------
# The same rules as the functions above, for tens of thousands of rows at once: values are
# cleaned by `_clean_bundle`/`clean_changes`, derived columns by `_derive_person`, and the
# rows are written with a fixed number of statements per table and column, never per row.
# The caller (editions.determination) has authorised the act and holds the transaction.


def ids_condition(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """SQL ``column IN (ids)`` with the ids as ONE parameter, whatever their number.

    PostgreSQL takes an array; SQLite a JSON array read by json_each (its variable limit
    would otherwise cap an IN list). `column` comes from model meta, never from input.
    """
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(list(ids))]  # noqa: S608


def write_rows_bulk(
    model: type[models.Model],
    rows: Mapping[int, Mapping[str, Any]],
    **constants: Any,
) -> int:
    """Write ``{pk: {field name: value}}`` plus the same `constants` on every row.

    Rows that change the same set of fields form one group, written by ONE UPDATE whatever
    its size, so each row is written once and the statement count depends on the number of
    distinct field sets (a handful per determination), never on the number of rows.
    PostgreSQL joins the table to ``unnest(ids, values…)``; SQLite to ``json_each`` of a
    ``{pk: [values…]}`` object (UPDATE … FROM, SQLite ≥ 3.33). Values are prepared by the
    model fields as the ORM would (dates, decimals, foreign keys). Returns statements run.
    """
    q = connection.ops.quote_name
    table, pk = q(model._meta.db_table), q(model._meta.pk.column)
    const_sets, const_params = [], []
    for name, value in constants.items():
        f = model._meta.get_field(name)
        const_sets.append(f"{q(f.column)} = %s")
        const_params.append(f.get_db_prep_save(value, connection))
    groups: dict[tuple[str, ...], list[int]] = {}
    # In id order: rows were mostly inserted in id order, so the UPDATE walks the table's
    # pages forward instead of jumping between them.
    for row_pk in sorted(rows):
        groups.setdefault(tuple(sorted(rows[row_pk])), []).append(row_pk)
    statements = 0
    with connection.cursor() as cursor:
        for names, pks in groups.items():
            fields = [model._meta.get_field(n) for n in names]
            if not fields and not const_sets:
                continue
            columns = [[_db_value(f, rows[p][f.name]) for p in pks] for f in fields]
            if connection.vendor == "postgresql":
                sets = [f"{q(f.column)} = v.c{i}" for i, f in enumerate(fields)] + const_sets
                types = ["bigint"] + [_pg_type(f) for f in fields]
                arrays = ", ".join(f"%s::{t}[]" for t in types)
                names_sql = ", ".join(["id"] + [f"c{i}" for i in range(len(fields))])
                cursor.execute(
                    f"UPDATE {table} AS t SET {', '.join(sets)} "  # noqa: S608 — meta names
                    f"FROM unnest({arrays}) AS v({names_sql}) WHERE t.{pk} = v.id",
                    [*const_params, list(pks), *columns],
                )
            else:
                sets = [
                    f"{q(f.column)} = json_extract(v.value, '$[{i}]')" for i, f in enumerate(fields)
                ] + const_sets
                blob = {str(p): [col[j] for col in columns] for j, p in enumerate(pks)}
                cursor.execute(
                    f"UPDATE {table} SET {', '.join(sets)} FROM json_each(%s) AS v "  # noqa: S608
                    f"WHERE {table}.{pk} = CAST(v.key AS INTEGER)",
                    [*const_params, json.dumps(blob, default=str)],
                )
            statements += 1
    return statements


def _plain_type(field: models.Field) -> type | None:
    """The Python type a value of `field` is written as without conversion, if any."""
    if isinstance(field, models.CharField | models.TextField):
        return str
    if isinstance(field, models.BooleanField):
        return bool
    if isinstance(field, models.IntegerField | models.ForeignKey):
        return int
    return None


def _db_value(field: models.Field, value: Any) -> Any:
    """`value` prepared by `field` as the ORM would; the plain values (text in a text field,
    an int in an integer field or key, None) as they are: no call per value for them."""
    if value is None or type(value) is _plain_type(field):
        return value
    return field.get_db_prep_save(value, connection)


def _pg_type(field: models.Field) -> str:
    if isinstance(field, models.ForeignKey):
        return field.target_field.rel_db_type(connection)
    return field.db_type(connection)


def apply_values(
    obj: models.Model, values: Mapping[str, Any]
) -> tuple[dict[str, list[Any]], set[str]]:
    """Set `values` on `obj` as `update_*` would: returns (diff, field names to write).

    Persons get their derived columns recomputed (`_derive_person`); a changed
    `informal_work` joins the diff, as in `update_person`.
    """
    diff = _diff_and_apply(obj, values)
    dirty = set(diff)
    if isinstance(obj, Person) and dirty & set(DERIVED):
        before_informal = obj.informal_work
        dirty |= _derive_person(obj, dirty)
        if obj.informal_work != before_informal:
            diff["informal_work"] = [before_informal, obj.informal_work]
    return diff, dirty


def record_changes_bulk(
    changeset: ChangeSet,
    rows: Iterable[tuple[models.Model, str, dict[str, list[Any]]]],
    *,
    batch_size: int = 2000,
) -> int:
    """Write one Change per ``(obj, action, diff)`` (see `write_changes_bulk`); returns rows."""
    return write_changes_bulk(
        changeset,
        (
            (obj._meta.model_name, obj.pk, obj.region_code, action, diff)
            for obj, action, diff in rows
        ),
        batch_size=batch_size,
    )


_CHANGE_FIELDS = ("changeset", "entity", "entity_id", "region_code", "action", "diff")


def write_changes_bulk(
    changeset: ChangeSet,
    rows: Iterable[tuple[str, int, str, str, dict[str, Any]]],
    *,
    batch_size: int = 2000,
) -> int:
    """Append ``(entity, entity_id, region_code, action, diff)`` rows to the history.

    PostgreSQL: ONE ``COPY … FROM STDIN`` whatever the number of rows (no parameter binding,
    no per-batch statement; ≈ 3 × faster than a batched INSERT at 90 k rows). Other
    databases: `bulk_create`, one INSERT per `batch_size` rows. Rows are written sorted by
    (entity_id, entity), the order of the history index, so its inserts walk the index
    forward instead of landing on random pages. Returns the number of rows written.
    """
    ordered = sorted(rows, key=lambda r: (r[1], r[0]))
    if not ordered:
        return 0
    if connection.vendor == "sqlite":
        # One executemany of plain tuples (no model instances), like the COPY below.
        q = connection.ops.quote_name
        columns = ", ".join(q(Change._meta.get_field(name).column) for name in _CHANGE_FIELDS)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {q(Change._meta.db_table)} ({columns}) "  # noqa: S608
                f"VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (changeset.pk, entity, entity_id, region_code, action, json.dumps(diff))
                    for entity, entity_id, region_code, action, diff in ordered
                ],
            )
        return len(ordered)
    if connection.vendor != "postgresql":
        Change.objects.bulk_create(
            (
                Change(
                    changeset=changeset,
                    entity=entity,
                    entity_id=entity_id,
                    region_code=region_code,
                    action=action,
                    diff=diff,
                )
                for entity, entity_id, region_code, action, diff in ordered
            ),
            batch_size=batch_size,
        )
        return len(ordered)
    q = connection.ops.quote_name
    columns = ", ".join(q(Change._meta.get_field(name).column) for name in _CHANGE_FIELDS)
    sql = f"COPY {q(Change._meta.db_table)} ({columns}) FROM STDIN"
    bulkpipe.settle()
    with connection.cursor() as cursor:
        # Django does not log COPY; record it like a query so query counts stay honest.
        debug = getattr(cursor, "debug_sql", None)
        with debug(sql) if debug else contextlib.nullcontext(), cursor.cursor.copy(sql) as copy:
            for entity, entity_id, region_code, action, diff in ordered:
                copy.write_row(
                    (changeset.pk, entity, entity_id, region_code, action, json.dumps(diff))
                )
    return len(ordered)


def sync_memberships_bulk(person_ids: Sequence[int]) -> None:
    """Copy relation_kk of `person_ids` onto their open family memberships: one UPDATE."""
    if not person_ids:
        return
    where, params = ids_condition("person_id", person_ids)
    m = connection.ops.quote_name(FamilyMembership._meta.db_table)
    p = connection.ops.quote_name(Person._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {m} SET relation_kk = (SELECT relation_kk FROM {p} "  # noqa: S608
            f"WHERE {p}.id = {m}.person_id) WHERE valid_to IS NULL AND {where}",
            params,
        )


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """`n` new ids of `model`: from its sequence (PostgreSQL), or after its highest id and
    AUTOINCREMENT counter under the write lock the transaction holds (SQLite)."""
    meta = model._meta
    if n == 0:
        return []
    if connection.vendor == "postgresql":
        # The sequence is looked up once (an uncorrelated sub-select: one InitPlan):
        # pg_get_serial_sequence inside the series would run per row, a catalogue lookup
        # each, 10x the nextval itself. Usually one contiguous run (no other session drew
        # meanwhile): then only its ends travel back, not n rows; else the ids themselves.
        series = (
            "SELECT nextval((SELECT pg_get_serial_sequence(%s, %s)::regclass)) AS v "
            "FROM generate_series(1, %s)"
        )
        ends = f"SELECT min(v), max(v) FROM ({series}) AS s"  # noqa: S608 — constant SQL
        params = [meta.db_table, meta.pk.column, n]
        pipe = bulkpipe.current()  # in a pipeline: drawn beside the queued writes
        run = pipe.reserve_ids if pipe is not None else _fetch_all
        low, high = run(ends, params)[0]
        if high - low + 1 == n:
            return list(range(low, high + 1))
        return [row[0] for row in run(series, params)]
    q = connection.ops.quote_name
    pk, table = q(meta.pk.column), q(meta.db_table)
    (top,) = _fetch_all(
        f"SELECT MAX(COALESCE((SELECT MAX({pk}) FROM {table}), 0), "  # noqa: S608 — meta names
        "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
        [meta.db_table],
    )[0]
    return list(range(top + 1, top + n + 1))


def _fetch_all(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def insert_rows_bulk(
    model: type[models.Model], objs: list[models.Model], *, batch_size: int = 2000
) -> list[models.Model]:
    """`bulk_create` of new `objs` (pks set on them), as few statements as the database allows.

    PostgreSQL: the pks are drawn from the table's own sequence (one SELECT) and every row
    goes in ONE ``COPY … FROM STDIN``: Django's bulk INSERT spends ≈ 140 µs of Python a
    Person row building its SQL, COPY a fraction of that. Values are prepared by the model
    fields as the ORM would, ``auto_now``/``auto_now_add`` columns set as ``pre_save`` does.
    SQLite: the same prepared values through one ``executemany`` (see `_insert_rows_sqlite`).
    Other databases: `bulk_create` (one INSERT per `batch_size` rows).
    """
    if connection.vendor == "sqlite" and objs:
        return _insert_rows_sqlite(model, objs)
    if connection.vendor != "postgresql" or not objs:
        return model.objects.bulk_create(objs, batch_size=batch_size)
    meta = model._meta
    ids = reserve_ids(model, len(objs))
    now = timezone.now()
    fields = meta.concrete_fields
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                setattr(obj, f.attname, now)
    plain = [(f.attname, _plain_type(f), f) for f in fields]
    q = connection.ops.quote_name
    sql = f"COPY {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) FROM STDIN"
    bulkpipe.settle()
    with connection.cursor() as cursor:
        debug = getattr(cursor, "debug_sql", None)  # log COPY like a query (query counts)
        with debug(sql) if debug else contextlib.nullcontext(), cursor.cursor.copy(sql) as copy:
            for obj in objs:
                row = []
                for attname, kind, f in plain:
                    value = getattr(obj, attname)
                    if value is not None and type(value) is not kind:
                        value = f.get_db_prep_save(value, connection)
                    row.append(value)
                copy.write_row(row)
    return objs


def _insert_rows_sqlite(model: type[models.Model], objs: list[models.Model]) -> list[models.Model]:
    """SQLite branch of `insert_rows_bulk` (added for imports): Django's bulk INSERT builds
    its SQL per row and field (≈ 100 µs a Person row, 20 rows a statement under SQLite's 999
    parameters); here the values are prepared as in the PostgreSQL branch and written by one
    ``executemany``; the ids come from `reserve_ids`.
    """
    meta = model._meta
    q = connection.ops.quote_name
    table = q(meta.db_table)
    fields = meta.concrete_fields
    outer = transaction.atomic() if not connection.in_atomic_block else contextlib.nullcontext()
    with outer, connection.cursor() as cursor:
        now = timezone.now()
        for obj, pk in zip(objs, reserve_ids(model, len(objs)), strict=True):
            obj.pk = pk
        for obj in objs:
            obj._state.adding, obj._state.db = False, connection.alias
            for f in fields:
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    setattr(obj, f.attname, now)
        plain = [(f.attname, _plain_type(f), f) for f in fields]
        # Dates and timestamps repeat (one `now` per call): prepare each distinct one once.
        memo: dict[tuple[str, Any], Any] = {}
        rows = []
        for obj in objs:
            row = []
            for attname, kind, f in plain:
                value = getattr(obj, attname)
                if value is not None and type(value) is not kind:
                    key = (attname, value) if isinstance(value, dt.date) else None
                    if key is None:
                        value = f.get_db_prep_save(value, connection)
                    elif key in memo:
                        value = memo[key]
                    else:
                        value = memo[key] = f.get_db_prep_save(value, connection)
                row.append(value)
            rows.append(row)
        columns = ", ".join(q(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 — meta names
            rows,
        )
    return objs


@dataclass(frozen=True)
class HouseholdBundle:
    """One new household for `create_households_bulk`; `key` prefixes its issue paths."""

    key: str
    region: Region
    families: Sequence[Mapping[str, Any]]
    household_fields: Mapping[str, Any] | None = None


@dataclass
class BulkCreated:
    households: list[Household]
    families: list[Family]
    persons: list[Person]


def create_households_bulk(
    changeset: ChangeSet,
    bundles: Sequence[HouseholdBundle],
    *,
    stamp: Mapping[str, Any] | None = None,
    batch_size: int = 2000,
) -> BulkCreated:
    """`create_household` for many bundles at once, with the same cleaning and derivation.

    Every bundle is checked first; any error refuses the lot (RegistryError, paths prefixed
    with the bundle's key). Then per table one `insert_rows_bulk` (PostgreSQL: ids from the
    sequence + one COPY; elsewhere a bulk INSERT per batch), one UPDATE for the family heads
    and the CREATE Change rows (`write_changes_bulk`).
    `stamp` sets columns on every new household, family and person (``penetapan_period``).
    """
    stamp = dict(stamp or {})
    issues: list[RecordIssue] = []
    cleaned = []
    for bundle in bundles:
        if bundle.region.level != Level.DESA or bundle.region.valid_to is not None:
            issues.append(_region_not_desa(f"{bundle.key}.region"))
        hh_values, fam_rows, found = _clean_bundle(bundle.families, bundle.household_fields)
        issues += [replace(i, path=f"{bundle.key}.{i.path}") for i in found]
        cleaned.append((bundle.region, hh_values, fam_rows))
    _raise_if_errors(issues)
    today = timezone.localdate()
    households = insert_rows_bulk(
        Household,
        [
            Household(region=region, region_code=region.digits, **{**hh_values, **stamp})
            for region, hh_values, _ in cleaned
        ],
        batch_size=batch_size,
    )
    families: list[Family] = []
    for household, (_, _, fam_rows) in zip(households, cleaned, strict=True):
        families += [
            Family(household=household, region_code=household.region_code, **{**v, **stamp})
            for v, _ in fam_rows
        ]
    families = insert_rows_bulk(Family, families, batch_size=batch_size)
    persons: list[Person] = []
    fam_iter = iter(families)
    for household, (_, _, fam_rows) in zip(households, cleaned, strict=True):
        for _, members in fam_rows:
            family = next(fam_iter)
            for values in members:
                person = Person(
                    household=household,
                    family=family,
                    region_code=household.region_code,
                    **{**values, **stamp},
                )
                _derive_person(person)
                persons.append(person)
    persons = insert_rows_bulk(Person, persons, batch_size=batch_size)
    heads: dict[int, int] = {}
    for person in persons:
        if person.relation_kk == RELATION_HEAD:
            heads.setdefault(person.family_id, person.pk)
    write_rows_bulk(Family, {fam: {"head": person} for fam, person in heads.items()})
    insert_rows_bulk(
        FamilyMembership,
        [
            FamilyMembership(
                person_id=p.pk,
                family_id=p.family_id,
                region_code=p.region_code,
                relation_kk=p.relation_kk,
                valid_from=today,
            )
            for p in persons
        ],
        batch_size=batch_size,
    )
    create = Change.Action.CREATE.value
    write_changes_bulk(
        changeset,
        (
            (obj._meta.model_name, obj.pk, obj.region_code, create, {})
            for objs in (households, families, persons)
            for obj in objs
        ),
        batch_size=batch_size,
    )
    return BulkCreated(households, families, persons)


# --- set-based creation of already-cleaned households (imports) -----------------------------
# `create_households_bulk` cleans every value again and builds model instances (40–90 µs a
# Person). An import has cleaned every value already in its dry run, with `_clean_fields` and
# `check_nik`/`check_no_kk` per distinct value; `create_households_precleaned` takes those
# values as Polars columns and writes the same rows — defaults, derived columns
# (`_derive_person`, per distinct value), heads, memberships and CREATE history — with one
# COPY (PostgreSQL) / executemany (SQLite) per table. tests/test_records_precleaned.py
# proves that bundles written both ways give identical rows.

HH, FAM = "_hh", "_fam"  # the key columns linking the frames


@dataclass
class Precleaned:
    """New households as columns of values already cleaned by `_clean_bundle`'s rules.

    * `households`: ``_hh`` (key), ``region_id``, ``region_code`` (a current desa), and any
      of HOUSEHOLD_CREATE_FIELDS;
    * `families`: ``_fam`` (key), ``_hh``, any of FAMILY_CREATE_FIELDS (``nuk`` missing or
      null = 1, 2, … in frame order within the household, as `_clean_bundle` numbers them);
    * `persons`: ``_hh``, ``_fam``, any of PERSON_CREATE_FIELDS (``member_no`` missing or
      null = 1, 2, … in frame order within the household).

    A null is the field's default, as a key left out of a bundle. Rows are written in frame
    order (families and persons in the order `_clean_bundle` would list them).
    """

    households: Any  # pl.DataFrame
    families: Any
    persons: Any
    # Programme memberships to open (from today, status aktif): {Program id: Program.target};
    # `persons` then carries a Boolean column ``_prog_<id>`` per programme. A person-target
    # programme goes to each person flagged True, a family-target one to each family with
    # at least one member flagged True. `programme_source` fills ProgramMembership.source.
    programmes: Mapping[int, str] | None = None
    programme_source: str = ""


def precleaned_from_bundles(bundles: Sequence[HouseholdBundle]) -> Precleaned:
    """Clean `bundles` with `_clean_bundle` (RegistryError on any error, paths prefixed
    with the bundle key) and return them as `Precleaned` frames (tests, small callers)."""
    import polars as pl

    issues: list[RecordIssue] = []
    hh_rows, fam_rows, person_rows = [], [], []
    for h, bundle in enumerate(bundles):
        if bundle.region.level != Level.DESA or bundle.region.valid_to is not None:
            issues.append(_region_not_desa(f"{bundle.key}.region"))
        hh_values, families, found = _clean_bundle(bundle.families, bundle.household_fields)
        issues += [replace(i, path=f"{bundle.key}.{i.path}") for i in found]
        hh_rows.append(
            {HH: h, "region_id": bundle.region.pk, "region_code": bundle.region.digits, **hh_values}
        )
        for fam_values, members in families:
            f = len(fam_rows)
            fam_rows.append({FAM: f, HH: h, **fam_values})
            person_rows += [{HH: h, FAM: f, **values} for values in members]
    _raise_if_errors(issues)

    def frame(model: type[models.Model], rows: list[dict[str, Any]]) -> pl.DataFrame:
        names = list(dict.fromkeys(k for row in rows for k in row))
        for row in rows:
            for k, v in row.items():
                if isinstance(v, Decimal):
                    row[k] = str(v)
        schema = {n: _polars_type(model, n) for n in names}
        return pl.DataFrame(
            {n: [row.get(n) for row in rows] for n in names}, schema=schema, strict=False
        )

    return Precleaned(
        frame(Household, hh_rows), frame(Family, fam_rows), frame(Person, person_rows)
    )


def _polars_type(model: type[models.Model], name: str) -> Any:
    import polars as pl

    if name in (HH, FAM):
        return pl.Int64
    field = model._meta.get_field(name)
    if isinstance(field, models.ForeignKey):
        return pl.Int64
    if isinstance(field, models.DateTimeField):
        return pl.Datetime("us", "UTC")
    if isinstance(field, models.DateField):
        return pl.Date
    if isinstance(field, models.BooleanField):
        return pl.Boolean
    if isinstance(field, models.IntegerField | models.BigAutoField | models.AutoField):
        return pl.Int64
    return pl.String


def _full_rows(model: type[models.Model], frame: Any, *, now: dt.datetime, ids: bool) -> Any:
    """`frame` (columns named by field name/attname) as every concrete column of `model`,
    in db column names and values prepared for the database: defaults where missing or
    null, auto_now(_add) = `now` (left out where the column has a database default),
    dates/timestamps as text (SQLite storage, COPY input)."""
    import polars as pl

    exprs = []
    for f in model._meta.concrete_fields:
        if f.primary_key and not ids:
            continue
        name = f.attname if f.attname in frame.columns else f.name
        dtype = _polars_type(model, f.name)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            if f.db_default is models.NOT_PROVIDED:
                exprs.append(pl.lit(_timestamp_text(now)).alias(f.column))
            continue  # else left out: the database's default (the statement's time) fills it
        default = None if f.primary_key else f.get_default()
        if name in frame.columns:
            expr = pl.col(name).cast(dtype, strict=True)
            if default is not None:
                expr = expr.fill_null(pl.lit(default, dtype=dtype))
        else:
            expr = pl.lit(default, dtype=dtype)
        if dtype == pl.Date:
            expr = expr.cast(pl.String)
        elif isinstance(dtype, pl.Datetime):
            expr = expr.map_elements(_timestamp_text, return_dtype=pl.String)
        elif isinstance(f, models.JSONField | models.DecimalField):
            expr = expr.cast(pl.String)
        exprs.append(expr.alias(f.column))
    return frame.select(exprs)


def _timestamp_text(value: dt.datetime) -> str:
    """A timestamp as the database takes it in text: SQLite as Django stores it (naive
    UTC), PostgreSQL ISO 8601 with its offset."""
    if connection.vendor == "postgresql":
        return value.isoformat()
    return str(Person._meta.get_field("created_at").get_db_prep_save(value, connection))


def _write_frame(model: type[models.Model], frame: Any, keys: KeyCheck | None = None) -> None:
    """INSERT the prepared `frame` (see `_full_rows`): one COPY (PostgreSQL, text format
    written by Polars), one executemany (SQLite), else `bulk_create`. With `keys` (a
    `bulkkeys.set_checked_keys` block) the frame's foreign keys are registered there."""
    if frame.is_empty():
        return
    if keys is not None:
        keys.add(model, frame)
    # Columns null on every row are left out: they are NULL without being sent (unless the
    # column has a database default), and most of a new household's ≈ 70 are.
    by_column = {f.column: f for f in model._meta.concrete_fields}
    nulls = frame.null_count().row(0)
    frame = frame.select(
        c
        for c, n in zip(frame.columns, nulls, strict=True)
        if n < frame.height or by_column[c].db_default is not models.NOT_PROVIDED
    )
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    columns = ", ".join(q(c) for c in frame.columns)
    if connection.vendor == "postgresql":
        sql = f"COPY {table} ({columns}) FROM STDIN"
        data = _copy_text(frame)
        pipe = bulkpipe.current()
        if pipe is not None:  # the writer thread sends it while we prepare the next frame
            if connection.queries_logged:
                connection.queries_log.append({"sql": sql, "time": "0.000"})
            pipe.submit(partial(_copy_data, sql=sql, data=data))
            return
        with connection.cursor() as cursor:
            debug = getattr(cursor, "debug_sql", None)  # log COPY like a query (query counts)
            with debug(sql) if debug else contextlib.nullcontext(), cursor.cursor.copy(sql) as cp:
                cp.write(data)
        return
    if connection.vendor == "sqlite":
        marks = ", ".join(["%s"] * len(frame.columns))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 — meta names
                frame.rows(),
            )
        return
    model.objects.bulk_create(
        [
            model(**{by_column[c].attname: v for c, v in zip(frame.columns, row, strict=True)})
            for row in frame.rows()
        ],
        batch_size=2000,
    )


# PostgreSQL's text COPY format: tab-separated, \N for null, and these four escaped in
# values. PostgreSQL parses it ≈ 10 % faster than csv (no quotes to look for).
_TEXT_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def _copy_text(frame: Any) -> bytes:
    """`frame` (prepared by `_full_rows`) as COPY text-format input."""
    import polars as pl

    escaped = []
    for name, dtype in frame.schema.items():
        expr = pl.col(name)
        if dtype == pl.String:
            for char, escape in _TEXT_ESCAPES:  # backslash first: the others add some
                expr = expr.str.replace_all(char, escape, literal=True)
        escaped.append(expr)
    text = frame.select(escaped).write_csv(
        include_header=False, separator="\t", quote_style="never", null_value="\\N"
    )
    return text.encode()


def _copy_data(raw: Any, *, sql: str, data: bytes) -> None:
    """COPY `data` on the psycopg connection `raw` (a `bulkpipe` writer's work)."""
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(data)


def _mapped(expr: Any, fn: Any, values: Iterable[Any], dtype: Any) -> Any:
    """`expr` mapped through `fn` once per distinct value (name normalisation is costly)."""
    import polars as pl

    distinct = list(values)
    return expr.replace_strict(
        distinct, [fn(v) for v in distinct], default=None, return_dtype=dtype
    ) if distinct else pl.lit(None, dtype=dtype)  # fmt: skip


def create_households_precleaned(
    changeset: ChangeSet, data: Precleaned, *, stamp: Mapping[str, Any] | None = None
) -> tuple[int, int, int]:
    """Write `data` (already cleaned, see `Precleaned`) as `create_households_bulk` would:
    the same rows, defaults, derived columns, heads, memberships and CREATE Change rows, in
    the caller's transaction; one bulk write per table. Refuses regions that are not a
    current desa. Returns (households, families, persons) written."""
    import polars as pl

    households, families, persons = data.households, data.families, data.persons
    region_ids = households.get_column("region_id").unique().to_list() if households.height else []
    # In a pipeline the desa already checked by an earlier call are not asked again (a query
    # would wait for the queued writes).
    pipe = bulkpipe.current()
    known: set[int] = pipe.cache.setdefault("desa", set()) if pipe is not None else set()
    region_ids = [pk for pk in region_ids if pk not in known]
    if region_ids:
        ok = Region.objects.filter(pk__in=region_ids, level=Level.DESA, valid_to__isnull=True)
        if ok.count() != len(region_ids):
            raise RegistryError([_region_not_desa("region")])
        known.update(region_ids)
    stamp = dict(stamp or {})
    now, today = timezone.now(), timezone.localdate()
    if stamp:
        households = households.with_columns(pl.lit(v).alias(k) for k, v in stamp.items())
        families = families.with_columns(pl.lit(v).alias(k) for k, v in stamp.items())
        persons = persons.with_columns(pl.lit(v).alias(k) for k, v in stamp.items())
    households = households.with_columns(
        pl.Series("id", reserve_ids(Household, households.height), dtype=pl.Int64)
    )
    families = families.with_columns(
        pl.Series("id", reserve_ids(Family, families.height), dtype=pl.Int64)
    )
    persons = persons.with_columns(
        pl.Series("id", reserve_ids(Person, persons.height), dtype=pl.Int64)
    )
    hh_keys = households.select(
        pl.col(HH), pl.col("id").alias("household_id"), pl.col("region_code").alias("_code")
    )
    families = families.join(hh_keys, on=HH, how="left", maintain_order="left").with_columns(
        pl.col("_code").alias("region_code")
    )
    if "nuk" not in families.columns:
        families = families.with_columns(pl.lit(None, dtype=pl.Int64).alias("nuk"))
    families = families.with_columns(
        pl.col("nuk").fill_null(pl.int_range(1, pl.len() + 1).over(HH))
    )
    persons = persons.join(hh_keys, on=HH, how="left", maintain_order="left").join(
        families.select(FAM, pl.col("id").alias("family_id")), on=FAM, how="left",
        maintain_order="left",
    ).with_columns(pl.col("_code").alias("region_code"))  # fmt: skip
    if "member_no" not in persons.columns:
        persons = persons.with_columns(pl.lit(None, dtype=pl.Int64).alias("member_no"))
    persons = persons.with_columns(
        pl.col("member_no").fill_null(pl.int_range(1, pl.len() + 1).over(HH))
    )
    # Derived columns as _derive_person computes them, once per distinct source value.
    for name in ("name", "mother_name", "employment_status"):
        if name not in persons.columns:
            dtype = _polars_type(Person, name)
            default = Person._meta.get_field(name).get_default()
            persons = persons.with_columns(pl.lit(default, dtype=dtype).alias(name))
    persons = persons.with_columns(pl.col("mother_name").fill_null(""))
    persons = persons.with_columns(
        _mapped(
            pl.col("name"), normalise_name, persons["name"].drop_nulls().unique(), pl.String
        ).alias("name_norm"),
        _mapped(
            pl.col("mother_name"),
            lambda m: normalise_name(m) if m else "",
            persons["mother_name"].unique(),
            pl.String,
        ).alias("mother_name_norm"),
        _mapped(
            pl.col("employment_status"),
            is_informal,
            persons["employment_status"].drop_nulls().unique(),
            pl.Boolean,
        ).alias("informal_work"),
    )
    if "relation_kk" in persons.columns:
        heads = (
            persons.filter(pl.col("relation_kk") == RELATION_HEAD)
            .group_by("family_id", maintain_order=True)
            .agg(pl.col("id").first().alias("head_id"))
        )
        families = families.join(
            heads, left_on="id", right_on="family_id", how="left", maintain_order="left"
        )
    written = (Household, Family, Person, FamilyMembership, ProgramMembership, Change)
    with set_checked_keys(written) as keys:
        _write_precleaned(changeset, data, households, families, persons, now, today, keys)
    return households.height, families.height, persons.height


def _write_precleaned(
    changeset: ChangeSet,
    data: Precleaned,
    households: Any,
    families: Any,
    persons: Any,
    now: dt.datetime,
    today: dt.date,
    keys: KeyCheck | None,
) -> None:
    """The writes of `create_households_precleaned`, one per table, registered with `keys`."""
    import polars as pl

    # Families point at their head before the persons exist: the key is checked at commit
    # (Django's foreign keys are DEFERRABLE INITIALLY DEFERRED on both databases) or, in a
    # `set_checked_keys` block, on leaving it.
    _write_frame(Household, _full_rows(Household, households, now=now, ids=True), keys)
    _write_frame(Family, _full_rows(Family, families, now=now, ids=True), keys)
    _write_frame(Person, _full_rows(Person, persons, now=now, ids=True), keys)
    memberships = persons.select(
        pl.col("id").alias("person_id"),
        "family_id",
        "region_code",
        (
            pl.col("relation_kk")
            if "relation_kk" in persons.columns
            else pl.lit(None, dtype=pl.Int64)
        ).alias("relation_kk"),
        pl.lit(today).alias("valid_from"),
    )
    _write_frame(
        FamilyMembership,
        _full_rows(FamilyMembership, _with_ids(FamilyMembership, memberships), now=now, ids=True),
        keys,
    )
    programmes = _programme_rows(data, persons, today)
    if programmes.height:
        programmes = _with_ids(ProgramMembership, programmes)
        _write_frame(
            ProgramMembership, _full_rows(ProgramMembership, programmes, now=now, ids=True), keys
        )
    # History in (entity_id, entity) order, as write_changes_bulk writes it.
    create = Change.Action.CREATE.value
    history = (
        pl.concat(
            [
                frame.select(
                    pl.lit(entity).alias("entity"),
                    pl.col("id").alias("entity_id"),
                    pl.col("region_code"),
                )
                for entity, frame in (
                    ("family", families),
                    ("household", households),
                    ("person", persons),
                    ("programmembership", programmes),
                )
                if frame.height or entity != "programmembership"
            ]
        )
        .sort("entity_id", "entity")
        .with_columns(
            pl.lit(changeset.pk, dtype=pl.Int64).alias("changeset_id"),
            pl.lit(create).alias("action"),
            pl.lit("{}").alias("diff"),
        )
    )
    _write_frame(Change, _full_rows(Change, _with_ids(Change, history), now=now, ids=True), keys)


def _with_ids(model: type[models.Model], frame: Any) -> Any:
    """`frame` with an ``id`` column of new ids: drawn in Python (beside a pipeline's
    queued writes) rather than by the column default, row by row, inside the COPY."""
    import polars as pl

    ids = reserve_ids(model, frame.height)
    return frame.with_columns(pl.Series("id", ids, dtype=pl.Int64))


def _programme_rows(data: Precleaned, persons: Any, today: dt.date) -> Any:
    """The ProgramMembership rows `data.programmes` asks for (see `Precleaned`), as a frame
    of model columns (``program_id``, ``person_id``/``family_id``, ``region_code``, period,
    status, source) in (programme, person/family) order; empty without programmes."""
    import polars as pl

    schema = {
        "program_id": pl.Int64,
        "person_id": pl.Int64,
        "family_id": pl.Int64,
        "region_code": pl.String,
    }
    parts = []
    for program_id, target in (data.programmes or {}).items():
        flag = f"_prog_{program_id}"
        if flag not in persons.columns:
            continue
        flagged = persons.filter(pl.col(flag).fill_null(False))
        if target == Program.Target.PERSON:
            rows = flagged.select(
                pl.col("id").alias("person_id"),
                pl.lit(None, dtype=pl.Int64).alias("family_id"),
                "region_code",
            )
        else:
            rows = (
                flagged.group_by("family_id", maintain_order=True)
                .agg(pl.col("region_code").first())
                .select(pl.lit(None, dtype=pl.Int64).alias("person_id"), "family_id", "region_code")
            )
        parts.append(rows.select(pl.lit(program_id, dtype=pl.Int64).alias("program_id"), pl.all()))
    if not parts:
        return pl.DataFrame(schema=schema)
    return (
        pl.concat([p.cast(schema) for p in parts])
        .sort("program_id", "person_id", "family_id", nulls_last=True)
        .with_columns(
            pl.lit(today).alias("period_from"),
            pl.lit(ProgramMembership.Status.AKTIF.value).alias("status"),
            pl.lit(data.programme_source[:40]).alias("source"),
        )
    )
