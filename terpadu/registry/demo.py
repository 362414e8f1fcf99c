"""Synthetic DTKS registry for one kab/kota: realistic enough to demo, test and benchmark.

`generate_demo` writes households (ruta) → families (KK) → persons with family memberships,
programme memberships and one `Change` row per created household/family/person, all under a
single `ChangeSet` (source DEMO). It is set-based: rows are built in Python as plain dicts in
rounds of `batch_size` households and written with one statement per table per round
(PostgreSQL `COPY`, SQLite `executemany`, `bulk_create` elsewhere; see `_write`), so the
number of queries depends on the number of rounds, never on the number of rows. With several
rounds a forked worker process builds the next round while this one writes (see "rounds").

Deliberate imperfections, so that quality work has something to find: ≈1.5 % of persons have
no NIK (mostly babies), ≈0.3 % of persons carry the NIK of another person (half of them also
copy that person's name and mother's name: "registered twice"), a few percent are nonaktif
with a reason, and a few are `tidak_padan`. Everything else is valid: every NIK is composed by
`terpadu.lib.nik.compose_nik` from the person's sex, birth date and a kecamatan of the kab/kota,
with serials unique per 12-digit prefix (also against NIKs already in the database), and every
family has a valid No KK.

Coded answers use the DTKS2020 code lists (domain.md §1.3). Idempotency is the caller's job.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import datetime as dt
import functools
import gc
import itertools
import json
import multiprocessing
import operator
import pickle
import random
import threading
import time
import traceback
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from terpadu.lib.names import normalise_name
from terpadu.lib.nik import compose_nik, compose_no_kk
from terpadu.regions.models import Level, Region, digits_range, prefix_q, to_digits
from terpadu.registry.models import (
    Change,
    ChangeSet,
    Family,
    FamilyMembership,
    Household,
    Keberadaan,
    Kelayakan,
    NonaktifReason,
    Padan,
    Person,
    Program,
    ProgramMembership,
    RecordStatus,
)

Progress = Callable[[int, int], None]

# DTKS2020 relation codes (hubungan dengan KRT / kepala keluarga, same 1–8 list at both levels).
HEAD, SPOUSE, CHILD, CHILD_IN_LAW, GRANDCHILD, PARENT, HELPER, OTHER = 1, 2, 3, 4, 5, 6, 7, 8
MALE, FEMALE = 1, 2
# Status perkawinan.
SINGLE, MARRIED, DIVORCED, WIDOWED = 1, 2, 3, 4
# BPS: status kedudukan 1, 2, 6, 7, 8 = informal; 3, 4, 5 = formal (domain.md §1.3).
INFORMAL_STATUSES = frozenset({1, 2, 6, 7, 8})
# Plain strings: enum `.value` lookups add up at hundreds of thousands of rows.
CREATE = Change.Action.CREATE.value
AKTIF, NONAKTIF = RecordStatus.AKTIF.value, RecordStatus.NONAKTIF.value
PADAN, TIDAK_PADAN, BELUM_PADAN = Padan.PADAN.value, Padan.TIDAK_PADAN.value, Padan.BELUM.value

NO_NIK_RATE_BABY = 0.25  # babies often have no NIK yet when enumerated
NO_NIK_RATE = 0.011
NIK_GANDA_RATE = 0.003  # share of persons that reuse another person's NIK

# Common given names in Padang / Minangkabau; Faker id_ID adds general Indonesian names.
# fmt: off
MINANG_MALE = (
    "Afrizal", "Yusrizal", "Syafrizal", "Zulkifli", "Zulfikar", "Erizal", "Nofrizal", "Asril",
    "Jasman", "Rusdi", "Syamsul", "Hendra", "Irwan", "Darmawan", "Efendi", "Yulizar", "Fadli",
    "Rizky", "Fajar", "Andika", "Arif", "Ilham", "Reza", "Rahmat", "Budiman", "Amril", "Masrul",
    "Nasrul", "Jufri", "Yusuf", "Ikhwan", "Alfian", "Deddy", "Novri", "Hamdani", "Gusrizal",
    "Ferdinal", "Mardianto", "Syahrial", "Zainal", "Ridwan", "Buyung", "Aldi", "Habibi",
    "Taufik", "Wendi", "Yuhendra",
)
MINANG_FEMALE = (
    "Yusnimar", "Nurhayati", "Yenni", "Rosmaini", "Yulinar", "Desmawati", "Fitri", "Rahmi",
    "Nofriyanti", "Elvira", "Yusmaniar", "Gusnawati", "Ernawati", "Asmaniar", "Rosmawati",
    "Zuraida", "Nurjanah", "Syafriyanti", "Yenti", "Mardiana", "Rosnelli", "Yulidarni",
    "Misnawati", "Nelly", "Afrida", "Rahmawati", "Nurlela", "Fadhilah", "Annisa", "Zulaikha",
    "Salsabila", "Aisyah", "Nurul", "Rini", "Siska", "Vivi", "Wirda", "Yurnalis", "Elmi", "Upik",
    "Nursiah", "Darmis",
)
SUKU = (
    "Chaniago", "Piliang", "Koto", "Tanjung", "Jambak", "Sikumbang", "Guci", "Melayu", "Caniago",
    "Bodi", "Panyalai",
)
PADANG_STREETS = (
    "Jl. Khatib Sulaiman", "Jl. Jend. Sudirman", "Jl. Veteran", "Jl. Prof. Hamka",
    "Jl. Adinegoro", "Jl. Raya Bungus", "Jl. By Pass", "Jl. Pemuda", "Jl. Gajah Mada",
    "Jl. Ampang Raya", "Jl. Belanti Raya", "Jl. Parak Gadang", "Jl. Dr. Sutomo",
    "Jl. Raya Indarung", "Jl. Andalas", "Jl. Kampung Jawa", "Jl. Siteba", "Jl. Lubuk Begalung",
)
BIRTH_PLACES = (
    ("Padang", 78), ("Bukittinggi", 3), ("Pariaman", 4), ("Solok", 2), ("Payakumbuh", 2),
    ("Painan", 3), ("Padang Panjang", 1), ("Batusangkar", 1), ("Lubuk Basung", 1),
    ("Sawahlunto", 1), ("Pekanbaru", 1), ("Medan", 1), ("Jakarta", 1), ("Bengkulu", 1),
)
OCCUPATIONS = {
    1: "Petani", 2: "Petani hortikultura", 3: "Pekebun", 4: "Nelayan", 5: "Pembudidaya ikan",
    6: "Peternak", 7: "Buruh tani", 8: "Penambang pasir", 9: "Buruh pabrik", 10: "Teknisi listrik",
    11: "Tukang bangunan", 12: "Pedagang", 13: "Pelayan rumah makan", 14: "Sopir angkot",
    15: "Operator warnet", 16: "Pegawai bank", 17: "Guru", 18: "Perawat", 19: "Penjahit",
    20: "Pemulung", 21: "Pekerja migran", 22: "Serabutan",
}
# fmt: on


class DemoError(ValueError):
    """The requested region cannot hold a demo registry (not a kab/kota, or not loaded)."""


@dataclass
class DemoResult:
    region_digits: str
    households: int = 0
    families: int = 0
    persons: int = 0
    family_memberships: int = 0
    program_memberships: int = 0
    changes: int = 0
    changeset_id: int | None = None
    seconds: float = 0.0

    def add(self, batch: _Batch) -> None:
        field_name = _RESULT_FIELD[batch.model]
        setattr(self, field_name, getattr(self, field_name) + len(batch.rows))

    @property
    def rows(self) -> int:
        """Registry rows written (households, families, persons, memberships, changes)."""
        return (
            self.households
            + self.families
            + self.persons
            + self.family_memberships
            + self.program_memberships
            + self.changes
        )


# --------------------------------------------------------------------------- public entry


def generate_demo(
    *,
    region_digits: str = "1371",
    households: int,
    seed: int = 2026,
    batch_size: int = 5000,
    progress: Progress | None = None,
    as_of: dt.date | None = None,
    pipeline: bool = True,
) -> DemoResult:
    """Create `households` synthetic households spread over every desa of a kab/kota.

    `region_digits` is a kab/kota code (``1371`` or ``13.71``) whose desa are loaded.
    `batch_size` is the number of households built and written per round; memory is bounded
    by it and the number of queries grows only with the number of rounds.
    With `pipeline` (and more than one round, on a platform that can fork) a worker process
    builds round i+1 while this one writes round i; the rows are the same either way.
    Everything runs in one transaction: a failed run leaves nothing behind.
    """
    started = time.perf_counter()
    kabkota = to_digits(region_digits)
    desa = _desa_of(kabkota)
    rng = random.Random(seed)
    as_of = as_of or timezone.localdate()
    allocation = _allocate(households, len(desa), rng)
    chunks = [allocation[i : i + batch_size] for i in range(0, households, batch_size)]
    result = DemoResult(region_digits=kabkota)
    with _gc_paused(), transaction.atomic(), _bulk_load_session() as end_of_round:
        changeset = ChangeSet.objects.create(
            reason="Data demo",
            source=ChangeSet.Source.DEMO,
            source_ref=f"{kabkota} seed={seed} ruta={households}",
        )
        result.changeset_id = changeset.pk
        builder = _Builder(
            rng=rng,
            seed=seed,
            as_of=as_of,
            desa=desa,
            changeset_id=changeset.pk,
            programs=_programs(),
            nik_serials=_existing_serials(Person, "nik", kabkota),
            kk_serials=_existing_serials(Family, "no_kk", kabkota),
        )
        ids = _IdAllocator()
        if pipeline and len(chunks) > 1 and _can_fork():
            rounds = _rounds_in_worker(builder, chunks, ids)
        else:
            rounds = _rounds_here(builder, chunks, ids)
        done = 0
        with contextlib.closing(rounds):  # on an error, closing stops the worker
            for batches in rounds:
                for batch in batches:
                    _write(batch, batch_size=batch_size)
                    result.add(batch)
                end_of_round()
                done += batch_size
                if progress:
                    progress(min(done, households), households)
    result.seconds = time.perf_counter() - started
    return result


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the run (the worker inherits the pause).

    A round is ~100 k new dicts and tuples that stay alive until written, so the collector
    keeps traversing them to no avail: they hold no reference cycles and reference counting
    frees each round once written. Pausing it cut build time by ≈ 30 % at 300 k persons.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


DEMO_KABKOTA = "1371"  # Kota Padang: the demo's home, and the demo accounts' scope


@dataclass
class DemoSetup:
    """What `setup_demo` did; empty fields mean that step had nothing to do."""

    regions_loaded: int = 0
    demo: DemoResult | None = None
    accounts: list[tuple[str, str, str, str | None]] = field(default_factory=list)

    @property
    def new_accounts(self) -> list[tuple[str, str, str, str]]:
        return [(u, r, c, p) for u, r, c, p in self.accounts if p is not None]

    @property
    def changed(self) -> bool:
        return bool(self.regions_loaded or self.demo or self.new_accounts)


def setup_demo(
    *, households: int = 3000, seed: int = 2026, progress: Progress | None = None
) -> DemoSetup:
    """Make a fresh install demonstrable; every step is skipped when already done.

    Loads the region tree if the table is empty, generates the demo registry for Kota Padang
    if it has no households, and creates the demo accounts (existing ones keep passwords).
    """
    from terpadu.accounts.services import create_demo_accounts
    from terpadu.regions.loading import load_regions

    done = DemoSetup()
    if not Region.objects.exists():
        loaded = load_regions()
        done.regions_loaded = sum(loaded.created.values())
    if not Household.objects.filter(prefix_q("region_code", DEMO_KABKOTA)).exists():
        done.demo = generate_demo(
            region_digits=DEMO_KABKOTA, households=households, seed=seed, progress=progress
        )
    done.accounts = create_demo_accounts(kabkota_digits=DEMO_KABKOTA)
    return done


# --------------------------------------------------------------------------- regions


@dataclass(frozen=True)
class _Desa:
    id: int
    digits: str
    kecamatan: str
    centre: tuple[float, float]


def _desa_of(kabkota: str) -> list[_Desa]:
    """The current desa/kelurahan of a kab/kota; DemoError if it is not a loaded kab/kota."""
    if len(kabkota) != 4:
        raise DemoError(
            f"{region_label(kabkota)} bukan kode kabupaten/kota (harus 4 digit, mis. 13.71)."
        )
    if not Region.objects.current().filter(digits=kabkota, level=Level.KABKOTA).exists():
        raise DemoError(
            f"Kabupaten/kota {region_label(kabkota)} belum dimuat; "
            "jalankan dulu `manage.py load_regions`."
        )
    rows = list(
        Region.objects.current()
        .within(kabkota)
        .filter(level=Level.DESA)
        .order_by("digits")
        .values_list("id", "digits")
    )
    if not rows:
        raise DemoError(f"Kabupaten/kota {region_label(kabkota)} belum memiliki desa/kelurahan.")
    # A rough map position per kecamatan/desa near Padang, so maps have something to draw.
    place = random.Random(kabkota)
    kec_centre: dict[str, tuple[float, float]] = {}
    out = []
    for pk, digits in rows:
        kec = digits[:6]
        if kec not in kec_centre:
            kec_centre[kec] = (
                -0.95 + place.uniform(-0.12, 0.12),
                100.38 + place.uniform(-0.1, 0.1),
            )
        lat, lon = kec_centre[kec]
        out.append(
            _Desa(
                pk,
                digits,
                kec,
                (lat + place.uniform(-0.02, 0.02), lon + place.uniform(-0.02, 0.02)),
            )
        )
    return out


def region_label(digits: str) -> str:
    parts = [digits[0:2], digits[2:4], digits[4:6], digits[6:10]]
    return ".".join(p for p in parts if p) or repr(digits)


def _allocate(households: int, n_desa: int, rng: random.Random) -> list[int]:
    """Desa index per household: proportional to a random size per desa, every desa ≥ 1.

    Desa differ in size, so each gets a weight in [0.4, 1.6]; largest-remainder rounding
    makes the shares add up to exactly `households`.
    """
    if households <= 0:
        return []
    weights = [rng.uniform(0.4, 1.6) for _ in range(n_desa)]
    base = 1 if households >= n_desa else 0  # every desa gets a household when possible
    rest = households - base * n_desa
    total = sum(weights)
    quotas = [w * rest / total for w in weights]
    counts = [base + int(q) for q in quotas]
    short = households - sum(counts)
    by_remainder = sorted(range(n_desa), key=lambda i: quotas[i] - int(quotas[i]), reverse=True)
    for i in by_remainder[:short]:
        counts[i] += 1
    allocation = [i for i, c in enumerate(counts) for _ in range(c)]
    rng.shuffle(allocation)  # rounds then mix desa, like a real enumeration backlog
    return allocation


# --------------------------------------------------------------------------- identifiers


def _existing_serials(model: type[models.Model], column: str, kabkota: str) -> dict[str, int]:
    """Highest serial already used per 12-digit prefix among identifiers of this kab/kota.

    One indexed range query; keeps a second demo run (other seed) from reusing NIK/KK numbers.
    """
    lo, hi = digits_range(kabkota)
    qs = model.objects.filter(**{f"{column}__gte": lo})
    if hi:
        qs = qs.filter(**{f"{column}__lt": hi})
    serials: dict[str, int] = {}
    for value in qs.values_list(column, flat=True).iterator(chunk_size=20000):
        if value and len(value) == 16 and value[12:].isdigit():
            prefix, serial = value[:12], int(value[12:])
            if serial > serials.get(prefix, 0):
                serials[prefix] = serial
    return serials


class _IdAllocator:
    """Primary keys reserved before insert, so families can point at their head person and
    children at parents without a round trip per row (and so PostgreSQL can use COPY).

    PostgreSQL draws from the table's own sequence (safe with concurrent writers). Elsewhere
    the next id is max(id)+1, read once per table: the whole run holds the write transaction
    (SQLite serialises writers), and inserting explicit ids moves SQLite's AUTOINCREMENT
    counter along with them.
    """

    def __init__(self) -> None:
        self._next: dict[type[models.Model], int] = {}

    def take_round(self, counts: tuple[int, int, int]) -> _RoundIds:
        """Ids for one round's households, families and persons (see `_Builder.plan`)."""
        households, families, persons = counts
        return (
            self.take(Household, households),
            self.take(Family, families),
            self.take(Person, persons),
        )

    def take(self, model: type[models.Model], n: int) -> Sequence[int]:
        if n == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, n],
                )
                return [row[0] for row in cursor.fetchall()]
            if model not in self._next:
                quoted = connection.ops.quote_name(table)  # our own table name, not input
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # noqa: S608
                top = cursor.fetchone()[0]
                if connection.vendor == "sqlite":
                    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                    row = cursor.fetchone()
                    top = max(top, row[0] if row else 0)
                self._next[model] = top + 1
        first = self._next[model]
        self._next[model] = first + n
        return range(first, first + n)  # a range crosses to a worker process in a few bytes


# --------------------------------------------------------------------------- writing


@dataclass
class _Batch:
    """One table's rows of one round, ready for the driver.

    PostgreSQL/SQLite: `columns` (quoted) and value tuples in that order, so a worker process
    can do the conversion and hand over plain tuples. Other databases: no columns, dict rows
    for `bulk_create`.
    """

    model: type[models.Model]
    columns: str
    rows: list[Any]


_RESULT_FIELD = {
    Household: "households",
    Family: "families",
    Person: "persons",
    FamilyMembership: "family_memberships",
    ProgramMembership: "program_memberships",
    Change: "changes",
}


def _prepare(model: type[models.Model], rows: list[dict[str, Any]]) -> _Batch:
    """Turn dict rows (keys = field attnames) into driver-ready tuples.

    Fields missing from the rows get their default (auto_now fields get "now"). Needs no query,
    so it can run in the worker process.
    """
    if not rows or connection.vendor not in ("postgresql", "sqlite"):
        return _Batch(model, "", rows)
    now = timezone.now()
    given, tail_fields = [], []
    for f in model._meta.concrete_fields:
        if f.attname in rows[0]:
            given.append(f)
        elif not f.primary_key:
            tail_fields.append(f)
    tail = tuple(
        f.get_db_prep_save(
            now
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            else f.get_default(),
            connection,
        )
        for f in tail_fields
    )
    # Only columns whose Python value the driver cannot take as is need a per-value step.
    preps: list[Callable[[Any], Any] | None] = []
    for f in given:
        if isinstance(f, models.JSONField):
            preps.append(json.dumps)
        elif isinstance(f, models.DateTimeField) and connection.vendor == "sqlite":
            # The demo draws timestamps from a handful of values: adapt each once.
            preps.append(functools.lru_cache(maxsize=256)(connection.ops.adapt_datetimefield_value))
        else:
            preps.append(None)
    getter = operator.itemgetter(*[f.attname for f in given])
    patch = [(i, p) for i, p in enumerate(preps) if p is not None]

    def convert(row: dict[str, Any]) -> tuple[Any, ...]:
        values = getter(row)
        if patch:
            values = list(values)
            for i, prep in patch:
                if values[i] is not None:
                    values[i] = prep(values[i])
            values = tuple(values)
        return values + tail

    columns = ", ".join(connection.ops.quote_name(f.column) for f in given + tail_fields)
    return _Batch(model, columns, [convert(row) for row in rows])


def _write(batch: _Batch, *, batch_size: int) -> None:
    """One statement per batch: PostgreSQL `COPY … FROM STDIN`, SQLite `executemany`."""
    if not batch.rows:
        return
    model = batch.model
    if not batch.columns:
        model.objects.bulk_create((model(**row) for row in batch.rows), batch_size=batch_size)
        return
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"COPY {table} ({batch.columns}) FROM STDIN"
            # Django does not log COPY; record it like a query so query counts stay honest.
            debug = getattr(cursor, "debug_sql", None)
            ctx = debug(sql) if debug else contextlib.nullcontext()
            with ctx, cursor.cursor.copy(sql) as copy:
                for row in batch.rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(batch.rows[0]))
            cursor.executemany(
                f"INSERT INTO {table} ({batch.columns}) VALUES ({marks})",  # noqa: S608
                batch.rows,
            )


# SQLite page cache for the load (KiB, negative = size rather than pages). The default 2 MB
# makes every insert into the 8 Person indexes (random keys: NIK, names) miss the cache
# once the tables outgrow it; 64 MB cut the Person inserts from 12 s to 8 s at 300 k persons
# and more did not help. Restored afterwards, so memory stays bounded for the connection.
SQLITE_LOAD_CACHE_KIB = 65536


@contextlib.contextmanager
def _bulk_load_session() -> Iterator[Callable[[], None]]:
    """Session settings for the load; yields what to run after each round.

    PostgreSQL: the registry foreign keys are DEFERRABLE INITIALLY DEFERRED, so every COPY
    row queues its checks until commit (≈ 2.4 M at 300 k persons, run serially at the end, the
    queue held in server memory). After each round we switch those constraints to IMMEDIATE,
    which runs the round's queued checks right then (still inside the transaction: a violation
    aborts the whole run), and back to DEFERRED. Same checks at about the same cost, but they
    now run while the worker process builds the next round instead of after the last one.
    """
    if connection.vendor == "postgresql":
        names = _deferred_foreign_keys()

        def end_of_round() -> None:
            if names:
                with connection.cursor() as cursor:
                    cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
                    cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")

        yield end_of_round
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            before = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA cache_size = {-SQLITE_LOAD_CACHE_KIB}")
        try:
            yield lambda: None
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(before)}")
    else:
        yield lambda: None


def _deferred_foreign_keys() -> str:
    """Quoted names of the initially-deferred foreign keys of the tables the demo writes."""
    tables = [model._meta.db_table for model in _RESULT_FIELD]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferred"
            " AND conrelid = ANY(%s::regclass[]) ORDER BY conname",
            [tables],
        )
        return ", ".join(connection.ops.quote_name(name) for (name,) in cursor.fetchall())


# --------------------------------------------------------------------------- rounds
#
# Building a round's rows in Python costs about as much as writing them, so by default a
# forked worker process builds round i+1 while this process writes round i (and PostgreSQL
# checks its foreign keys). Everything that needs the database stays here: the worker asks
# for each round's ids and gets them back over a pipe. One sequential generator
# (`_build_rounds`) serves both ways of running, so the random draws, and hence the registry
# for a given seed, are the same whether or not a worker is used.

_RoundIds = tuple[Sequence[int], Sequence[int], Sequence[int]]  # households, families, persons


def _build_rounds(
    builder: _Builder,
    chunks: list[list[int]],
    ask: Callable[[tuple[int, int, int]], None],
    get: Callable[[], _RoundIds],
    pack: Callable[[list[_Batch]], Any] = lambda batches: batches,
) -> Iterator[Any]:
    """Each round's batches (`pack`ed), in order; `ask` requests a round's ids, `get` gets them.

    Round i+1 is planned (and its ids asked for) before round i's rows are built, and its ids
    are received before round i is handed over: the writer answers while the worker builds,
    and the worker never blocks sending rows while the writer blocks sending ids. Packing
    (the worker pickles) also happens before waiting, so the writer only waits for the copy.
    """
    if not chunks:
        return
    plans = builder.plan(chunks[0])
    ask(_counts(plans))
    ids = get()
    for i in range(len(chunks)):
        upcoming = builder.plan(chunks[i + 1]) if i + 1 < len(chunks) else None
        if upcoming is not None:
            ask(_counts(upcoming))
        batches = [_prepare(model, rows) for model, rows in builder.rows(plans, ids).items()]
        packed = pack(batches)
        if upcoming is not None:
            ids = get()
        yield packed
        plans = upcoming


def _rounds_here(
    builder: _Builder, chunks: list[list[int]], allocator: _IdAllocator
) -> Generator[list[_Batch], None, None]:
    """Build the rounds in this process, in between writes."""
    reserved: collections.deque[_RoundIds] = collections.deque()
    ask = lambda counts: reserved.append(allocator.take_round(counts))  # noqa: E731
    yield from _build_rounds(builder, chunks, ask, reserved.popleft)


def _can_fork() -> bool:
    # The worker inherits the builder (Faker pools, serials) instead of pickling it. Without
    # fork (Windows), or with other threads running (a forked child could inherit a lock one
    # of them holds), build in-process instead.
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _rounds_in_worker(
    builder: _Builder, chunks: list[list[int]], allocator: _IdAllocator
) -> Generator[list[_Batch], None, None]:
    """Build the rounds in a forked worker; yields each round as soon as it arrives.

    The worker sends ("ids", counts), ("rows", batches), then ("done", None), or
    ("error", traceback). It never touches the database connection it inherits.
    """
    context = multiprocessing.get_context("fork")
    here, there = context.Pipe()
    worker = context.Process(target=_worker, args=(builder, chunks, there, here), daemon=True)
    worker.start()
    there.close()  # so recv() raises EOFError instead of hanging if the worker dies
    try:
        while True:
            kind, payload = here.recv()
            if kind == "ids":
                here.send(allocator.take_round(payload))
            elif kind == "rows":
                yield pickle.loads(payload)  # noqa: S301 - our own worker's output
            elif kind == "done":
                return
            else:
                raise RuntimeError(f"Demo worker failed:\n{payload}")
    finally:
        if worker.is_alive():  # we failed (e.g. a database error): stop building
            worker.terminate()
        worker.join()
        here.close()


def _worker(
    builder: _Builder, chunks: list[list[int]], pipe: Connection, parent_end: Connection
) -> None:
    parent_end.close()  # so recv() raises EOFError instead of hanging if the parent dies
    try:
        ask = lambda counts: pipe.send(("ids", counts))  # noqa: E731
        for packed in _build_rounds(builder, chunks, ask, pipe.recv, pickle.dumps):
            pipe.send(("rows", packed))
        pipe.send(("done", None))
    except BaseException:  # reported by the parent, which raises
        pipe.send(("error", traceback.format_exc()))


# --------------------------------------------------------------------------- programmes

PROGRAMS = {
    # code: (name, target) – created only if the catalogue migration has not seeded them.
    "PKH": ("Program Keluarga Harapan", Program.Target.FAMILY),
    "BPNT": ("Bantuan Pangan Non Tunai / Sembako", Program.Target.FAMILY),
    "PBI-JK": ("Penerima Bantuan Iuran Jaminan Kesehatan", Program.Target.PERSON),
}


def _programs() -> dict[str, int]:
    """Programme ids by code; SEMBAKO stands in for BPNT if the catalogue calls it that."""
    found = dict(Program.objects.filter(code__in=[*PROGRAMS, "SEMBAKO"]).values_list("code", "id"))
    if "BPNT" not in found and "SEMBAKO" in found:
        found["BPNT"] = found["SEMBAKO"]
    for code, (name, target) in PROGRAMS.items():
        if code not in found:
            found[code] = Program.objects.get_or_create(
                code=code, defaults={"name": name, "target": target}
            )[0].pk
    return found


# --------------------------------------------------------------------------- generation


class _Weighted:
    """Fast repeated weighted choice: cumulative weights computed once."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.values = [v for v, _ in pairs]
        self.cum = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cum, rng.random() * self.total)]


# Weighted code distributions (DTKS2020 codes, domain.md §1.3), plausible for Kota Padang.
# fmt: off
W_FAMILIES = _Weighted([(1, 88), (2, 10), (3, 2)])
W_KIND = _Weighted([("couple", 70), ("single_mother", 14), ("single_father", 3),
                    ("elderly", 7), ("young", 6)])
W_CHILDREN = _Weighted([(0, 10), (1, 18), (2, 30), (3, 22), (4, 12), (5, 8)])
W_DESIL = _Weighted(list(zip(range(1, 11), (22, 18, 14, 11, 9, 7, 6, 5, 4, 4), strict=True)))
W_BIRTH_PLACE = _Weighted(BIRTH_PLACES)
W_EDU_ADULT = _Weighted([(None, 5), (1, 27), (3, 3), (4, 18), (6, 2), (7, 30), (8, 2), (9, 3),
                         (10, 10)])
W_EDU_OLD = _Weighted([(None, 15), (1, 45), (3, 5), (4, 15), (7, 15), (10, 5)])
W_SECTOR = _Weighted([(1, 4), (2, 2), (3, 2), (4, 5), (5, 1), (6, 1), (7, 1), (8, 1), (9, 7),
                      (10, 1), (11, 10), (12, 24), (13, 8), (14, 9), (15, 2), (16, 1), (17, 5),
                      (18, 3), (19, 8), (20, 1), (21, 1), (22, 3)])
W_EMPLOYMENT = _Weighted([(1, 30), (2, 8), (3, 4), (4, 25), (5, 5), (6, 5), (7, 15), (8, 8)])
W_DISABILITY = _Weighted([(1, 30), (2, 12), (3, 10), (4, 6), (5, 8), (6, 2), (7, 1), (8, 1),
                          (9, 1), (10, 12), (11, 8), (12, 9)])
W_CHRONIC = _Weighted([(1, 35), (2, 15), (3, 10), (4, 8), (5, 12), (6, 4), (7, 5), (8, 2), (9, 9)])
W_TENURE = _Weighted([(1, 70), (2, 15), (3, 10), (4, 2), (5, 3)])
W_LAND = _Weighted([(1, 65), (2, 25), (3, 7), (4, 3)])
W_FLOOR = _Weighted([(2, 45), (6, 28), (4, 10), (8, 8), (9, 3), (1, 2), (3, 1), (5, 2), (7, 1)])
W_WALL = _Weighted([(1, 80), (3, 12), (2, 3), (4, 2), (6, 2), (7, 1)])
W_ROOF = _Weighted([(6, 82), (5, 6), (1, 4), (4, 3), (3, 3), (9, 2)])
W_WATER = _Weighted([(2, 35), (3, 25), (6, 18), (5, 10), (1, 4), (4, 3), (7, 2), (8, 2), (11, 1)])
W_POWER = _Weighted([(1, 35), (2, 45), (3, 12), (4, 4), (5, 1), (6, 3)])
W_FUEL = _Weighted([(3, 84), (2, 5), (8, 5), (5, 3), (1, 2), (9, 1)])
W_TOILET_USE = _Weighted([(1, 80), (2, 10), (3, 5), (4, 5)])
W_TOILET_TYPE = _Weighted([(1, 85), (2, 8), (3, 7)])
W_SEWAGE = _Weighted([(1, 70), (2, 5), (3, 10), (4, 12), (5, 2), (6, 1)])
W_HH_NONAKTIF = _Weighted([(NonaktifReason.PINDAH, 40), (NonaktifReason.TIDAK_DITEMUKAN, 30),
                           (NonaktifReason.TIDAK_LAYAK, 20), (NonaktifReason.MENOLAK, 10)])
# fmt: on

TIDAK_LAYAK_REASONS = (
    "Memiliki mobil",
    "Ada ART ASN/TNI/Polri",
    "Daya listrik > 1300 VA",
    "Rumah permanen, luas > 100 m²",
)
KEBERADAAN = {
    NonaktifReason.MENINGGAL: Keberadaan.MENINGGAL,
    NonaktifReason.PINDAH: Keberadaan.PINDAH,
    NonaktifReason.TIDAK_DITEMUKAN: Keberadaan.TIDAK_DITEMUKAN,
}


@dataclass
class _Spec:
    """One family member before attributes: who they are to the head and the KRT."""

    rel_kk: int
    rel_ruta: int
    sex: int
    age: int
    marital: int
    name: str = ""
    name_norm: str = ""
    mother_name: str = ""
    mother_norm: str = ""
    birth_date: dt.date = dt.date.min
    extra: dict[str, Any] = field(default_factory=dict)


_Plan = tuple[_Desa, list[list[_Spec]]]  # a household: its desa and its families' members


def _counts(plans: list[_Plan]) -> tuple[int, int, int]:
    """Households, families and persons of a round's plans."""
    families = sum(len(fams) for _, fams in plans)
    persons = sum(len(members) for _, fams in plans for members in fams)
    return len(plans), families, persons


class _Builder:
    """Turns a list of desa indexes into rows for every table, one round at a time."""

    def __init__(
        self,
        *,
        rng: random.Random,
        seed: int,
        as_of: dt.date,
        desa: list[_Desa],
        changeset_id: int,
        programs: dict[str, int],
        nik_serials: dict[str, int],
        kk_serials: dict[str, int],
    ) -> None:
        from faker import Faker

        self.rng, self.rand, self.as_of, self.desa = rng, rng.random, as_of, desa
        self.changeset_id, self.programs = changeset_id, programs
        self.nik_serials, self.kk_serials = nik_serials, kk_serials
        self.kecamatan = sorted({d.kecamatan for d in desa})
        # Faker is slow per call: draw pools once and sample from them.
        fake = Faker("id_ID")
        fake.seed_instance(seed)
        self.male = sorted({fake.first_name_male() for _ in range(1500)}) + list(MINANG_MALE) * 4
        self.female = (
            sorted({fake.first_name_female() for _ in range(1500)}) + list(MINANG_FEMALE) * 6
        )
        self.surnames = sorted({fake.last_name() for _ in range(500)})
        self.streets = sorted({fake.street_name() for _ in range(300)}) + list(PADANG_STREETS) * 8
        self.norm: dict[str, str] = {}
        # Per sex, a sample of (nik, name, mother) of earlier adults to copy for NIK ganda.
        self.donors: dict[int, list[tuple[str, tuple[str, str], tuple[str, str]]]] = {
            MALE: [],
            FEMALE: [],
        }
        self.padan_times = [
            dt.datetime(as_of.year - 1, m, 15, 2, 0, tzinfo=dt.UTC) for m in range(1, 13)
        ]

    # ---- small helpers (random.choice/randint cost ~1 µs each; these ~0.1 µs)

    def pick(self, seq: Sequence[Any]) -> Any:
        return seq[int(self.rand() * len(seq))]

    def between(self, low: int, high: int) -> int:
        """Uniform integer in [low, high]."""
        return low + int(self.rand() * (high - low + 1))

    def normalise(self, raw: str) -> str:
        got = self.norm.get(raw)
        if got is None:
            if len(self.norm) > 100_000:  # keep memory bounded on very large runs
                self.norm.clear()
            got = self.norm[raw] = normalise_name(raw)
        return got

    def name(self, sex: int, age: int) -> tuple[str, str]:
        """A name as typed and its normal form.

        The normal form is built from cached per-part normal forms: `normalise_name` costs
        tens of µs and full names rarely repeat, but their parts do. Titles added here are
        exactly the ones `normalise_name` drops; a test checks both forms agree.
        """
        rng = self.rng
        pool = self.male if sex == MALE else self.female
        parts = [self.pick(pool)]
        r = rng.random()
        if r < 0.45:
            parts.append(self.pick(pool))
        elif r < 0.60:
            parts.append(self.pick(SUKU))
        elif r < 0.75:
            parts.append(self.pick(self.surnames))
        raw = " ".join(parts)
        if age >= 50 and rng.random() < 0.08:
            raw = ("H. " if sex == MALE else "Hj. ") + raw
        return raw, " ".join(self.normalise(part) for part in parts)

    def birth_date(self, age: int) -> dt.date:
        return self.as_of - dt.timedelta(days=int(age * 365.25) + self.between(0, 364))

    def nik(self, spec: _Spec, home_kec: str) -> str | None:
        rng = self.rng
        if rng.random() < (NO_NIK_RATE_BABY if spec.age < 1 else NO_NIK_RATE):
            return None
        donors = self.donors[spec.sex]
        if donors and rng.random() < NIK_GANDA_RATE:
            nik, name, mother = self.pick(donors)
            if rng.random() < 0.5:  # the same person registered twice
                (spec.name, spec.name_norm), (spec.mother_name, spec.mother_norm) = name, mother
            return nik
        # NIK is issued where the person was first registered: mostly the home kecamatan.
        kec = home_kec if rng.random() < 0.85 else self.pick(self.kecamatan)
        first = compose_nik(kec, spec.birth_date, spec.sex, 1)
        prefix = first[:12]
        serial = self.nik_serials.get(prefix, 0) + 1
        self.nik_serials[prefix] = serial
        nik = first if serial == 1 else f"{prefix}{serial:04d}"
        if spec.age >= 17:
            entry = (nik, (spec.name, spec.name_norm), (spec.mother_name, spec.mother_norm))
            if len(donors) < 2000:
                donors.append(entry)
            elif rng.random() < 0.05:
                donors[self.between(0, 1999)] = entry
        return nik

    def no_kk(self, home_kec: str, head_age: int) -> tuple[str, dt.date]:
        rng = self.rng
        kec = home_kec if rng.random() < 0.9 else self.pick(self.kecamatan)
        # Reissued on marriage, moves, pecah KK: somewhere in the last 15 years of adulthood.
        years_back = min(15, max(0, head_age - 18))
        recorded = self.as_of - dt.timedelta(days=self.between(30, 30 + 365 * years_back))
        first = compose_no_kk(kec, recorded, 1)
        prefix = first[:12]
        serial = self.kk_serials.get(prefix, 0) + 1
        self.kk_serials[prefix] = serial
        return (first if serial == 1 else f"{prefix}{serial:04d}"), recorded

    # ---- family structure

    def children(self, young_parent_age: int, rel_kk: int, rel_ruta: int) -> list[_Spec]:
        """Children of a couple/parent: born when the younger parent was 18–44."""
        rng = self.rng
        out = []
        wanted = W_CHILDREN.pick(rng)
        at_birth = self.between(19, 30)
        for _ in range(wanted):
            age = young_parent_age - at_birth
            if age < 0 or at_birth > 44:
                break
            # Grown children mostly have their own KK; some still live at home.
            if age < 25 or (age < 35 and rng.random() < 0.35):
                sex = MALE if rng.random() < 0.51 else FEMALE
                out.append(
                    _Spec(
                        rel_kk,
                        rel_ruta,
                        sex,
                        age,
                        SINGLE if age < 24 or rng.random() < 0.7 else DIVORCED,
                    )
                )
            at_birth += self.between(1, 6)
        return out

    def couple(
        self, head_age: int, rel_ruta_head: int, rel_ruta_spouse: int, head_sex: int | None = None
    ) -> tuple[_Spec, _Spec]:
        rng = self.rng
        head_sex = head_sex or (MALE if rng.random() < 0.96 else FEMALE)
        gap = int(rng.triangular(-3, 12, 4))
        spouse_age = max(18, head_age - gap) if head_sex == MALE else max(18, head_age + gap)
        return (
            _Spec(HEAD, rel_ruta_head, head_sex, head_age, MARRIED),
            _Spec(SPOUSE, rel_ruta_spouse, 3 - head_sex, spouse_age, MARRIED),
        )

    def primary_family(self) -> list[_Spec]:
        rng = self.rng
        kind = W_KIND.pick(rng)
        if kind == "couple":
            head, spouse = self.couple(int(rng.triangular(22, 80, 40)), HEAD, SPOUSE)
            members = [head, spouse, *self.children(min(head.age, spouse.age), CHILD, CHILD)]
            if rng.random() < 0.06 and head.age < 65:  # a widowed parent lives with them
                sex = FEMALE if rng.random() < 0.7 else MALE
                members.append(_Spec(PARENT, PARENT, sex, head.age + self.between(20, 32), WIDOWED))
            if head.age >= 48 and rng.random() < 0.08:  # a grandchild left with grandparents
                members.append(
                    _Spec(
                        GRANDCHILD,
                        GRANDCHILD,
                        self.pick((MALE, FEMALE)),
                        self.between(0, min(12, head.age - 40)),
                        SINGLE,
                    )
                )
        elif kind in ("single_mother", "single_father"):
            sex = FEMALE if kind == "single_mother" else MALE
            age = int(rng.triangular(26, 82, 45))
            status = WIDOWED if age > 50 and rng.random() < 0.7 else DIVORCED
            head = _Spec(HEAD, HEAD, sex, age, status)
            members = [head, *self.children(age, CHILD, CHILD)]
        elif kind == "elderly":
            sex = FEMALE if rng.random() < 0.65 else MALE
            members = [_Spec(HEAD, HEAD, sex, self.between(60, 92), WIDOWED)]
        else:
            sex = MALE if rng.random() < 0.6 else FEMALE
            members = [
                _Spec(
                    HEAD,
                    HEAD,
                    sex,
                    self.between(19, 40),
                    SINGLE if rng.random() < 0.85 else DIVORCED,
                )
            ]
        return members[:8]

    def secondary_family(self, primary_head: _Spec) -> list[_Spec]:
        """A married child of the KRT with their own KK, or other relatives (lainnya)."""
        rng = self.rng
        if primary_head.age >= 45:
            age = self.between(21, primary_head.age - 19)
            child_sex = MALE if rng.random() < 0.4 else FEMALE  # Minang: daughters stay home
            head, spouse = self.couple(age, CHILD, CHILD_IN_LAW)
            if child_sex == FEMALE:
                # The KRT's daughter is the spouse in her own KK; her husband is menantu.
                head = _Spec(HEAD, CHILD_IN_LAW, MALE, max(age + self.between(0, 6), 21), MARRIED)
                spouse = _Spec(SPOUSE, CHILD, FEMALE, age, MARRIED)
            kids = self.children(min(head.age, spouse.age), CHILD, GRANDCHILD)
            return [head, spouse, *kids][:8]
        head, spouse = self.couple(self.between(22, 45), OTHER, OTHER)
        return [head, spouse, *self.children(min(head.age, spouse.age), CHILD, OTHER)][:8]

    # ---- one round

    def plan(self, desa_indexes: list[int]) -> list[_Plan]:
        """Who lives in each household of a round; fixes how many ids the round needs."""
        rng = self.rng
        plans = []
        for di in desa_indexes:
            primary = self.primary_family()
            fams = [primary]
            for _ in range(W_FAMILIES.pick(rng) - 1):
                fams.append(self.secondary_family(primary[0]))  # noqa: PERF401 - reads better
            plans.append((self.desa[di], fams))
        return plans

    def rows(self, plans: list[_Plan], ids: _RoundIds) -> dict[type[models.Model], list]:
        hh_ids, fam_ids, person_ids = (iter(i) for i in ids)
        out: dict[type[models.Model], list] = {
            Household: [],
            Family: [],
            Person: [],
            FamilyMembership: [],
            ProgramMembership: [],
            Change: [],
        }
        for desa, fams in plans:
            self.household_rows(desa, fams, next(hh_ids), fam_ids, person_ids, out)
        return out

    def household_rows(
        self,
        desa: _Desa,
        fams: list[list[_Spec]],
        hh_id: int,
        fam_ids: Any,
        person_ids: Any,
        out: dict[type[models.Model], list],
    ) -> None:
        rng = self.rng
        code = desa.digits
        desil = W_DESIL.pick(rng)
        hh_status = self.status(rng.random() < 0.03, household=True)
        out[Household].append(self.housing(desa, hh_id, desil, hh_status))
        out[Change].append(self.change("household", hh_id, code, {"region_code": [None, code]}))
        member_no = 0
        for nuk, specs in enumerate(fams, start=1):
            fam_id = next(fam_ids)
            head = specs[0]
            no_kk, kk_date = self.no_kk(desa.kecamatan, head.age)
            fam_desil = min(10, max(1, desil + self.pick((0, 0, 0, -1, 1))))
            self.people(specs)
            ids = [next(person_ids) for _ in specs]
            out[Family].append(
                {
                    "id": fam_id,
                    "household_id": hh_id,
                    "region_code": code,
                    "no_kk": no_kk,
                    "nuk": nuk,
                    "head_id": ids[0],
                    "desil": fam_desil,
                    **hh_status,
                }
            )
            out[Change].append(self.change("family", fam_id, code, {"no_kk": [None, no_kk]}))
            has_component = False
            for pid, spec in zip(ids, specs, strict=True):
                member_no += 1
                row = self.person_row(
                    spec, pid, hh_id, fam_id, code, member_no, fam_desil, hh_status, desa.kecamatan
                )
                out[Person].append(row)
                out[Change].append(
                    self.change(
                        "person",
                        pid,
                        code,
                        {"name": [None, row["name"]], "nik": [None, row["nik"]]},
                    )
                )
                out[FamilyMembership].append(
                    {
                        "person_id": pid,
                        "family_id": fam_id,
                        "region_code": code,
                        "relation_kk": spec.rel_kk,
                        "valid_from": max(kk_date, row["birth_date"]),
                        "valid_to": None,
                    }
                )
                has_component = has_component or bool(
                    spec.age < 18 or spec.age >= 60 or row["pregnant"] or row["disability"]
                )
            if hh_status["status"] == AKTIF:
                self.program_rows(fam_id, ids, code, fam_desil, has_component, out)

    def people(self, specs: list[_Spec]) -> None:
        """Names and birth dates; children carry their real mother's name."""
        rng = self.rng
        for spec in specs:
            spec.birth_date = self.birth_date(spec.age)
            spec.name, spec.name_norm = self.name(spec.sex, spec.age)
            spec.mother_name, spec.mother_norm = self.name(FEMALE, 70)
        mother = next(
            (s for s in specs[:2] if s.sex == FEMALE and s.rel_kk in (HEAD, SPOUSE)), None
        )
        grandparent = next((s for s in specs if s.rel_kk == PARENT and s.sex == FEMALE), None)
        for spec in specs:
            if spec.rel_kk == CHILD and mother is not None:
                spec.mother_name, spec.mother_norm = mother.name, mother.name_norm
            elif spec.rel_kk == HEAD and grandparent is not None:
                spec.mother_name, spec.mother_norm = grandparent.name, grandparent.name_norm
        for spec in specs:
            if spec.sex == FEMALE and spec.marital == MARRIED and spec.age < 50:
                spec.extra["pregnant"] = rng.random() < 0.06
            if spec.rel_kk == SPOUSE or (spec.rel_kk == HEAD and spec.sex == FEMALE):
                spec.extra["breastfeeding"] = (
                    spec.sex == FEMALE
                    and any(s.rel_kk == CHILD and s.age < 2 for s in specs)
                    and rng.random() < 0.6
                )

    def status(
        self, nonaktif: bool, *, household: bool = False, reason: str | None = None
    ) -> dict[str, Any]:
        rng = self.rng
        if nonaktif:
            reason = reason or W_HH_NONAKTIF.pick(rng)
            return {
                "status": NONAKTIF,
                "nonaktif_reason": str(reason),
                "keberadaan": str(KEBERADAAN.get(reason, Keberadaan.DITEMUKAN)),
                "kelayakan": Kelayakan.TIDAK_LAYAK.value
                if reason == NonaktifReason.TIDAK_LAYAK
                else Kelayakan.BELUM.value,
                "kelayakan_reason": self.pick(TIDAK_LAYAK_REASONS)
                if reason == NonaktifReason.TIDAK_LAYAK
                else "",
                "penetapan_period": "",
            }
        r = rng.random()
        kelayakan = (
            Kelayakan.LAYAK
            if r < 0.86
            else (Kelayakan.BELUM if r < 0.96 else Kelayakan.TIDAK_LAYAK)
        )
        return {
            "status": AKTIF,
            "nonaktif_reason": "",
            "keberadaan": Keberadaan.DITEMUKAN.value,
            "kelayakan": kelayakan.value,
            "kelayakan_reason": self.pick(TIDAK_LAYAK_REASONS)
            if kelayakan == Kelayakan.TIDAK_LAYAK
            else "",
            # The demo registry predates every edition: '' = valid since before the first
            # penetapan, so as-of reads of any edition include it (editions/versions.py).
            "penetapan_period": "",
        }

    def change(self, entity: str, pk: int, code: str, diff: dict[str, Any]) -> dict[str, Any]:
        return {
            "changeset_id": self.changeset_id,
            "entity": entity,
            "entity_id": pk,
            "region_code": code,
            "action": CREATE,
            "diff": diff,
        }

    def housing(
        self, desa: _Desa, hh_id: int, desil: int, status: dict[str, Any]
    ) -> dict[str, Any]:
        """Blok I, III and V of one household; assets get likelier as desil rises."""
        rng = self.rng
        w = desil / 10
        chance = rng.random
        water = W_WATER.pick(rng)
        water_acq = 2 if water == 3 else (1 if water in (1, 2, 4) else 3)
        lighting = 1 if chance() < 0.97 else self.pick((2, 3))
        toilet_use = W_TOILET_USE.pick(rng)
        rt, rw = self.between(1, 15), self.between(1, 8)
        land = chance() < 0.1
        lat, lon = desa.centre
        return {
            "id": hh_id,
            "id_dtks": f"H{desa.digits}{hh_id:08d}",
            "id_bdt": "",
            "region_id": desa.id,
            "region_code": desa.digits,
            "address": f"{self.pick(self.streets)} No. {self.between(1, 120)}",
            "rt": f"{rt:03d}",
            "rw": f"{rw:03d}",
            "sls_name": f"RT {rt:03d} RW {rw:03d}",
            "latitude": Decimal(f"{lat + rng.uniform(-0.008, 0.008):.6f}"),
            "longitude": Decimal(f"{lon + rng.uniform(-0.008, 0.008):.6f}"),
            "desil": desil,
            "building_tenure": W_TENURE.pick(rng),
            "land_tenure": W_LAND.pick(rng),
            "floor_area": int(18 + rng.random() * 40 + w * rng.random() * 110),
            "floor_type": W_FLOOR.pick(rng),
            "wall_type": W_WALL.pick(rng),
            "wall_condition": 1 if chance() < 0.45 + 0.5 * w else 2,
            "roof_type": W_ROOF.pick(rng),
            "roof_condition": 1 if chance() < 0.4 + 0.5 * w else 2,
            "bedrooms": self.between(1, 2 + int(3 * w)),
            "water_source": water,
            "water_acquisition": water_acq,
            "water_customer_id": f"{self.between(10**9, 10**10 - 1)}" if water_acq == 2 else "",
            "lighting": lighting,
            "power_capacity": W_POWER.pick(rng) if lighting == 1 else None,
            "pln_customer_id": f"{self.between(10**11, 10**12 - 1)}" if lighting == 1 else "",
            "cooking_fuel": W_FUEL.pick(rng),
            "gas_customer_id": "",
            "toilet_use": toilet_use,
            "toilet_type": 4 if toilet_use == 4 else W_TOILET_TYPE.pick(rng),
            "sewage": W_SEWAGE.pick(rng) if toilet_use != 4 else 5,
            "asset_gas_cylinder": chance() < 0.1 + 0.4 * w,
            "asset_fridge": chance() < 0.3 + 0.5 * w,
            "asset_ac": chance() < 0.02 + 0.2 * w,
            "asset_water_heater": chance() < 0.01 + 0.1 * w,
            "asset_landline": chance() < 0.02 + 0.05 * w,
            "asset_tv": chance() < 0.75 + 0.2 * w,
            "asset_gold": chance() < 0.1 + 0.3 * w,
            "asset_computer": chance() < 0.05 + 0.3 * w,
            "asset_bicycle": chance() < 0.2,
            "asset_motorcycle": chance() < 0.5 + 0.4 * w,
            "asset_car": chance() < 0.01 + 0.15 * w,
            "asset_boat": chance() < 0.02,
            "asset_outboard": chance() < 0.01,
            "asset_motorboat": chance() < 0.01,
            "asset_ship": chance() < 0.001,
            "asset_smartphone": chance() < 0.7 + 0.25 * w,
            "asset_land": land,
            "land_area": rng.randrange(100, 5000, 50) if land else None,
            "asset_other_house": chance() < 0.03 + 0.05 * w,
            "livestock_cattle": self.between(1, 3) if chance() < 0.04 else 0,
            "livestock_buffalo": self.between(1, 2) if chance() < 0.01 else 0,
            "livestock_horse": 0,
            "livestock_pig": 0,
            "livestock_goat": self.between(1, 6) if chance() < 0.05 else 0,
            "has_business": chance() < 0.25,
            **status,
        }

    def person_row(
        self,
        spec: _Spec,
        pid: int,
        hh_id: int,
        fam_id: int,
        code: str,
        member_no: int,
        desil: int,
        hh_status: dict[str, Any],
        home_kec: str,
    ) -> dict[str, Any]:
        rng = self.rng
        age = spec.age
        nik = self.nik(spec, home_kec)
        if hh_status["status"] != AKTIF:
            status = hh_status
        else:
            r = rng.random()
            if r < (0.03 if age >= 70 else 0.003):
                status = self.status(True, reason=NonaktifReason.MENINGGAL)
            elif r < (0.04 if age >= 70 else 0.01):
                status = self.status(True, reason=NonaktifReason.PINDAH)
            else:
                status = hh_status
        aktif = status["status"] == AKTIF
        # School, education and diploma follow age.
        if age < 7:
            school, edu, klass, diploma = 0, None, None, None
        elif age <= 12:
            school, edu, klass, diploma = 1, (1 if rng.random() < 0.85 else 3), min(age - 6, 6), 0
        elif age <= 15:
            school, edu, klass, diploma = 1, (4 if rng.random() < 0.85 else 6), age - 12, 1
        elif age <= 18:
            school, edu, klass, diploma = 1, (7 if rng.random() < 0.85 else 9), min(age - 15, 3), 2
        elif age <= 23 and rng.random() < 0.3:
            school, edu, klass, diploma = 1, 10, min(age - 18, 4), 3
        else:
            edu = (W_EDU_OLD if age >= 60 else W_EDU_ADULT).pick(rng)
            school = 0 if edu is None else 2
            klass = None if edu is None else 8
            diploma = {None: 0, 1: 1, 3: 1, 2: 1, 4: 2, 5: 2, 6: 2, 7: 3, 8: 3, 9: 3, 10: 5}[edu]
        # Work: adults out of school.
        worked = None
        sector = employment = hours = None
        occupation = ""
        if age >= 10 and school != 1:
            p_work = (0.82 if spec.sex == MALE else 0.45) * (0.5 if age >= 65 else 1)
            worked = rng.random() < p_work
            if worked:
                sector = W_SECTOR.pick(rng)
                employment = W_EMPLOYMENT.pick(rng)
                if sector in (17, 18, 19) and employment == 5:
                    occupation = "PNS"
                else:
                    occupation = OCCUPATIONS[sector]
                hours = self.between(10, 60)
        name = spec.name
        if edu == 10 and sector == 17 and rng.random() < 0.6:
            name += ", S.Pd."  # a title that normalisation must split off
        p_disabled = 0.012 + (0.03 if age >= 60 else 0)
        p_chronic = 0.02 if age < 40 else (0.12 if age < 60 else 0.3)
        cards = 1 if (age < 35 or rng.random() < 0.5) and rng.random() < 0.85 else 0
        cards += 2 if school == 1 and age >= 12 else 0
        cards += 4 if age >= 17 and nik else 0
        cards += 8 if age >= 17 and rng.random() < 0.3 else 0
        padan = BELUM_PADAN
        if nik:
            r = rng.random()
            padan = PADAN if r < 0.93 else (TIDAK_PADAN if r < 0.96 else BELUM_PADAN)
        dtsen = (
            "aktif"
            if aktif
            else (
                "aktif_asesmen_meninggal"
                if status["nonaktif_reason"] == NonaktifReason.MENINGGAL and rng.random() < 0.5
                else "nonaktif"
            )
        )
        return {
            "id": pid,
            "id_dtks": f"P{code}{pid:09d}",
            "household_id": hh_id,
            "family_id": fam_id,
            "region_code": code,
            "member_no": member_no,
            "nik": nik,
            "name": name,
            "name_norm": spec.name_norm,
            "sex": spec.sex,
            "birth_place": W_BIRTH_PLACE.pick(rng),
            "birth_date": spec.birth_date,
            "relation_ruta": spec.rel_ruta,
            "relation_kk": spec.rel_kk,
            "mother_name": spec.mother_name,
            "mother_name_norm": spec.mother_norm,
            "marital_status": spec.marital,
            "marriage_certificate": (1 if rng.random() < 0.8 else self.pick((0, 2)))
            if spec.marital != SINGLE
            else None,
            "listed_in_kk": rng.random() < 0.97,
            "id_cards": cards,
            "pregnant": spec.extra.get("pregnant"),
            "breastfeeding": spec.extra.get("breastfeeding"),
            "disability": W_DISABILITY.pick(rng) if rng.random() < p_disabled else 0,
            "chronic_illness": W_CHRONIC.pick(rng) if rng.random() < p_chronic else 0,
            "school_participation": school,
            "education_level": edu,
            "highest_class": klass,
            "diploma": diploma,
            "worked_last_week": worked,
            "work_hours": hours,
            "work_sector": sector,
            "employment_status": employment,
            "occupation": occupation,
            "informal_work": None if employment is None else employment in INFORMAL_STATUSES,
            "padan": padan,
            "padan_checked_at": self.pick(self.padan_times) if padan != BELUM_PADAN else None,
            "dtsen_status": dtsen,
            "desil": desil,
            **status,
        }

    def program_rows(
        self,
        fam_id: int,
        person_ids: list[int],
        code: str,
        desil: int,
        has_component: bool,
        out: dict[type[models.Model], list],
    ) -> None:
        """PKH and BPNT per family, PBI-JK per person; time-bounded, some already ended."""
        rng = self.rng
        rows = out[ProgramMembership]

        def period(first_year: int) -> tuple[dt.date, dt.date | None, str]:
            start = dt.date(
                self.between(first_year, self.as_of.year - 1), self.pick((1, 4, 7, 10)), 1
            )
            if rng.random() < 0.1:
                end = min(self.as_of, start + dt.timedelta(days=self.between(180, 1500)))
                return start, end, ProgramMembership.Status.BERHENTI.value
            return start, None, ProgramMembership.Status.AKTIF.value

        if desil <= 3 and has_component and rng.random() < 0.7:
            start, end, st = period(2016)
            rows.append(
                {
                    "program_id": self.programs["PKH"],
                    "person_id": None,
                    "family_id": fam_id,
                    "region_code": code,
                    "period_from": start,
                    "period_to": end,
                    "status": st,
                    "source": "demo",
                    "reference": f"{code[:4]}{self.between(10**11, 10**12 - 1)}",
                }
            )
        if desil <= 4 and rng.random() < 0.75:
            start, end, st = period(2018)
            rows.append(
                {
                    "program_id": self.programs["BPNT"],
                    "person_id": None,
                    "family_id": fam_id,
                    "region_code": code,
                    "period_from": start,
                    "period_to": end,
                    "status": st,
                    "source": "demo",
                    "reference": f"5{self.between(10**14, 10**15 - 1)}",
                }
            )  # KKS card no.
        if desil <= 5 and rng.random() < 0.85:
            start, end, st = period(2015)  # PBI is decided per family, recorded per person
            for pid in person_ids:
                rows.append(
                    {
                        "program_id": self.programs["PBI-JK"],
                        "person_id": pid,
                        "family_id": None,
                        "region_code": code,
                        "period_from": start,
                        "period_to": end,
                        "status": st,
                        "source": "demo",
                        "reference": f"000{self.between(10**9, 10**10 - 1)}",
                    }
                )
