"""Editions benchmark: determine a monthly edition with 1 % changes over a large registry.

    # generate 10 M persons (≈ 15–20 min on 2 cores) and keep the database, then determine
    .venv/bin/python bench/bench_editions.py --phase generate --persons 10000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_editions.py --phase determine \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres

PostgreSQL only. `--phase generate` (re)creates the database `terpadu_bench_editions` (or
`--db-name`), loads the region tree and runs `generate_demo` over consecutive kab/kota of
a few provinces (`--per-kabkota` persons each) until `--persons`. `--phase determine` reuses
that database: it writes `--change-rate` of the persons as DITERIMA_PUSAT proposals (bulk
insert: corrections, deactivations, new households, moves), times `determine_edition`,
measures storage per table before/after (`pg_total_relation_size`), then times an as-of query
for one kab/kota (count + first page) and the diff between the two editions. Prints JSON and
appends one line per phase to bench/results/editions.jsonl. `--phase all` does both; the
database is kept unless `--drop`.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdb import ROOT, drop_database, prepare_database

RESULTS = ROOT / "bench" / "results" / "editions.jsonl"
BENCH_DB = "terpadu_bench_editions"
PERSONS_PER_HOUSEHOLD = 3.55  # what generate_demo produces on average (measured)
PROVINCES = ("13", "14", "12", "16", "33", "35", "32", "73", "51", "63")
TABLES = (
    "registry_person",
    "registry_family",
    "registry_household",
    "registry_familymembership",
    "registry_change",
    "registry_changeset",
    "editions_personversion",
    "editions_familyversion",
    "editions_householdversion",
    "editions_edition",
    "proposals_proposal",
    "proposals_proposalevent",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase", choices=("generate", "determine", "all"), default="all")
    parser.add_argument("--persons", type=int, default=10_000_000)
    parser.add_argument("--per-kabkota", type=int, default=500_000)
    parser.add_argument("--change-rate", type=float, default=0.01)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--db-name", default=BENCH_DB)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--profile", action="store_true", help="cProfile determine_edition")
    parser.add_argument(
        "--wal-compression",
        nargs="?",
        const="on",
        choices=("on", "pglz", "lz4", "zstd"),
        help="SET wal_compression for the session (superuser; a server setting in production)",
    )
    parser.add_argument(
        "--skip-migrate",
        action="store_true",
        help="determine on the schema as it is (to measure before a pending migration)",
    )
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="skip the VACUUM between months (PostgreSQL's autovacuum would have run; it is "
        "off on the shared bench server)",
    )
    parser.add_argument("--label", default="", help="free text stored with the results")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    return parser.parse_args()


def use_database(url: str, name: str, *, fresh: bool) -> None:
    """Point Django at database `name` next to `url` (recreated when `fresh`), then setup."""
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench_editions needs PostgreSQL (--database-url postgres://…)")
    tmp = Path(tempfile.mkdtemp(prefix="terpadu-bench-"))
    if fresh:
        run_url, _vendor = prepare_database(url, tmp, name)
    else:
        run_url = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    os.environ["DATABASE_URL"] = run_url
    os.environ["TERPADU_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def append(record: dict[str, Any]) -> None:
    record = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "bench": "editions",
        "db": "postgresql",
        "cpus": os.cpu_count(),
        **record,
    }
    print(json.dumps(record, indent=1))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as fh:
        fh.write(json.dumps(record) + "\n")


# --------------------------------------------------------------------------- generate


def generate(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    from terpadu.regions.loading import load_regions
    from terpadu.regions.models import Level, Region
    from terpadu.registry.demo import generate_demo

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    load_regions()
    print(f"migrated + regions in {time.perf_counter() - started:.1f} s", flush=True)
    kabkota = [
        d
        for p in PROVINCES
        for d in Region.objects.current()
        .within(p)
        .filter(level=Level.KABKOTA)
        .order_by("digits")
        .values_list("digits", flat=True)
    ]
    persons = households = 0
    gen_started = time.perf_counter()
    for i, code in enumerate(kabkota):
        if persons >= args.persons:
            break
        want = min(args.per_kabkota, args.persons - persons)
        result = generate_demo(
            region_digits=code,
            households=max(1, round(want / PERSONS_PER_HOUSEHOLD)),
            seed=args.seed + i,
        )
        persons += result.persons
        households += result.households
        elapsed = time.perf_counter() - gen_started
        print(
            f"  {code}: {result.persons:,} persons in {result.seconds:.0f} s "
            f"(total {persons:,} in {elapsed:.0f} s, {persons / elapsed:,.0f}/s)",
            flush=True,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - gen_started
    append(
        {
            "phase": "generate",
            "persons": persons,
            "households": households,
            "seconds": round(seconds, 1),
            "persons_per_s": round(persons / seconds),
            "peak_mb": peak_mb(),
        }
    )


# --------------------------------------------------------------------------- determine


def table_sizes() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "WHERE c.relkind = 'r' AND c.relname = ANY(%s)",
            [list(TABLES)],
        )
        return dict(cursor.fetchall())


def next_period(period: str) -> str:
    y, m = divmod(int(period[:4]) * 12 + int(period[5:]), 12)
    return f"{y:04d}-{m + 1:02d}"


def make_proposals(n_changes: int, period: str, by: Any, rng: random.Random) -> dict[str, int]:
    """Write `n_changes` DITERIMA_PUSAT proposals in bulk: 55 % corrections, 25 %
    deactivations, 10 % new households (≈ 3.5 persons each), 10 % moves."""
    from django.db import connection

    from terpadu.proposals.models import Kind, Proposal, Status, Target
    from terpadu.registry.models import Household, NonaktifReason, Person, RecordStatus

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM registry_person")
        max_pid = cursor.fetchone()[0]
        cursor.execute("SELECT max(id) FROM registry_household")
        max_hid = cursor.fetchone()[0]
    n_fix, n_off = int(n_changes * 0.55), int(n_changes * 0.25)
    n_new, n_move = int(n_changes * 0.10 / PERSONS_PER_HOUSEHOLD), int(n_changes * 0.10 / 3.5)
    # Random ids sampled server-side (TABLESAMPLE would skew towards pages); ids are dense.
    pids = rng.sample(range(1, max_pid + 1), n_fix + n_off)
    persons = {
        p["id"]: p
        for chunk in range(0, len(pids), 20_000)  # PostgreSQL takes ≤ 65,535 parameters
        for p in Person.objects.filter(
            pk__in=pids[chunk : chunk + 20_000], status=RecordStatus.AKTIF
        ).values(
            "id",
            "household_id",
            "family_id",
            "region_code",
            "name",
            "birth_place",
            "desil",
            "household__region_id",
        )
    }
    hh = {
        h["id"]: h
        for h in Household.objects.filter(
            pk__in=rng.sample(range(1, max_hid + 1), n_move * 2), status=RecordStatus.AKTIF
        ).values("id", "region_id", "region_code")
    }
    desa = list(
        Household.objects.filter(pk__in=rng.sample(range(1, max_hid + 1), 2000))
        .values_list("region_id", "region_code")
        .distinct()
    )
    common = {"status": Status.DITERIMA_PUSAT, "period": period, "created_by_id": by.pk}
    rows: list[Proposal] = []
    reasons = [r for r in NonaktifReason.values if r != NonaktifReason.TIDAK_PADAN]
    people = list(persons.values())
    for i, p in enumerate(people):
        target = {
            "target_type": Target.PERSON,
            "person_id": p["id"],
            "household_id": p["household_id"],
            "family_id": p["family_id"],
            "region_id": p["household__region_id"],
            "region_code": p["region_code"],
        }
        if i < n_fix * len(people) // (n_fix + n_off):
            changes: dict[str, Any] = {"name": p["name"] + " Putra"}
            if i % 3 == 0:
                changes["birth_place"] = "Padang Pariaman"
            if i % 5 == 0:
                changes["desil"] = min(10, (p["desil"] or 1) + 1)
            before = {k: p.get(k) for k in changes}
            rows.append(
                Proposal(
                    kind=Kind.PERBAIKAN, payload={"changes": changes, "before": before}, **target
                )
            )
        else:
            rows.append(Proposal(kind=Kind.NONAKTIF, reason_code=rng.choice(reasons), **target))
    for h in list(hh.values())[:n_move]:
        dest_id, dest_code = rng.choice(desa)
        if dest_code == h["region_code"]:
            continue
        rows.append(
            Proposal(
                kind=Kind.PEMINDAHAN,
                target_type=Target.HOUSEHOLD,
                household_id=h["id"],
                region_id=h["region_id"],
                region_code=h["region_code"],
                destination_id=dest_id,
                destination_code=dest_code,
                payload={"origin_code": h["region_code"]},
            )
        )
    born = dt.date(1985, 1, 1)
    for i in range(n_new):
        dest_id, dest_code = rng.choice(desa)
        members = [
            {
                "name": f"Baru {i} Kepala",
                "sex": 1,
                "birth_date": born.isoformat(),
                "relation_kk": 1,
            },
            {"name": f"Baru {i} Istri", "sex": 2, "birth_date": "1988-02-02", "relation_kk": 2},
            {"name": f"Baru {i} Anak", "sex": 1, "birth_date": "2012-03-03", "relation_kk": 3},
        ]
        if i % 2:
            members.append(
                {"name": f"Baru {i} Anak 2", "sex": 2, "birth_date": "2015-04-04", "relation_kk": 3}
            )
        rows.append(
            Proposal(
                kind=Kind.BARU,
                target_type="",
                region_id=dest_id,
                region_code=dest_code,
                payload={
                    "household_fields": {"address": "Jl. Baru"},
                    "families": [{"members": members}],
                },
            )
        )
    for row in rows:
        for key, value in common.items():
            setattr(row, key, value)
    started = time.perf_counter()
    Proposal.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE proposals_proposal")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.kind] = counts.get(row.kind, 0) + 1
    counts["insert_seconds"] = round(time.perf_counter() - started, 1)
    return counts


def determine(args: argparse.Namespace) -> None:
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.db import connection

    from terpadu.accounts.models import Role, User
    from terpadu.editions.asof import diff_editions, persons_as_of
    from terpadu.editions.determination import determine_edition
    from terpadu.editions.models import Edition
    from terpadu.registry.models import Person

    if not args.skip_migrate:
        call_command("migrate", verbosity=0)
    by, _ = User.objects.get_or_create(
        username="bench-pusat", defaults={"role": Role.PUSAT, "scope": ""}
    )
    latest = Edition.objects.order_by("-period").values_list("period", flat=True).first()
    newest_row = Person.objects.order_by("-penetapan_period").values_list(
        "penetapan_period", flat=True
    )[0]
    # The first edition of a fresh registry (demo rows predate every edition: '') is next
    # month; later runs determine the month after the newest edition.
    newest = max(latest or "", newest_row)
    this_month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    period = next_period(newest or this_month)
    vacuum_s = None
    if not args.no_vacuum:
        # What autovacuum does between two months in production (on by default; off on
        # this bench server): reclaim last month's dead rows and their index entries.
        began = time.perf_counter()
        with connection.cursor() as cursor:
            for table in TABLES:
                if table.startswith(("registry_", "proposals_")):
                    cursor.execute(f"VACUUM (ANALYZE) {table}")
        vacuum_s = round(time.perf_counter() - began, 1)
        print(f"vacuumed the registry and proposals tables in {vacuum_s} s", flush=True)
    persons = Person.objects.count()
    n_changes = round(persons * args.change_rate)
    rng = random.Random(f"{args.seed}-{period}")  # other persons each month
    print(f"{persons:,} persons; writing {n_changes:,} changes for edition {period}", flush=True)
    proposals = make_proposals(n_changes, period, by, rng)
    print(f"proposals: {proposals}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        if args.wal_compression:
            cursor.execute(f"SET wal_compression = {args.wal_compression}")
        cursor.execute("SHOW shared_buffers")
        settings = {"shared_buffers": cursor.fetchone()[0]}
        cursor.execute("SHOW wal_compression")
        settings["wal_compression"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'registry_person'")
        person_indexes = cursor.fetchone()[0]
        cursor.execute("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
        checkpoints = cursor.fetchone()[0]
    before = table_sizes()
    slow: list[tuple[float, str]] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            slow.append((time.perf_counter() - began, sql[:150]))

    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    timings: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        edition = determine_edition(
            by=by,
            period=period,
            decree_number=f"BENCH/{period}",
            decree_date=dt.datetime.now(dt.UTC).date(),
            signatory="Menteri Sosial (bench)",
            decree_pdf=ContentFile(b"%PDF-1.4 bench", name=f"kepmensos-{period}.pdf"),
            timings=timings,
        )
    seconds = time.perf_counter() - started
    for took, sql in sorted(slow, reverse=True)[:12]:
        print(f"  {took:6.2f} s  {sql}")
    print("steps (s, WAL MB):")
    for name, took in timings.items():
        print(f"  {name:22} {took['s']:7.2f} s  {took.get('wal_mb', 0):8.1f} MB")
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    print(f"determine_edition {period}: {seconds:.1f} s; counts {edition.counts}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
        checkpoints = cursor.fetchone()[0] - checkpoints
        cursor.execute("ANALYZE")
    after = table_sizes()
    growth = {t: after.get(t, 0) - before.get(t, 0) for t in TABLES}
    kabkota = Person.objects.values_list("region_code", flat=True).first()[:4]
    started = time.perf_counter()
    asof = persons_as_of(period, region_prefix=kabkota)
    n_asof = asof.count()
    count_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    page = list(asof.order_by("name_norm", "id")[:50])
    page_ms = (time.perf_counter() - started) * 1000
    prev = next_period(f"{int(period[:4]) - 1:04d}{period[4:]}")  # a year earlier
    started = time.perf_counter()
    diff = diff_editions(newest_row if newest_row < period else prev, period)
    diff_s = time.perf_counter() - started
    append(
        {
            "phase": "determine",
            "label": args.label,
            "vacuum_before_s": vacuum_s,
            "persons": persons,
            "changes": n_changes,
            "proposals": proposals,
            "edition": period,
            "seconds": round(seconds, 2),
            "target_s": 30,
            "steps": timings,
            "wal_mb": timings.get("total", {}).get("wal_mb"),
            "checkpoints_during": checkpoints,
            "person_indexes": person_indexes,
            "load_avg": [round(x, 1) for x in os.getloadavg()],
            "pg_settings": settings,
            "counts": edition.counts,
            "growth_bytes": growth,
            "growth_total_mb": round(sum(growth.values()) / 2**20, 1),
            "registry_mb": round(
                sum(before.get(t, 0) for t in TABLES if t.startswith("registry_")) / 2**20
            ),
            "asof_kabkota": kabkota,
            "asof_count": n_asof,
            "asof_count_ms": round(count_ms, 1),
            "asof_page_ms": round(page_ms, 1),
            "asof_page_rows": len(page),
            "diff_seconds": round(diff_s, 2),
            "diff_counts": diff.summary(),
            "peak_mb": peak_mb(),
        }
    )


def main() -> None:
    args = parse_args()
    use_database(args.database_url, args.db_name, fresh=args.phase in ("generate", "all"))
    from django.db import connections

    try:
        if args.phase in ("generate", "all"):
            generate(args)
        if args.phase in ("determine", "all"):
            determine(args)
    finally:
        connections.close_all()
        if args.drop:
            drop_database(args.database_url, args.db_name)


if __name__ == "__main__":
    main()
