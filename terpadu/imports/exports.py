"""Exports of scoped lists (registry search, BNBA of a region, proposals) to xlsx and csv.

One `Export` describes what is written (columns, rows, file name, whether NIK is masked); the
web views and the `export` management command build it with the same functions and only
differ in how the bytes leave (a streamed HTTP response or a file on disk).

Writing reuses the streaming writers of `terpadu.editions.exports` (one copy of the "NIK is a
text cell" rule): csv is comma-separated UTF-8 with a BOM, streamed in 64 KiB chunks; xlsx is
openpyxl write-only spilled to a temporary file. Rows come from `.values().iterator()` over
one query (joins, no N+1), so memory is bounded by a chunk, not by the export.

Person exports (search results and BNBA) use the import layout (`layout.PERSON_LIST_LAYOUT`
plus the meta columns ID_ART/ID_KELUARGA/ID_RUMAH_TANGGA/VERSI), so an exported file edited
in Excel and uploaded again is read as corrections of the same records.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.db.models import BigIntegerField, Max, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from terpadu.accounts.access import Action, can, covers, in_scope, log_access
from terpadu.accounts.models import AccessLog
from terpadu.editions import exports as writers
from terpadu.editions.exports import Column, Sheet
from terpadu.proposals.models import Kind, Proposal, ProposalEvent, Status, Target
from terpadu.proposals.queries import filtered_proposals
from terpadu.regions.models import prefix_q
from terpadu.registry import queries as registry_queries
from terpadu.registry.models import Change, Person, RecordStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest

    from terpadu.accounts.models import User

FORMATS = ("xlsx", "csv")
CHUNK_ROWS = 2000
XLSX_TYPE = writers.XLSX_CONTENT_TYPE
CSV_TYPE = "text/csv; charset=utf-8"
# Identifier columns masked unless the user holds Action.EXPORT_NIK for the exported region.
ID_KEYS = frozenset({"nik", "no_kk"})
# The meta columns that make an export a correction file when it comes back (contract).
META_KEYS = ("person_id", "family_id", "household_id", "row_version")
ACTIVE_STATUSES = (RecordStatus.AKTIF, RecordStatus.AKTIF_BERMASALAH)


@dataclass
class Export:
    """One export ready to be written: `rows` is a lazy iterator over dict rows."""

    kind: str  # "persons" | "bnba" | "proposals"
    stem: str  # file name without extension
    title: str  # sheet title (says when NIK is masked)
    columns: Sequence[Column]
    rows: Iterable[Mapping[str, Any]]
    unmask: bool
    region_code: str  # the prefix the export covers ("" = national)
    filters: str  # what was asked, for the access log

    def filename(self, fmt: str) -> str:
        return f"{self.stem}.{fmt}"


# --- writing --------------------------------------------------------------------------------


def iter_csv(export: Export) -> Iterator[bytes]:
    """The csv bytes of `export`, chunk by chunk (UTF-8 BOM first, comma separator)."""
    return writers.iter_csv(export.rows, export.columns, unmask=export.unmask)


def write_xlsx(export: Export) -> IO[bytes]:
    """The xlsx of `export` in a rewound temporary file (the caller closes it).

    No preamble lines: the header must be the first row so the file imports back as is.
    """
    sheet = Sheet(export.title, export.columns, export.rows)
    return writers.write_xlsx([sheet], unmask=export.unmask)


def write_file(export: Export, fmt: str, out: IO[bytes]) -> None:
    """Write `export` as `fmt` into the binary stream `out` (the CLI path)."""
    if fmt == "csv":
        for chunk in iter_csv(export):
            out.write(chunk)
        return
    with write_xlsx(export) as handle:
        shutil.copyfileobj(handle, out)


def response(export: Export, fmt: str) -> StreamingHttpResponse | FileResponse:
    """A download response: csv streamed as it is produced, xlsx from its temporary file."""
    name = export.filename(fmt)
    if fmt == "csv":
        resp = StreamingHttpResponse(iter_csv(export), content_type=CSV_TYPE)
        resp["Content-Disposition"] = f'attachment; filename="{name}"'
        return resp
    return FileResponse(
        write_xlsx(export), as_attachment=True, filename=name, content_type=XLSX_TYPE
    )


def _stem(base: str, prefix: str, unmask: bool) -> str:
    today = timezone.localdate().strftime("%Y%m%d")
    masked = "" if unmask else "-nik-disamarkan"
    return f"{base}-{prefix or 'nasional'}-{today}{masked}"


def _title(base: str, unmask: bool) -> str:
    # Excel limits sheet titles to 31 characters; both variants fit.
    return base if unmask else f"{base} (NIK disamarkan)"


def log_export(who: HttpRequest | User | None, export: Export, fmt: str) -> None:
    """Write the export to the access log (who, which list, filters, masked or not).

    `who` is the request (web), the user (CLI with --user) or None (CLI as the system).
    """
    note = "" if export.unmask else " (NIK disamarkan)"
    fields = {
        "action": "export",
        "entity": export.kind,
        "entity_id": f"{fmt}{note}",
        "region_code": export.region_code,
        "purpose": f"filter: {export.filters}",
    }
    if who is None:
        AccessLog.objects.create(user=None, **fields)
    else:
        log_access(who, **fields)


def system_user() -> User:
    """An unsaved national superuser for exports run from the command line without --user."""
    from terpadu.accounts.models import User

    return User(username="cli", is_superuser=True, is_active=True)


def may_unmask(user: User | AnonymousUser, prefix: str) -> bool:
    """Whether an export of `prefix` may carry NIK/No KK in clear (Action.EXPORT_NIK)."""
    return can(user, Action.EXPORT_NIK, prefix)


# --- persons (search results and BNBA) in the import layout ---------------------------------


def person_columns() -> list[Column]:
    """The export columns: PERSON_LIST_LAYOUT, then the meta columns not already in it."""
    from terpadu.imports import layout

    keys = list(layout.PERSON_LIST_LAYOUT)
    keys += [k for k in META_KEYS if k not in keys]
    out = []
    for key in keys:
        col = layout.column(key)
        out.append(
            Column(
                key,
                col.header,
                kind="text" if col.text or col.entity == layout.META else "",
                width=max(10, min(30, len(col.header) + 4)),
                nik=key in ID_KEYS,
            )
        )
    return out


def _person_lookups() -> dict[str, str]:
    """export key → the `values()` lookup on Person that feeds it (one join per relation)."""
    from terpadu.imports import layout

    lookups = {"person_id": "id", "family_id": "family_id", "household_id": "household_id"}
    prefix = {layout.PERSON: "", layout.FAMILY: "family__", layout.HOUSEHOLD: "household__"}
    for col in layout.COLUMNS:
        if col.field is not None and col.entity in prefix:
            lookups[col.key] = prefix[col.entity] + col.field
    return lookups


def version_expression() -> Coalesce:
    """The VERSI of each person row in SQL: the newest Change id of the person, its family or
    its household (0 when none), exactly `layout.versions_of` (test_exports_lists pins the two
    together). Three correlated lookups on the (entity, entity_id) index per row instead of
    three IN-list queries per chunk: ten times cheaper on PostgreSQL for a regency."""

    def newest(entity: str, ref: str) -> Coalesce:
        ids = (
            Change.objects.filter(entity=entity, entity_id=OuterRef(ref))
            .order_by()
            .values("entity_id")
            .annotate(v=Max("id"))
            .values("v")
        )
        return Coalesce(Subquery(ids), Value(0), output_field=BigIntegerField())

    return Coalesce(
        Greatest(
            newest("person", "pk"),
            newest("family", "family_id"),
            newest("household", "household_id"),
        ),
        Value(0),
        output_field=BigIntegerField(),
    )


def person_rows(qs: QuerySet[Person]) -> Iterator[dict[str, Any]]:
    """Dict rows in the export layout from a Person queryset: one query (joins and the
    version subqueries), streamed in chunks; values written by `layout.export_value`."""
    from terpadu.imports import layout

    keys = [c.key for c in person_columns()]
    lookups = {k: v for k, v in _person_lookups().items() if k in keys}
    if "row_version" in keys:
        qs = qs.annotate(export_version=version_expression())
        lookups["row_version"] = "export_version"
    names = list(dict.fromkeys(lookups.values()))
    rows = qs.values(*names).order_by(*_ORDER).iterator(chunk_size=CHUNK_ROWS)
    pairs = list(lookups.items())
    export_value = layout.export_value
    for raw in rows:
        row = {k: raw[v] for k, v in pairs}
        yield {k: export_value(k, row) for k in keys}


# Household by household, the head first, as on a BNBA sheet; stable for the same data.
_ORDER = ("region_code", "household_id", "family_id", "member_no", "id")


def persons_export(
    user: User | AnonymousUser,
    *,
    q: str = "",
    status: str = "",
    region: str = "",
) -> Export:
    """The registry search (same arguments as the search page) as an export.

    Uses `registry.queries.search_persons`, so the file holds exactly what the page lists.
    """
    parsed = registry_queries.parse_query(q)
    qs = registry_queries.search_persons(
        user, q=parsed, status=status or None, region=region or None
    )
    prefix = _narrowest(user, region)
    unmask = may_unmask(user, prefix)
    return Export(
        kind="persons",
        stem=_stem("individu", prefix, unmask),
        title=_title("Individu", unmask),
        columns=person_columns(),
        rows=person_rows(qs),
        unmask=unmask,
        region_code=prefix,
        filters=_describe(q=q, status=status, wilayah=region),
    )


def bnba_queryset(user: User | AnonymousUser, prefix: str) -> QuerySet[Person]:
    """Active persons (aktif and aktif bermasalah) of `prefix` within the user's scope."""
    qs = in_scope(Person.objects.all(), user, Action.LIST)
    if prefix:
        qs = qs.filter(prefix_q("region_code", prefix))
    return qs.filter(status__in=ACTIVE_STATUSES)


def bnba_export(user: User | AnonymousUser, *, region: str = "") -> Export:
    """BNBA (by name by address) of a region: every active person, household by household."""
    prefix = _narrowest(user, region)
    unmask = may_unmask(user, prefix)
    return Export(
        kind="bnba",
        stem=_stem("bnba", prefix, unmask),
        title=_title("BNBA", unmask),
        columns=person_columns(),
        rows=person_rows(bnba_queryset(user, prefix)),
        unmask=unmask,
        region_code=prefix,
        filters=_describe(wilayah=region),
    )


def _narrowest(user: User | AnonymousUser, region: str) -> str:
    """The prefix an export covers: the chosen region when inside the scope, else the scope."""
    scope = getattr(user, "scope", "") or ""
    return region if region and covers(user, region) else scope  # type: ignore[arg-type]


def _describe(**filters: str) -> str:
    return " ".join(f"{k}={v}" for k, v in filters.items() if v) or "-"


# --- proposals ------------------------------------------------------------------------------

PROPOSAL_COLUMNS: tuple[Column, ...] = (
    Column("id", "ID_USULAN", width=10),
    Column("kind", "JENIS", width=20),
    Column("status", "STATUS", width=26),
    Column("region_code", "KODE_WILAYAH", kind="text", width=13),
    Column("region_name", "DESA", width=22),
    Column("target", "SASARAN", width=14),
    Column("summary", "RINGKASAN", width=40),
    Column("nik", "NIK_SASARAN", nik=True, width=19),
    Column("no_kk", "NO_KK_SASARAN", nik=True, width=19),
    Column("created_at", "DIBUAT", width=17),
    Column("created_by", "PENGUSUL", width=16),
    Column("last_action", "AKSI_TERAKHIR", width=18),
    Column("last_action_at", "WAKTU_AKSI_TERAKHIR", width=17),
)


def proposal_rows(qs: QuerySet[Proposal]) -> Iterator[dict[str, Any]]:
    """Dict rows of `qs` with their last event, one query (a correlated subquery), streamed."""
    last = ProposalEvent.objects.filter(proposal=OuterRef("pk")).order_by("-at", "-pk")
    kinds, statuses = dict(Kind.choices), dict(Status.choices)
    targets = dict(Target.choices)
    rows = (
        qs.annotate(
            last_action=Subquery(last.values("action")[:1]),
            last_action_at=Subquery(last.values("at")[:1]),
        )
        .values(
            "id",
            "kind",
            "status",
            "region_code",
            "region__name",
            "target_type",
            "summary",
            "person__nik",
            "family__no_kk",
            "created_at",
            "created_by__username",
            "last_action",
            "last_action_at",
        )
        .iterator(chunk_size=CHUNK_ROWS)
    )
    for r in rows:
        yield {
            "id": r["id"],
            "kind": str(kinds.get(r["kind"], r["kind"])),
            "status": str(statuses.get(r["status"], r["status"])),
            "region_code": r["region_code"],
            "region_name": r["region__name"],
            "target": str(targets.get(r["target_type"], r["target_type"] or "")),
            "summary": r["summary"],
            "nik": r["person__nik"] or "",
            "no_kk": r["family__no_kk"] or "",
            "created_at": _local(r["created_at"]),
            "created_by": r["created_by__username"],
            "last_action": r["last_action"] or "",
            "last_action_at": _local(r["last_action_at"]),
        }


def _local(value: Any) -> str:
    """Timestamps as local "YYYY-MM-DD HH:MM" text (SQLite subqueries hand back strings)."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d %H:%M")


def proposals_export(
    user: User | AnonymousUser, qs: QuerySet[Proposal], *, filters: str, region: str = ""
) -> Export:
    """An export of `qs`, a proposals queryset already scoped to `user` (see the list page);
    `region` names the region it was narrowed to ("" = the user's scope)."""
    prefix = _narrowest(user, region)
    unmask = may_unmask(user, prefix)
    return Export(
        kind="proposals",
        stem=_stem("usulan", prefix, unmask),
        title=_title("Usulan", unmask),
        columns=PROPOSAL_COLUMNS,
        rows=proposal_rows(qs.order_by("-updated_at", "-pk")),
        unmask=unmask,
        region_code=prefix,
        filters=filters or "-",
    )


def build(kind: str, user: User | AnonymousUser, *, region: str = "", query: str = "") -> Export:
    """The export `kind` ("persons" | "bnba" | "proposals") for the command line."""
    if kind == "persons":
        return persons_export(user, q=query, region=region)
    if kind == "bnba":
        return bnba_export(user, region=region)
    if kind == "proposals":
        return proposals_export(
            user,
            filtered_proposals(user, {"wilayah": region, "q": query}),
            filters=_describe(wilayah=region, q=query),
            region=region,
        )
    raise ValueError(kind)
