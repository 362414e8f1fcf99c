"""Quality benchmark: exact NIK ganda over a large registry, and flag evaluation against a
large reference list (issue 7).

    .venv/bin/python bench/bench_quality.py --persons 10000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres

PostgreSQL only (the registry is generated in SQL). A dedicated database `h_quality_bench` is
created next to the one in the URL, migrated, and filled FAST with INSERT … SELECT FROM
generate_series straight into the real registry tables (households, families, persons, one
open family membership each, PKH for a third of the families), with ≈ 0.3 % of persons
carrying another person's NIK (other desa, same desa, same KK) and a few persons in two KKs.
Secondary indexes and FK triggers are off during the load and rebuilt afterwards.

Then it times `nikganda.detect` (the set-based SQL), `nikganda.refresh` (detection + storing
the worklist) and `rules.evaluate` with a reference list of --entries NIKs (half of them
in the registry), printing seconds, groups/flags found and peak memory, and appends JSON
lines to bench/results/quality.jsonl. --keep keeps the database for another run
(--reuse skips the generation).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdb import ROOT, drop_database, setup_django

RESULTS = ROOT / "bench" / "results" / "quality.jsonl"
BENCH_DB = "h_quality_bench"
KABKOTA, KECAMATAN, DESA = 20, 10, 10  # 2,000 desa in one province
PER_HOUSEHOLD = 4


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept bench database")
    return parser.parse_args()


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _values(model, overrides: dict[str, str]) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Column list and SELECT expressions for every NOT NULL column of `model`: the SQL
    `overrides`, else the field's default as a literal (so new columns need no edit here)."""
    cols, exprs = [], []
    for f in model._meta.concrete_fields:
        if f.column in overrides:
            cols.append(f.column)
            exprs.append(overrides[f.column])
        elif not f.null and not f.primary_key:
            default = f.get_default()
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                expr = "now()"
            elif isinstance(default, bool):
                expr = "true" if default else "false"
            elif isinstance(default, int | float):
                expr = str(default)
            else:
                expr = "'" + str(default or "").replace("'", "''") + "'"
            cols.append(f.column)
            exprs.append(expr)
    return ", ".join(cols), ", ".join(exprs)


def make_regions() -> None:
    from terpadu.regions.models import Kind, Level, Region

    since = dt.date(2025, 4, 25)

    def region(digits: str, level: int, kind: str, parent: Region | None) -> Region:
        code = ".".join(p for p in (digits[0:2], digits[2:4], digits[4:6], digits[6:10]) if p)
        return Region(
            code=code,
            digits=digits,
            level=level,
            kind=kind,
            name=f"Wilayah {digits}",
            parent=parent,
            valid_from=since,
        )

    province = region("13", Level.PROVINSI, Kind.PROVINSI, None)
    province.save()
    kabs = Region.objects.bulk_create(
        [
            region(f"13{k:02d}", Level.KABKOTA, Kind.KABUPATEN, province)
            for k in range(1, KABKOTA + 1)
        ]
    )
    kecs = Region.objects.bulk_create(
        [
            region(f"{kab.digits}{c:02d}", Level.KECAMATAN, Kind.KECAMATAN, kab)
            for kab in kabs
            for c in range(1, KECAMATAN + 1)
        ]
    )
    Region.objects.bulk_create(
        [
            region(f"{kec.digits}2{d:03d}", Level.DESA, Kind.DESA, kec)
            for kec in kecs
            for d in range(1, DESA + 1)
        ]
    )


def generate(persons: int) -> dict[str, float]:
    """The registry, in SQL. Returns seconds per step."""
    from django.db import connection

    from terpadu.regions.models import Level, Region
    from terpadu.registry.models import (
        Family,
        FamilyMembership,
        Household,
        Person,
        Program,
        ProgramMembership,
    )

    timings: dict[str, float] = {}
    households = persons // PER_HOUSEHOLD
    make_regions()
    program, _ = Program.objects.get_or_create(
        code="PKH", defaults={"name": "PKH", "target": Program.Target.FAMILY}
    )
    desa = list(
        Region.objects.filter(level=Level.DESA).order_by("digits").values_list("id", "digits")
    )
    tables = [
        m._meta.db_table for m in (Household, Family, Person, FamilyMembership, ProgramMembership)
    ]
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_desa (idx int primary key, id bigint, digits text)")
        cur.executemany(
            "INSERT INTO bench_desa VALUES (%s, %s, %s)",
            [(i, pk, digits) for i, (pk, digits) in enumerate(desa)],
        )
        # Secondary indexes off during the load, rebuilt afterwards; FK triggers off.
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)"
            " AND indexdef NOT LIKE '%%UNIQUE%%'",
            [tables],
        )
        indexes = cur.fetchall()
        for name, _def in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("SET session_replication_role = replica")
        n_desa = len(desa)
        started = time.perf_counter()
        cols, exprs = _values(
            Household,
            {
                "id": "g",
                "region_id": "d.id",
                "region_code": "d.digits",
                "address": "'Jl. Bench ' || g",
                # ≈ 1 % of households on ≥ 900 VA (DTKS 2020 code 2).
                "power_capacity": "CASE WHEN g % 100 = 0 THEN 2 ELSE 1 END",
            },
        )
        cur.execute(
            f"INSERT INTO {Household._meta.db_table} ({cols}) SELECT {exprs}"
            f" FROM generate_series(1, {households}) g JOIN bench_desa d ON d.idx = g % {n_desa}"
        )
        cols, exprs = _values(
            Family,
            {
                "id": "g",
                "household_id": "g",
                "region_code": "d.digits",
                "no_kk": "'13' || lpad(g::text, 14, '0')",
            },
        )
        cur.execute(
            f"INSERT INTO {Family._meta.db_table} ({cols}) SELECT {exprs}"
            f" FROM generate_series(1, {households}) g JOIN bench_desa d ON d.idx = g % {n_desa}"
        )
        timings["households_families_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        # Person j lives in household (j-1)/4+1. Duplicated NIKs (≈ 0.31 %): every 333rd
        # person takes the NIK of person j-1000 (another desa), every 10,007th that of j-8000
        # (same desa, other family), every 10,009th that of j-1 (often the same KK).
        nik_of = (
            "CASE WHEN j % 333 = 0 AND j > 1000 THEN j - 1000"
            " WHEN j % 10007 = 0 AND j > 8000 THEN j - 8000"
            " WHEN j % 10009 = 0 THEN j - 1 ELSE j END"
        )
        cols, exprs = _values(
            Person,
            {
                "id": "j",
                "household_id": "(j - 1) / 4 + 1",
                "family_id": "(j - 1) / 4 + 1",
                "region_code": "d.digits",
                "member_no": "(j - 1) % 4 + 1",
                "nik": f"'13' || lpad(({nik_of})::text, 14, '0')",
                "name": "'Warga ' || j",
                "name_norm": "'WARGA ' || j",
                "sex": "1 + j % 2",
                "birth_date": "date '1940-01-01' + (j % 30000)",
                "relation_kk": "CASE WHEN (j - 1) % 4 = 0 THEN 1 ELSE 3 END",
                "employment_status": "1 + j % 8",
                "informal_work": "(1 + j % 8) IN (1, 2, 6, 7, 8)",
                # A few inactive persons, which the checks must ignore.
                "status": "CASE WHEN j % 997 = 0 THEN 'nonaktif' ELSE 'aktif' END",
            },
        )
        cur.execute(
            f"INSERT INTO {Person._meta.db_table} ({cols}) SELECT {exprs}"
            f" FROM generate_series(1, {households * PER_HOUSEHOLD}) j"
            f" JOIN bench_desa d ON d.idx = ((j - 1) / 4 + 1) % {n_desa}"
        )
        cur.execute(f"UPDATE {Family._meta.db_table} SET head_id = (id - 1) * 4 + 1")
        timings["persons_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        cols, exprs = _values(
            FamilyMembership,
            {
                "person_id": "j",
                "family_id": "(j - 1) / 4 + 1",
                "region_code": "d.digits",
                "valid_from": "date '2020-01-01'",
            },
        )
        cur.execute(
            f"INSERT INTO {FamilyMembership._meta.db_table} ({cols}) SELECT {exprs}"
            f" FROM generate_series(1, {households * PER_HOUSEHOLD}) j"
            f" JOIN bench_desa d ON d.idx = ((j - 1) / 4 + 1) % {n_desa}"
        )
        # One person in two KKs every 50,000.
        second = exprs.replace("(j - 1) / 4 + 1", "(j - 1) / 4 + 2", 1)
        cur.execute(
            f"INSERT INTO {FamilyMembership._meta.db_table} ({cols}) SELECT {second}"
            f" FROM generate_series(5, {households * PER_HOUSEHOLD - 8}, 50000) j"
            f" JOIN bench_desa d ON d.idx = ((j - 1) / 4 + 1) % {n_desa}"
        )
        cols, exprs = _values(
            ProgramMembership,
            {
                "program_id": str(program.pk),
                "family_id": "g",
                "region_code": "d.digits",
                "period_from": "date '2024-01-01'",
                "status": "'aktif'",
            },
        )
        cur.execute(
            f"INSERT INTO {ProgramMembership._meta.db_table} ({cols}) SELECT {exprs}"
            f" FROM generate_series(3, {households}, 3) g JOIN bench_desa d ON d.idx = g % {n_desa}"
        )
        timings["memberships_s"] = round(time.perf_counter() - started, 1)
        cur.execute("SET session_replication_role = DEFAULT")
        started = time.perf_counter()
        for _name, definition in indexes:
            cur.execute(definition)
        for table in tables:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
            # Index-only scans need the visibility map; autovacuum keeps it in production.
            cur.execute(f"VACUUM ANALYZE {table}")
        timings["indexes_analyze_s"] = round(time.perf_counter() - started, 1)
    return timings


def load_reference_list(entries: int) -> None:
    """`entries` NIKs of kind asn_tni_polri: half of them registry NIKs, half unknown."""
    from django.db import connection

    from terpadu.accounts.models import User
    from terpadu.quality.models import ReferenceEntry, ReferenceList

    user, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": "pusat"})
    reflist = ReferenceList.objects.create(
        kind="asn_tni_polri",
        name="BKN bench",
        source="bench",
        region_code="",
        uploaded_by=user,
        valid_as_of=dt.date(2026, 11, 1),
        sha256="0" * 64,
        entry_count=entries,
    )
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {ReferenceEntry._meta.db_table} (list_id, nik, note)"
            f" SELECT {int(reflist.pk)}, CASE WHEN g % 2 = 0"
            f" THEN '13' || lpad((g * 37)::text, 14, '0') ELSE '99' || lpad(g::text, 14, '0')"
            f" END, '' FROM generate_series(1, {int(entries)}) g"
        )
        cur.execute(f"ANALYZE {ReferenceEntry._meta.db_table}")


def main() -> None:
    args = parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench_quality needs PostgreSQL (--database-url postgres://…)")
    if args.reuse:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(args.database_url)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
    else:
        setup_django(args.database_url, BENCH_DB)
    from django.core.management import call_command
    from django.db import connection

    from terpadu.quality import nikganda, rules
    from terpadu.registry.models import Person

    record: dict[str, object] = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    try:
        if not args.reuse:
            call_command("migrate", verbosity=0)
            started = time.perf_counter()
            record["generate"] = generate(args.persons)
            record["generate_s"] = round(time.perf_counter() - started, 1)
            print(
                f"generated {args.persons:,} persons in {record['generate_s']} s "
                f"{record['generate']}"
            )
        else:
            # Re-create the quality tables (schema and seed as in this checkout).
            with connection.cursor() as cur:
                cur.execute(r"SELECT tablename FROM pg_tables WHERE tablename LIKE 'quality\_%'")
                tables = [r[0] for r in cur.fetchall()]
                cur.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
            call_command("migrate", "quality", "zero", verbosity=0)
            call_command("migrate", verbosity=0)
        record["persons"] = Person.objects.count()

        steps: dict[str, float] = {}
        started = time.perf_counter()
        rows = nikganda.detect("", timings=steps)
        record["detect_s"] = round(time.perf_counter() - started, 2)
        record["detect_steps_s"] = {k: round(v, 2) for k, v in steps.items()}
        record["detect_rows"] = len(rows)
        by_kind: dict[str, set[str]] = {}
        for r in rows:
            by_kind.setdefault(r.kind, set()).add(r.nik if r.kind != "dua_kk" else str(r.person_id))
        record["groups_by_kind"] = {k: len(v) for k, v in sorted(by_kind.items())}
        print(
            f"NIK ganda detect over {record['persons']:,} persons: {record['detect_s']} s, "
            f"{len(rows):,} member rows, groups {record['groups_by_kind']}; "
            f"steps (s) {record['detect_steps_s']}"
        )

        started = time.perf_counter()
        counts = nikganda.refresh("")
        record["refresh_s"] = round(time.perf_counter() - started, 2)
        record["refresh"] = counts.as_dict()
        print(
            f"NIK ganda refresh (detect + worklist): {record['refresh_s']} s, "
            f"created {counts.created:,} groups"
        )

        load_reference_list(args.entries)
        started = time.perf_counter()
        flags = rules.evaluate("")
        record["evaluate_s"] = round(time.perf_counter() - started, 2)
        record["entries"] = args.entries
        record["flags"] = flags.as_dict()
        print(
            f"flag evaluation ({flags.rules} rules, {args.entries:,}-entry list): "
            f"{record['evaluate_s']} s, new flags {flags.new:,} {flags.by_rule}"
        )
        started = time.perf_counter()
        again = rules.evaluate("")
        record["reevaluate_s"] = round(time.perf_counter() - started, 2)
        print(f"re-evaluation (nothing new): {record['reevaluate_s']} s, new {again.new}")
        record["peak_mb"] = peak_mb()
        with connection.cursor() as cur:
            cur.execute("SELECT pg_database_size(current_database())")
            record["db_gb"] = round(cur.fetchone()[0] / 1e9, 1)
        print(f"peak memory (Python) {record['peak_mb']} MB; database {record['db_gb']} GB")
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as out:
            out.write(json.dumps(record) + "\n")
    finally:
        connection.close()
        if not args.keep and not args.reuse:
            drop_database(args.database_url, BENCH_DB)


if __name__ == "__main__":
    main()
