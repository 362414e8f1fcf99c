"""Registry benchmark: generate a synthetic kab/kota registry, then time NIK lookups.

    .venv/bin/python bench/bench_registry.py --persons 300000
    .venv/bin/python bench/bench_registry.py --persons 300000 \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres

Not a test. PostgreSQL: a dedicated database `terpadu_bench` is created next to the one in the
URL and dropped afterwards (--keep keeps it). SQLite: a temporary file. Prints rows, seconds,
rows/s, peak memory and lookup p50/p99, and appends one JSON line to bench/results/registry.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdb import ROOT, drop_database, setup_django

RESULTS = ROOT / "bench" / "results" / "registry.jsonl"
BENCH_DB = "terpadu_bench"
PERSONS_PER_HOUSEHOLD = 3.55  # what generate_demo produces on average (measured)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=300_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "sqlite://"))
    parser.add_argument("--region", default="1371", help="kab/kota digits (default 1371)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--lookups", type=int, default=2000, help="existing NIKs to look up")
    parser.add_argument("--missing", type=int, default=200, help="absent NIKs to look up")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL bench database")
    return parser.parse_args()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def time_lookups(region: str, existing: int, missing: int, seed: int) -> dict[str, float]:
    """NIK lookup as an operator page does it: exact NIK within the user's region scope."""
    from terpadu.regions.models import digits_range
    from terpadu.registry.models import Person

    rng = random.Random(seed)
    niks = list(Person.objects.exclude(nik=None).values_list("nik", flat=True))
    known = set(niks)
    wanted = rng.sample(niks, min(existing, len(niks)))
    absent: list[str] = []
    while len(absent) < missing:
        candidate = f"{rng.choice(niks)[:12]}{rng.randint(5000, 9999):04d}"
        if candidate not in known:
            absent.append(candidate)
    lo, hi = digits_range(region)
    queries = [(nik, True) for nik in wanted] + [(nik, False) for nik in absent]
    rng.shuffle(queries)
    timings: list[float] = []
    for nik, should_find in queries:
        started = time.perf_counter()
        found = list(
            Person.objects.filter(nik=nik, region_code__gte=lo, region_code__lt=hi).values(
                "id", "name", "region_code", "status"
            )
        )
        timings.append((time.perf_counter() - started) * 1000)
        assert bool(found) == should_find, nik
    return {
        "lookups": len(timings),
        "p50_ms": round(statistics.median(timings), 3),
        "p99_ms": round(percentile(timings, 99), 3),
    }


def main() -> None:
    args = parse_args()
    vendor, _tmp = setup_django(args.database_url, BENCH_DB)
    from django.core.management import call_command
    from django.db import connections

    from terpadu.regions.loading import load_regions
    from terpadu.registry.demo import generate_demo

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        regions = load_regions()
        print(
            f"{vendor}: migrated and loaded {sum(regions.current.values()):,} regions "
            f"in {time.perf_counter() - started:.1f} s"
        )

        households = max(1, round(args.persons / PERSONS_PER_HOUSEHOLD))

        def progress(done: int, total: int) -> None:
            print(f"  {done:>8,} / {total:,} households", end="\r", flush=True)

        result = generate_demo(
            region_digits=args.region,
            households=households,
            seed=args.seed,
            batch_size=args.batch_size,
            progress=progress,
        )
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # generate_demo builds rows in a forked worker process (when there are several rounds)
        worker_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows_per_s = result.rows / result.seconds
        print(" " * 60, end="\r")
        print(
            f"generate: {result.persons:,} persons, {result.families:,} families, "
            f"{result.households:,} households, {result.rows:,} rows in {result.seconds:.1f} s "
            f"= {rows_per_s:,.0f} rows/s ({result.persons / result.seconds:,.0f} persons/s), "
            f"peak RSS {peak_mb:,.0f} MB (worker {worker_peak_mb:,.0f} MB)"
        )
        if vendor == "postgresql":
            with connections["default"].cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum would do soon after a bulk load
        lookups = time_lookups(args.region, args.lookups, args.missing, args.seed)
        print(
            f"NIK lookup (scoped to {args.region}): {lookups['lookups']:,} queries, "
            f"p50 {lookups['p50_ms']:.2f} ms, p99 {lookups['p99_ms']:.2f} ms"
        )
        record = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "bench": "registry",
            "db": vendor,
            "persons": result.persons,
            "households": result.households,
            "rows": result.rows,
            "seconds": round(result.seconds, 2),
            "rows_per_s": round(rows_per_s),
            "persons_per_s": round(result.persons / result.seconds),
            "peak_mb": round(peak_mb),
            "worker_peak_mb": round(worker_peak_mb),
            "p50": lookups["p50_ms"],
            "p99": lookups["p99_ms"],
            "cpus": os.cpu_count(),
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        print(f"appended to {RESULTS.relative_to(ROOT)}")
    finally:
        connections.close_all()
        if vendor == "postgresql" and not args.keep:
            drop_database(args.database_url, BENCH_DB)


if __name__ == "__main__":
    main()
