"""Imports benchmark: a generated regency file (csv and xlsx), dry run + direct apply.

    .venv/bin/python bench/bench_imports.py --persons 300000                      # SQLite
    .venv/bin/python bench/bench_imports.py --persons 300000 \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres               # PostgreSQL
    .venv/bin/python bench/bench_imports.py --persons 1000000 --formats csv --no-apply

Not a test. PostgreSQL: a dedicated database `h_imports_bench` next to the one in the URL,
dropped afterwards. SQLite: a temporary file. The files are generated once per
(persons, seed) and cached in $TMPDIR/terpadu-bench-imports (xlsx with openpyxl write-only:
slow to make, so it is kept). For each format: the dry run (`services.validate`, which
stores its checked batches) and the apply in direct mode (`services.apply`: the stored dry
run + the registry rules again, then one transaction through
`records.create_households_precleaned`), rows/s of each and end to end, and the process's
peak RSS (getrusage). Then a naive baseline: per-row ORM
`save()` of a 20 k-row sample (household, family, person, membership, history row each),
and the ratio. Appends JSON lines to bench/results/imports.jsonl.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import RECOMMENDED_LOCALE, ROOT, drop_database, setup_django

RESULTS = ROOT / "bench" / "results" / "imports.jsonl"
BENCH_DB = "h_imports_bench"
CACHE = Path(tempfile.gettempdir()) / "terpadu-bench-imports"
HEADERS = [
    "KODE_WILAYAH",
    "NO_URUT_RT",
    "NO_KK",
    "NIK",
    "NAMA",
    "JENIS_KELAMIN",
    "TEMPAT_LAHIR",
    "TGL_LAHIR",
    "HUB_KELUARGA",
    "NAMA_IBU_KANDUNG",
    "ALAMAT",
    "PEKERJAAN",
    "STATUS_PEKERJAAN",
]
NAMES = ["SITI", "AHMAD", "BUDI", "RINA", "DEWI", "JOKO", "NUR", "AGUS", "SRI", "RIZKI"]
LAST = ["AMINAH", "SANTOSO", "PUTRI", "HIDAYAT", "LESTARI", "SAPUTRA", "WATI", "HARAHAP"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=300_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "sqlite://"))
    parser.add_argument("--region", default="1371", help="kab/kota digits (default 1371)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--naive", type=int, default=20_000, help="rows of the naive baseline")
    parser.add_argument("--no-apply", action="store_true", help="dry run only")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--db-locale",
        choices=["recommended", "server"],
        default="recommended",
        help="PostgreSQL: create the bench database with README's recommended collation "
        "(C; default) or the server's default",
    )
    parser.add_argument(
        "--mode",
        choices=["direct", "proposal"],
        default="direct",
        help="direct: an admin's audited initial load; proposal: rows become usulan",
    )
    return parser.parse_args()


def _rows(persons: int, desa: list[str], seed: int):  # type: ignore[no-untyped-def]
    from terpadu.lib.nik import compose_nik, compose_no_kk

    rng = random.Random(seed)
    made = hh = 0
    per_desa: dict[str, int] = {}
    while made < persons:
        hh += 1
        code = desa[hh % len(desa)]
        per_desa[code] = per_desa.get(code, 0) + 1
        size = min(persons - made, rng.choice((1, 2, 3, 3, 4, 4, 5, 6)))
        kec = code[:6]
        no_kk = compose_no_kk(kec, dt.date(2010 + hh % 14, 1 + hh % 12, 1 + hh % 28), hh % 9999 + 1)
        for m in range(1, size + 1):
            sex = 1 if m == 1 else rng.choice((1, 2))
            born = dt.date(1950 + rng.randrange(70), 1 + rng.randrange(12), 1 + rng.randrange(28))
            serial = (made % 9999) + 1
            yield [
                code,
                str(per_desa[code]),
                no_kk,
                compose_nik(kec, born, sex, serial),
                f"{rng.choice(NAMES)} {rng.choice(LAST)}",
                "L" if sex == 1 else "P",
                "PADANG",
                born.strftime("%d-%m-%Y"),
                "1" if m == 1 else str(rng.choice((2, 3, 3, 3))),
                f"{rng.choice(NAMES)} {rng.choice(LAST)}",
                f"JL. MERDEKA NO. {hh}",
                "PETANI",
                str(rng.randint(1, 8)),
            ]
            made += 1


def make_files(persons: int, seed: int, desa: list[str], formats: list[str]) -> dict[str, Path]:
    """Generate (or reuse) the csv/xlsx files of `persons` rows."""
    CACHE.mkdir(parents=True, exist_ok=True)
    out = {}
    stem = CACHE / f"regency-{persons}-{seed}"
    if "csv" in formats or "xlsx" in formats:
        path = stem.with_suffix(".csv")
        if not path.exists():
            t = time.perf_counter()
            with open(path, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(HEADERS)
                writer.writerows(_rows(persons, desa, seed))
            print(f"generated {path} in {time.perf_counter() - t:.1f} s")
        out["csv"] = path
    if "xlsx" in formats:
        path = stem.with_suffix(".xlsx")
        if not path.exists():
            from openpyxl import Workbook
            from openpyxl.cell import WriteOnlyCell

            t = time.perf_counter()
            wb = Workbook(write_only=True)
            ws = wb.create_sheet("DATA")
            ws.append(HEADERS)
            with open(out["csv"], newline="", encoding="utf-8") as fh:
                reader = csv.reader(fh)
                next(reader)
                for row in reader:
                    cells = []
                    for value in row:
                        cell = WriteOnlyCell(ws, value=value)
                        cell.number_format = "@"
                        cells.append(cell)
                    ws.append(cells)
            wb.save(path)
            print(f"generated {path} in {time.perf_counter() - t:.1f} s")
        out["xlsx"] = path
    return {f: out[f] for f in formats}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_import(
    path: Path, region, user, *, apply: bool, batch_size: int, mode: str = "direct"
) -> dict:  # type: ignore[no-untyped-def]
    from terpadu.imports import services
    from terpadu.imports.models import JobStatus, Mode

    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        job = services.create_job(
            by=user, fileobj=fh, original_name=path.name, region=region, mode=Mode(mode)
        )
    services.save_mapping(job, job.mapping, by=user)
    services.start_validation(job, by=user, enqueue=False)
    t1 = time.perf_counter()
    job = services.validate(job, batch_size=batch_size)
    t2 = time.perf_counter()
    assert job.status == JobStatus.VALIDATED, (job.status, job.error_id)
    out = {
        "rows": job.rows_total,
        "invalid": job.rows_invalid,
        "upload_s": round(t1 - t0, 2),
        "dry_run_s": round(t2 - t1, 2),
        "dry_run_rows_per_s": round(job.rows_total / (t2 - t1)),
        "rules": {r["code"]: r["count"] for r in services.rule_summary(job)},
    }
    if apply:
        services.start_apply(job, by=user, quarantine=bool(job.rows_invalid), enqueue=False)
        t3 = time.perf_counter()
        job = services.apply(job, batch_size=batch_size)
        t4 = time.perf_counter()
        assert job.status == JobStatus.APPLIED, (job.status, job.error_id)
        out.update(
            apply_s=round(t4 - t3, 2),
            apply_rows_per_s=round(job.rows_total / (t4 - t3)),
            end_to_end_s=round(t4 - t0, 2),
            end_to_end_rows_per_s=round(job.rows_total / (t4 - t0)),
            households=job.households_new,
        )
    out["peak_mb"] = round(peak_mb())
    return out


def naive(path: Path, n: int, user) -> dict:  # type: ignore[no-untyped-def]
    """Per-row ORM save(): what a straightforward import loop would do."""
    from django.db import transaction
    from django.utils import timezone

    from terpadu.imports.validation import date_text
    from terpadu.lib.names import normalise_name
    from terpadu.regions.models import Region
    from terpadu.registry.models import (
        Change,
        ChangeSet,
        Family,
        FamilyMembership,
        Household,
        Person,
    )

    regions = {r.digits: r for r in Region.objects.current().filter(level=4)}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = [row for _, row in zip(range(n), reader, strict=False)]
    t = time.perf_counter()
    with transaction.atomic():
        cs = ChangeSet.objects.create(actor=user, reason="naive", source="import")
        hh_of: dict[tuple[str, str], Household] = {}
        fam_of: dict[str, Family] = {}
        for row in rows:
            code, ref, kk, nik, name, jk, place, born, rel, mother, addr, job, emp = row
            key = (code, ref)
            hh = hh_of.get(key)
            if hh is None:
                hh = Household(region=regions[code], region_code=code, address=addr)
                hh.save()
                Change(
                    changeset=cs,
                    entity="household",
                    entity_id=hh.pk,
                    region_code=code,
                    action="create",
                ).save()
                hh_of[key] = hh
            fam = fam_of.get(kk)
            if fam is None:
                fam = Family(household=hh, region_code=code, no_kk=kk)
                fam.save()
                Change(
                    changeset=cs,
                    entity="family",
                    entity_id=fam.pk,
                    region_code=code,
                    action="create",
                ).save()
                fam_of[kk] = fam
            p = Person(
                household=hh,
                family=fam,
                region_code=code,
                nik=nik,
                name=name,
                name_norm=normalise_name(name),
                sex=1 if jk == "L" else 2,
                birth_place=place,
                birth_date=dt.date.fromisoformat(date_text(born)),
                relation_kk=int(rel),
                mother_name=mother,
                mother_name_norm=normalise_name(mother),
                occupation=job,
                employment_status=int(emp),
            )
            p.save()
            FamilyMembership(
                person=p,
                family=fam,
                region_code=code,
                relation_kk=p.relation_kk,
                valid_from=timezone.localdate(),
            ).save()
            Change(
                changeset=cs, entity="person", entity_id=p.pk, region_code=code, action="create"
            ).save()
        transaction.set_rollback(True)  # leave the registry as the engine left it
    seconds = time.perf_counter() - t
    return {"naive_rows": len(rows), "naive_s": round(seconds, 2),
            "naive_rows_per_s": round(len(rows) / seconds)}  # fmt: skip


def main() -> None:
    args = parse_args()
    locale = RECOMMENDED_LOCALE if args.db_locale == "recommended" else ""
    vendor, _tmp = setup_django(args.database_url, BENCH_DB, locale=locale)
    from django.core.management import call_command
    from django.db import connection

    from terpadu.accounts.models import User
    from terpadu.regions.loading import load_regions
    from terpadu.regions.models import Region

    try:
        call_command("migrate", verbosity=0)
        load_regions()
        region = Region.objects.current().get(digits=args.region)
        desa = list(
            Region.objects.current().filter(level=4).within(args.region)
            .values_list("digits", flat=True)
        )  # fmt: skip
        formats = [f for f in args.formats.split(",") if f]
        files = make_files(args.persons, args.seed, desa, formats)
        user = User.objects.create_superuser("bench", "bench@example.org", "bench-pass-123")
        version = connection.cursor().connection.execute  # noqa: F841 (keep the connection warm)
        for fmt, path in files.items():
            if fmt != formats[0]:
                # Each format applies into an empty registry: drop what the previous one wrote.
                _reset_registry()
            print(f"{vendor} {fmt}: {path.name} ({path.stat().st_size / 1e6:.0f} MB)")
            result = run_import(path, region, user, apply=not args.no_apply,
                                batch_size=args.batch_size, mode=args.mode)  # fmt: skip
            print(json.dumps(result, indent=1))
            record = {
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "vendor": vendor,
                "format": fmt,
                "persons": args.persons,
                "mode": args.mode,
                "db_locale": args.db_locale if vendor == "postgresql" else None,
                **result,
            }
            if fmt == "csv" and args.naive and not args.no_apply:
                base = naive(files["csv"], args.naive, user)
                base["ratio"] = round(result["apply_rows_per_s"] / base["naive_rows_per_s"], 1)
                print(json.dumps(base))
                record.update(base)
            RESULTS.parent.mkdir(exist_ok=True)
            with open(RESULTS, "a") as fh:
                fh.write(json.dumps(record) + "\n")
    finally:
        from django.db import connections

        connections.close_all()
        if vendor == "postgresql" and not args.keep:
            drop_database(args.database_url, BENCH_DB)


def _reset_registry() -> None:
    from django.db import connection

    from terpadu.imports.models import ImportJob

    tables = [
        "registry_change", "registry_familymembership", "registry_person", "registry_family",
        "registry_household",
    ]  # fmt: skip
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("UPDATE registry_family SET head_id = NULL")
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            cursor.execute("UPDATE registry_family SET head_id = NULL")
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    ImportJob.objects.update(status="failed")  # the next format is a different file anyway


if __name__ == "__main__":
    main()
