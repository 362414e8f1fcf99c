"""Matching NIKs with Dukcapil (the civil registry): *padan* / *tidak padan* per NIK.

Two adapters share one small interface (`DukcapilAdapter`):

* `FileAdapter` — the batch exchange used today: we export the NIK list as a file, Dukcapil
  returns a result file, an operator uploads it. Layout (also in docs/dukcapil-layout.md):

  Request file (we send), CSV, UTF-8 without BOM, ``;`` separator, one header line::

      NIK;ID_PERSON;KODE_WILAYAH
      1371014507900001;12345;1371011001

  NIK is always written as text (16 digits, leading zeros kept, never a number); ID_PERSON is
  our internal person id (empty for a person not yet in the registry, e.g. a member of a new
  household proposal); KODE_WILAYAH is the digits-only desa code. A NIK held by two persons
  (NIK ganda) is listed once per person.

  Result file (Dukcapil returns), CSV, UTF-8 (a BOM is tolerated), ``;`` separator::

      NIK;STATUS_PADAN;KETERANGAN
      1371014507900001;PADAN;
      1371014507900009;TIDAK PADAN;NIK tidak ditemukan

  STATUS_PADAN is one of PADAN, TIDAK PADAN, 1, 0, YA, TIDAK (case-insensitive); KETERANGAN
  is optional (≤ 200 characters). Every NIK must come from the request and appear at most
  once; NIKs missing from the result stay unmatched. The file is checked row by row and
  refused as a whole when any row is wrong (row number, column, value and rule in Indonesian
  and English); nothing is stored until every row passes.

* `TestDoubleAdapter` — deterministic, for tests and the demo: a NIK is *padan* unless it
  fails the NIK syntax rules (`terpadu.lib.nik.check_nik`, built-in province list, no
  database) or its last digit is 9. Results are immediate.

`TERPADU_DUKCAPIL_ADAPTER` chooses the adapter ("file", the default, or "test-double").

`apply_matches` stores the results (DukcapilMatch rows, one per person and NIK), updates
Person.padan / padan_checked_at with one UPDATE per outcome (recorded as registry Change rows),
opens a NIK-correction task for every *tidak padan* person and notifies each kab/kota once —
a fixed number of statements whatever the number of NIKs.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Substr
from django.utils import timezone, translation

from terpadu.editions.models import DukcapilBatch, DukcapilMatch, NikCorrectionTask
from terpadu.lib.nik import check_nik
from terpadu.registry.models import Change, ChangeSet, Padan, Person, RecordStatus

if TYPE_CHECKING:
    from terpadu.accounts.models import User

REQUEST_HEADER = ("NIK", "ID_PERSON", "KODE_WILAYAH")
RESULT_HEADER = ("NIK", "STATUS_PADAN", "KETERANGAN")
DELIMITER = ";"
STATUS_VALUES = {
    "PADAN": True,
    "1": True,
    "YA": True,
    "TIDAK PADAN": False,
    "0": False,
    "TIDAK": False,
}
DETAIL_MAX = 200
CHUNK = 2000
ACTIVE = (RecordStatus.AKTIF, RecordStatus.AKTIF_BERMASALAH)


class NikRequest(NamedTuple):
    """One line of a request: the NIK, our person id (None for a proposed person), desa."""

    nik: str
    person_id: int | None
    region_code: str


class MatchRow(NamedTuple):
    """One result: the NIK, padan or not, Dukcapil's remark; person/desa from the request."""

    nik: str
    padan: bool
    detail: str = ""
    person_id: int | None = None
    region_code: str = ""


class DukcapilAdapter(Protocol):
    """Send NIKs to Dukcapil and read back which ones match."""

    source: str
    immediate: bool  # results are available right after `request` (no file round trip)

    def request(self, niks: Iterable[tuple[str, int | None, str]]) -> DukcapilBatch: ...

    def results(self, batch: DukcapilBatch) -> Iterable[MatchRow]: ...


# --- reasons used by the processing run ---------------------------------------------------

REASONS: dict[str, tuple[str, str]] = {
    "nik_tidak_padan": (
        "NIK {detail} tidak padan dengan data Dukcapil.",
        "NIK {detail} does not match the Dukcapil records.",
    ),
    "nik_belum_padan": (
        "NIK {detail} belum pernah dipadankan dengan Dukcapil.",
        "NIK {detail} has not been matched with Dukcapil yet.",
    ),
}


def reason(code: str, detail: str = "") -> dict[str, str]:
    """A reason in the shape of Proposal.return_reasons."""
    message_id, message_en = REASONS[code]
    return {
        "code": code,
        "message_id": message_id.format(detail=detail),
        "message_en": message_en.format(detail=detail),
    }


# --- file validation ----------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One refused cell or line: spreadsheet row number (header = 1), column, value, rule."""

    row: int
    column: str
    value: str
    code: str
    message_id: str
    message_en: str

    @property
    def message(self) -> str:
        lang = translation.get_language() or "id"
        return self.message_en if lang.startswith("en") else self.message_id


class DukcapilFileError(Exception):
    """A result file refused as a whole; `errors` lists every wrong row (first 1 000)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} kesalahan pada berkas hasil Dukcapil")
        self.errors = errors


MAX_ERRORS = 1000


def _err(row: int, column: str, value: str, code: str, msg_id: str, msg_en: str) -> RowError:
    return RowError(row, column, value[:60], code, msg_id, msg_en)


def parse_result_file(data: bytes, requested: dict[str, list[NikRequest]]) -> list[MatchRow]:
    """Rows of a result file, one MatchRow per requested person of each NIK; raises
    DukcapilFileError listing every broken rule (nothing is returned partially)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DukcapilFileError(
            [
                _err(
                    0,
                    "",
                    "",
                    "encoding",
                    f"Berkas bukan teks UTF-8 (byte ke-{exc.start + 1}).",
                    f"The file is not UTF-8 text (byte {exc.start + 1}).",
                )
            ]
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITER)
    header = next(reader, None)
    expected = DELIMITER.join(RESULT_HEADER)
    if header is None or tuple(h.strip().upper() for h in header) != RESULT_HEADER:
        got = DELIMITER.join(header or [])
        raise DukcapilFileError(
            [
                _err(
                    1,
                    "",
                    got,
                    "header",
                    f"Baris judul harus '{expected}', tertulis '{got}'.",
                    f"The header line must be '{expected}', found '{got}'.",
                )
            ]
        )
    errors: list[RowError] = []
    rows: list[MatchRow] = []
    seen: dict[str, int] = {}
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines (often at the end of a file) carry nothing
        errors += _check_row(line_no, cells, requested, seen, rows)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise DukcapilFileError(errors[:MAX_ERRORS])
    if not rows:
        raise DukcapilFileError(
            [
                _err(
                    2,
                    "",
                    "",
                    "empty",
                    "Berkas tidak berisi satu baris hasil pun.",
                    "The file holds no result rows.",
                )
            ]
        )
    return rows


def _check_row(
    line: int,
    cells: list[str],
    requested: dict[str, list[NikRequest]],
    seen: dict[str, int],
    out: list[MatchRow],
) -> list[RowError]:
    if len(cells) != len(RESULT_HEADER):
        return [
            _err(
                line,
                "",
                DELIMITER.join(cells),
                "columns",
                f"Baris {line}: harus {len(RESULT_HEADER)} kolom dipisah ';', "
                f"terbaca {len(cells)}.",
                f"Row {line}: must have {len(RESULT_HEADER)} columns separated by ';', "
                f"found {len(cells)}.",
            )
        ]
    nik, status, detail = (c.strip() for c in cells)
    errors: list[RowError] = []
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        errors.append(
            _err(
                line,
                "NIK",
                nik,
                "nik_format",
                f"Baris {line}, kolom NIK: '{nik}' harus 16 angka ditulis sebagai teks "
                "(bukan angka Excel).",
                f"Row {line}, column NIK: '{nik}' must be 16 digits written as text "
                "(not an Excel number).",
            )
        )
    elif nik not in requested:
        errors.append(
            _err(
                line,
                "NIK",
                nik,
                "nik_not_requested",
                f"Baris {line}, kolom NIK: '{nik}' tidak ada dalam daftar permintaan ini.",
                f"Row {line}, column NIK: '{nik}' is not in this batch's request.",
            )
        )
    elif nik in seen:
        errors.append(
            _err(
                line,
                "NIK",
                nik,
                "nik_repeated",
                f"Baris {line}, kolom NIK: '{nik}' sudah ada di baris {seen[nik]}.",
                f"Row {line}, column NIK: '{nik}' already appears on row {seen[nik]}.",
            )
        )
    padan = STATUS_VALUES.get(" ".join(status.upper().split()))
    if padan is None:
        allowed = ", ".join(["PADAN", "TIDAK PADAN", "1", "0", "YA", "TIDAK"])
        errors.append(
            _err(
                line,
                "STATUS_PADAN",
                status,
                "status",
                f"Baris {line}, kolom STATUS_PADAN: '{status}' tidak dikenal; isi salah satu "
                f"dari {allowed}.",
                f"Row {line}, column STATUS_PADAN: '{status}' is not known; use one of {allowed}.",
            )
        )
    if len(detail) > DETAIL_MAX:
        errors.append(
            _err(
                line,
                "KETERANGAN",
                detail,
                "detail_length",
                f"Baris {line}, kolom KETERANGAN: paling banyak {DETAIL_MAX} karakter "
                f"(tertulis {len(detail)}).",
                f"Row {line}, column KETERANGAN: at most {DETAIL_MAX} characters "
                f"(found {len(detail)}).",
            )
        )
    if errors:
        return errors
    seen[nik] = line
    out.extend(
        MatchRow(nik, bool(padan), detail, req.person_id, req.region_code) for req in requested[nik]
    )
    return []


# --- the request file ---------------------------------------------------------------------


def write_request(rows: Iterable[tuple[str, int | None, str]], out: io.TextIOBase) -> int:
    """Write the request layout to `out` (a text stream); returns the number of lines."""
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(REQUEST_HEADER)
    n = 0
    for nik, person_id, region_code in rows:
        # csv never turns text into numbers; the layout says NIK is text, and it stays so.
        writer.writerow([nik, "" if person_id is None else person_id, region_code])
        n += 1
    return n


def read_request(batch: DukcapilBatch) -> dict[str, list[NikRequest]]:
    """The NIKs a batch asked about (from its request file), each with its persons."""
    out: dict[str, list[NikRequest]] = defaultdict(list)
    with batch.request_file.open("rb") as fh:
        text = fh.read().decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITER)
    next(reader, None)
    for cells in reader:
        if len(cells) != len(REQUEST_HEADER):
            continue
        nik, person, region = cells
        out[nik].append(NikRequest(nik, int(person) if person else None, region))
    return dict(out)


# --- adapters -----------------------------------------------------------------------------


@dataclass
class FileAdapter:
    """Batch exchange through files (see the module docstring for the layout)."""

    by: User
    source: str = "file"
    immediate: bool = False

    def request(self, niks: Iterable[tuple[str, int | None, str]]) -> DukcapilBatch:
        """Write the request CSV (streamed through a temporary file, so memory stays flat)
        and store it as a new batch's `request_file`."""
        with tempfile.TemporaryFile() as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            n = write_request(niks, text)
            text.flush()
            raw.seek(0)
            batch = DukcapilBatch(
                source=self.source,
                state=DukcapilBatch.State.DIKIRIM,
                nik_count=n,
                created_by=self.by,
            )
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            batch.request_file.save(f"permintaan-nik-{stamp}.csv", File(raw), save=False)
            text.detach()
        batch.save()
        return batch

    def results(self, batch: DukcapilBatch) -> Iterable[MatchRow]:
        """Parse the batch's uploaded result file (raises DukcapilFileError)."""
        with batch.result_file.open("rb") as fh:
            data = fh.read()
        return parse_result_file(data, read_request(batch))


@dataclass
class TestDoubleAdapter:
    """Deterministic stand-in: padan unless the NIK breaks the syntax rules or ends in 9."""

    __test__ = False  # not a pytest test class, despite the name

    by: User
    source: str = "test-double"
    immediate: bool = True
    _pending: dict[int, list[NikRequest]] = field(default_factory=dict)

    @staticmethod
    def is_padan(nik: str) -> bool:
        """The rule: a syntactically valid NIK whose last digit is not 9."""
        return check_nik(nik).ok and not nik.endswith("9")

    def request(self, niks: Iterable[tuple[str, int | None, str]]) -> DukcapilBatch:
        rows = [NikRequest(n, p, r) for n, p, r in niks]
        batch = DukcapilBatch.objects.create(
            source=self.source,
            state=DukcapilBatch.State.DIKIRIM,
            nik_count=len(rows),
            created_by=self.by,
        )
        self._pending[batch.pk] = rows
        return batch

    def results(self, batch: DukcapilBatch) -> Iterable[MatchRow]:
        for req in self._pending.pop(batch.pk, []):
            padan = self.is_padan(req.nik)
            detail = "" if padan else "Tidak padan (test double)"
            yield MatchRow(req.nik, padan, detail, req.person_id, req.region_code)


def get_adapter(*, by: User) -> DukcapilAdapter:
    """The adapter named by settings.TERPADU_DUKCAPIL_ADAPTER ("file" unless set)."""
    name = getattr(settings, "TERPADU_DUKCAPIL_ADAPTER", "file")
    if name == "test-double":
        return TestDoubleAdapter(by=by)
    return FileAdapter(by=by)


# --- storing results ----------------------------------------------------------------------


@dataclass
class ApplyResult:
    padan: int = 0
    tidak_padan: int = 0
    tasks: int = 0
    per_kabkota: dict[str, int] = field(default_factory=dict)


def apply_matches(batch: DukcapilBatch, rows: Iterable[MatchRow]) -> ApplyResult:
    """Store `rows` for `batch` and bring the registry up to date, set-based.

    Statements do not depend on the number of rows (below CHUNK): one INSERT of the matches;
    one SELECT of the persons whose status changes + one changeset + one INSERT of Change
    rows; one UPDATE per outcome; close open tasks of persons now padan; one INSERT of new
    tasks; one GROUP BY + one SELECT of users + one INSERT of notifications; one UPDATE of
    the batch. Must run inside the caller's transaction or opens its own.
    """
    from terpadu.registry import records

    now = timezone.now()
    result = ApplyResult()
    with transaction.atomic():
        matches = [
            DukcapilMatch(
                batch=batch,
                nik=r.nik,
                person_id=r.person_id,
                region_code=r.region_code,
                padan=r.padan,
                detail=r.detail[:DETAIL_MAX],
                matched_at=now,
            )
            for r in rows
        ]
        DukcapilMatch.objects.bulk_create(matches, batch_size=CHUNK)
        for m in matches:
            if m.padan:
                result.padan += 1
            else:
                result.tidak_padan += 1
        of_batch = DukcapilMatch.objects.filter(batch=batch, person__isnull=False)
        # A NIK ganda person may be matched under two rows; tidak padan wins (safer).
        bad = of_batch.filter(padan=False).values("person_id")
        good = of_batch.filter(padan=True).exclude(person_id__in=Subquery(bad)).values("person_id")
        _record_padan_changes(batch, good, bad, records)
        Person.objects.filter(pk__in=Subquery(good)).update(padan=Padan.PADAN, padan_checked_at=now)
        Person.objects.filter(pk__in=Subquery(bad)).update(
            padan=Padan.TIDAK_PADAN, padan_checked_at=now
        )
        open_states = [NikCorrectionTask.State.TERBUKA, NikCorrectionTask.State.DIUSULKAN]
        NikCorrectionTask.objects.filter(
            person_id__in=Subquery(good), state__in=open_states
        ).update(state=NikCorrectionTask.State.SELESAI, closed_at=now)
        open_task = NikCorrectionTask.objects.filter(
            person_id=OuterRef("person_id"), state__in=open_states
        )
        new_tasks = list(
            of_batch.filter(padan=False)
            .exclude(Exists(open_task))
            .values_list("pk", "person_id", "region_code")
            .order_by("person_id", "pk")
        )
        tasks, done = [], set()
        for match_id, person_id, region_code in new_tasks:
            if person_id in done:
                continue
            done.add(person_id)
            tasks.append(
                NikCorrectionTask(person_id=person_id, region_code=region_code, match_id=match_id)
            )
        NikCorrectionTask.objects.bulk_create(tasks, batch_size=CHUNK)
        result.tasks = len(tasks)
        if tasks:
            result.per_kabkota = _notify_kabkota(batch)
        DukcapilBatch.objects.filter(pk=batch.pk).update(
            state=DukcapilBatch.State.DIIMPOR, imported_at=now
        )
        batch.state, batch.imported_at = DukcapilBatch.State.DIIMPOR, now
    return result


def _record_padan_changes(
    batch: DukcapilBatch, good: QuerySet[Any], bad: QuerySet[Any], records: Any
) -> None:
    """Registry history: one Change per person whose padan status actually changes."""
    changing = list(
        Person.objects.filter(pk__in=Subquery(good))
        .exclude(padan=Padan.PADAN)
        .values_list("pk", "region_code", "padan")
        .union(
            Person.objects.filter(pk__in=Subquery(bad))
            .exclude(padan=Padan.TIDAK_PADAN)
            .values_list("pk", "region_code", "padan"),
            all=True,
        )
    )
    if not changing:
        return
    bad_ids = set(
        DukcapilMatch.objects.filter(batch=batch, padan=False, person__isnull=False).values_list(
            "person_id", flat=True
        )
    )
    changeset = records.open_changeset(
        by=batch.created_by,
        reason=f"Hasil padan Dukcapil (pertukaran #{batch.pk})",
        source=ChangeSet.Source.SYSTEM,
        source_ref=f"dukcapil:{batch.pk}",
    )
    Change.objects.bulk_create(
        (
            Change(
                changeset=changeset,
                entity="person",
                entity_id=pk,
                region_code=region_code,
                action=Change.Action.UPDATE,
                diff={
                    "padan": [old, Padan.TIDAK_PADAN if pk in bad_ids else Padan.PADAN],
                },
            )
            for pk, region_code, old in changing
        ),
        batch_size=CHUNK,
    )


def _notify_kabkota(batch: DukcapilBatch) -> dict[str, int]:
    """One notification per kab/kota user about their new NIK-correction tasks."""
    from terpadu.accounts.models import User
    from terpadu.core.models import Notification
    from terpadu.proposals.transitions import KABKOTA_ROLES

    per_kab = dict(
        NikCorrectionTask.objects.filter(match__batch=batch)
        .annotate(kab=Substr("region_code", 1, 4))
        .values("kab")
        .annotate(n=Count("id"))
        .values_list("kab", "n")
        .order_by()
    )
    users = User.objects.filter(
        role__in=list(KABKOTA_ROLES), scope__in=list(per_kab), is_active=True
    ).values_list("pk", "scope")
    Notification.objects.bulk_create(
        Notification(
            user_id=pk,
            message_id=f"{per_kab[scope]} individu tidak padan Dukcapil perlu perbaikan NIK/No KK.",
            message_en=f"{per_kab[scope]} persons do not match Dukcapil and need a NIK/No KK "
            "correction.",
            link="/penetapan/perbaikan-nik/",
        )
        for pk, scope in users
    )
    return per_kab


# --- exchanges driven from the UI ---------------------------------------------------------


def persons_needing_check(region_code: str = "") -> QuerySet[Person]:
    """Active persons with a NIK never matched (padan belum), optionally under a region."""
    qs = Person.objects.filter(
        padan=Padan.BELUM, status__in=list(ACTIVE), nik__isnull=False
    ).exclude(nik="")
    if region_code:
        qs = qs.filter(region_code__startswith=region_code)
    return qs


def request_rows(region_code: str = "", period: str = "") -> Iterator[tuple[str, int | None, str]]:
    """(nik, person id, desa) of persons needing a check, then the NIKs of the period's
    proposals at pusat (new members and NIK corrections) — streamed in chunks."""
    persons = (
        persons_needing_check(region_code)
        .order_by("pk")
        .values_list("nik", "pk", "region_code")
        .iterator(chunk_size=CHUNK)
    )
    yield from persons
    if period:
        from terpadu.editions.crossmatch import proposal_niks

        for nik, person_id, region in proposal_niks(period, region_code):
            if person_id is None:  # persons already listed above come from the registry
                yield nik, None, region


def export_request(*, by: User, region_code: str = "", period: str = "") -> DukcapilBatch:
    """Create a file exchange with the NIK list of persons needing a check (file adapter)."""
    return FileAdapter(by=by).request(request_rows(region_code, period))


@dataclass
class ImportReport:
    batch: DukcapilBatch
    rows: int
    applied: ApplyResult
    missing: int  # requested NIKs without a result


def import_result(*, by: User, batch: DukcapilBatch, data: bytes, filename: str) -> ImportReport:
    """Validate an uploaded result file for `batch`, then store it and apply it, all or
    nothing. Raises DukcapilFileError (nothing written) when any row is wrong."""
    if batch.state != DukcapilBatch.State.DIKIRIM:
        raise DukcapilFileError(
            [
                _err(
                    0,
                    "",
                    "",
                    "already_imported",
                    f"Hasil pertukaran #{batch.pk} sudah diimpor.",
                    f"The result of exchange #{batch.pk} was already imported.",
                )
            ]
        )
    requested = read_request(batch)
    rows = parse_result_file(data, requested)
    with transaction.atomic():
        locked = DukcapilBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.state != DukcapilBatch.State.DIKIRIM:  # a concurrent upload won
            raise DukcapilFileError(
                [
                    _err(
                        0,
                        "",
                        "",
                        "already_imported",
                        f"Hasil pertukaran #{batch.pk} sudah diimpor.",
                        f"The result of exchange #{batch.pk} was already imported.",
                    )
                ]
            )
        locked.result_file.save(filename or f"hasil-{batch.pk}.csv", ContentFile(data))
        applied = apply_matches(locked, rows)
    batch.refresh_from_db()
    answered = {r.nik for r in rows}
    return ImportReport(batch, len(answered), applied, len(set(requested) - answered))


def match_now(*, by: User, region_code: str = "", period: str = "") -> ApplyResult:
    """Immediate matching with an adapter that answers at once (the test double)."""
    adapter = get_adapter(by=by)
    if not adapter.immediate:
        raise ValueError("the configured Dukcapil adapter does not answer immediately")
    with transaction.atomic():
        batch = adapter.request(request_rows(region_code, period))
        return apply_matches(batch, adapter.results(batch))


def latest_matches(niks: Iterable[str]) -> dict[str, bool]:
    """The latest stored result per NIK (chunked IN lists; the newest row wins)."""
    out: dict[str, tuple[Any, int, bool]] = {}
    items = list(dict.fromkeys(niks))
    for start in range(0, len(items), CHUNK):
        rows = DukcapilMatch.objects.filter(nik__in=items[start : start + CHUNK]).values_list(
            "nik", "matched_at", "pk", "padan"
        )
        for nik, at, pk, padan in rows:
            key = (at, pk, padan)
            if nik not in out or key[:2] > out[nik][:2]:
                out[nik] = key
    return {nik: v[2] for nik, v in out.items()}


# --- NIK-correction tasks (kab/kota) ------------------------------------------------------


def tasks_for(user: User, state: str = "") -> QuerySet[NikCorrectionTask]:
    """NIK-correction tasks in `user`'s region subtree, annotated with `proposed`: an open
    PERBAIKAN proposal for the person exists (the task then reads "diusulkan" — derived in
    the query, so nothing has to keep it in sync)."""
    from terpadu.accounts.access import in_scope
    from terpadu.proposals.models import CLOSED_STATUSES, Kind, Proposal

    open_fix = Proposal.objects.filter(
        kind=Kind.PERBAIKAN, person_id=OuterRef("person_id")
    ).exclude(status__in=list(CLOSED_STATUSES))
    qs = in_scope(NikCorrectionTask.objects.all(), user).annotate(proposed=Exists(open_fix))
    if state == "terbuka":
        qs = qs.filter(state=NikCorrectionTask.State.TERBUKA, proposed=False)
    elif state == "diusulkan":
        qs = qs.filter(
            Q(state=NikCorrectionTask.State.DIUSULKAN)
            | Q(state=NikCorrectionTask.State.TERBUKA, proposed=True)
        )
    elif state == "selesai":
        qs = qs.filter(state=NikCorrectionTask.State.SELESAI)
    return qs.select_related("person", "match").order_by("state", "region_code", "pk")
