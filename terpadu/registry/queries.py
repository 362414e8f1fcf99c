"""Reads of the registry (selectors). Every one filters through `in_scope` first.

Lists select their related rows in the same query so a page costs the same number of
queries for 5 or 25 rows; detail reads prefetch members, programmes and PPKS in a fixed
number of queries whatever the household size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from terpadu.accounts.access import Action, in_scope
from terpadu.lib.names import normalise_name
from terpadu.lib.nik import check_nik
from terpadu.regions.models import prefix_q
from terpadu.registry.models import (
    Change,
    Family,
    FamilyMembership,
    Household,
    Person,
    PersonPPKS,
    ProgramMembership,
    RecordStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from terpadu.accounts.models import User

MIN_NIK_PREFIX = 6  # a kecamatan of registration: narrower prefixes match too much
MIN_NAME = 2
_NUMERIC = re.compile(r"^[\d\s.\-]+$")
_SCIENTIFIC = re.compile(r"^\d(?:[.,]\d+)?[eE]\+?\d+$")  # 3.57301E+15 from Excel


@dataclass
class ParsedQuery:
    """What a search box input means: a NIK/No KK, a NIK prefix, a name, or nothing."""

    kind: str  # "empty" | "id" | "nik_prefix" | "name" | "invalid"
    value: str = ""
    notes: list[str] = field(default_factory=list)  # validator messages shown to the user

    @property
    def ok(self) -> bool:
        return self.kind != "invalid"


def parse_query(raw: str | None) -> ParsedQuery:
    """Classify search input without touching the database.

    16 digits search both NIK and No KK; 6–15 digits are a NIK prefix; anything else is a
    name. A 16-digit input that fails the NIK rules is still searched (legacy rows hold
    such NIKs) and the validator's message is returned as a note.
    """
    text = (raw or "").strip()
    if not text:
        return ParsedQuery("empty")
    if _SCIENTIFIC.match(text):
        return ParsedQuery(
            "invalid",
            text,
            [
                _(
                    "Angka ini tertulis dalam notasi ilmiah (mis. dari Excel) sehingga digit NIK "
                    "hilang. Ketik ulang NIK sebagai teks 16 digit."
                )
            ],
        )
    if _NUMERIC.match(text):
        digits = re.sub(r"\D", "", text)
        if len(digits) == 16:
            check = check_nik(digits)
            notes = [
                _("Bukan NIK yang sah: %(msg)s") % {"msg": _issue_text(i)} for i in check.errors
            ]
            return ParsedQuery("id", digits, notes)
        if len(digits) > 16:
            return ParsedQuery(
                "invalid",
                digits,
                [
                    _("NIK dan No KK terdiri dari 16 digit; masukan ini %(n)d digit.")
                    % {"n": len(digits)}
                ],
            )
        if len(digits) < MIN_NIK_PREFIX:
            return ParsedQuery(
                "invalid",
                digits,
                [
                    _("Cari NIK dengan sedikitnya %(n)d digit awal, atau cari dengan nama.")
                    % {"n": MIN_NIK_PREFIX}
                ],
            )
        return ParsedQuery("nik_prefix", digits)
    name = normalise_name(text)
    if len(name) < MIN_NAME:
        return ParsedQuery("invalid", name, [_("Nama terlalu pendek untuk dicari.")])
    return ParsedQuery("name", name)


def _issue_text(issue: Any) -> str:
    from django.utils.translation import get_language

    lang = get_language() or "id"
    return issue.message_en if lang.startswith("en") else issue.message_id


def search_persons(
    user: User | AnonymousUser,
    *,
    q: str | ParsedQuery | None,
    status: str | None = None,
    region: str | None = None,
) -> QuerySet[Person]:
    """Persons in `user`'s scope matching `q` (NIK, No KK, NIK prefix or name).

    `region` is a digits prefix (kecamatan/desa) narrowing within scope; `status` one of
    RecordStatus. Invalid input matches nothing; call `parse_query` to explain why.
    Names match at the start of any word of the normalised name.
    """
    parsed = q if isinstance(q, ParsedQuery) else parse_query(q)
    qs = in_scope(Person.objects.all(), user, Action.LIST)
    if parsed.kind == "invalid":
        return qs.none()
    if parsed.kind == "id":
        # The families holding that No KK first (one indexed lookup, usually one row): a
        # single OR across the family join can only be answered by reading every person.
        families = list(Family.objects.filter(no_kk=parsed.value).values_list("pk", flat=True))
        qs = qs.filter(Q(nik=parsed.value) | Q(family_id__in=families))
    elif parsed.kind == "nik_prefix":
        qs = qs.filter(prefix_q("nik", parsed.value))
    elif parsed.kind == "name":
        # Word-start match; PostgreSQL deployments add a trigram index (see README) for scale.
        qs = qs.filter(
            Q(name_norm__startswith=parsed.value) | Q(name_norm__contains=f" {parsed.value}")
        )
    if status:
        if status not in RecordStatus.values:
            return qs.none()
        qs = qs.filter(status=status)
    if region:
        qs = qs.filter(prefix_q("region_code", region))
    return qs.select_related("household__region", "family").order_by("name_norm", "pk")


def _members_qs() -> QuerySet[Person]:
    return Person.objects.order_by("family__nuk", "member_no", "pk")


def household_for_user(user: User | AnonymousUser, pk: int) -> Household:
    """One household for its detail page (Action.VIEW); 404 when out of scope.

    Families, members, programme memberships and PPKS come prefetched: the query count
    does not grow with the household's size.
    """
    qs = (
        in_scope(Household.objects.all(), user, Action.VIEW)
        .select_related("region__parent__parent__parent")
        .prefetch_related(
            Prefetch(
                "families",
                queryset=Family.objects.order_by("nuk", "pk").prefetch_related(
                    Prefetch(
                        "programs",
                        queryset=ProgramMembership.objects.select_related("program").order_by(
                            "-period_from"
                        ),
                    ),
                ),
            ),
            Prefetch(
                "members",
                queryset=_members_qs().prefetch_related(
                    Prefetch(
                        "programs",
                        queryset=ProgramMembership.objects.select_related("program").order_by(
                            "-period_from"
                        ),
                    ),
                    Prefetch(
                        "ppks",
                        queryset=PersonPPKS.objects.select_related("ppks_type").order_by(
                            "ppks_type__code"
                        ),
                    ),
                ),
            ),
        )
    )
    return get_object_or_404(qs, pk=pk)


def person_for_user(user: User | AnonymousUser, pk: int) -> Person:
    """One person for its detail page (Action.VIEW); 404 when out of scope."""
    qs = (
        in_scope(Person.objects.all(), user, Action.VIEW)
        .select_related(
            "household__region__parent__parent__parent",
            "family",
        )
        .prefetch_related(
            Prefetch(
                "programs",
                queryset=ProgramMembership.objects.select_related("program").order_by(
                    "-period_from"
                ),
            ),
            Prefetch(
                "ppks",
                queryset=PersonPPKS.objects.select_related("ppks_type").order_by("ppks_type__code"),
            ),
            Prefetch(
                "memberships",
                queryset=FamilyMembership.objects.select_related("family").order_by(
                    "-valid_from", "-pk"
                ),
            ),
        )
    )
    return get_object_or_404(qs, pk=pk)


def history_for(entity: str, entity_id: int) -> QuerySet[Change]:
    """Change rows of one entity, newest first, with who/why/when in the same query."""
    return _history(Q(entity=entity, entity_id=entity_id))


def household_history(household: Household) -> QuerySet[Change]:
    """Changes to the household, its families, its members and their programme memberships
    (uses the prefetched families and members; one query for the memberships' ids)."""
    family_ids = [f.pk for f in household.families.all()]
    person_ids = [p.pk for p in household.members.all()]
    programme_ids = list(
        ProgramMembership.objects.filter(
            Q(family_id__in=family_ids) | Q(person_id__in=person_ids)
        ).values_list("pk", flat=True)
    )
    return _history(
        Q(entity="household", entity_id=household.pk)
        | Q(entity="family", entity_id__in=family_ids)
        | Q(entity="person", entity_id__in=person_ids)
        | Q(entity="programmembership", entity_id__in=programme_ids)
    )


def _history(cond: Q) -> QuerySet[Change]:
    return (
        Change.objects.filter(cond)
        .select_related("changeset__actor")
        .order_by("-changeset__at", "-pk")
    )
