"""Exports benchmark: the BNBA of a kab/kota to csv and xlsx (terpadu/imports/exports.py).

    .venv/bin/python bench/bench_exports.py --persons 300000                     # SQLite
    .venv/bin/python bench/bench_exports.py --persons 300000 \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres               # PostgreSQL

Generates a demo registry for Kota Padang (`generate_demo`, ~3.55 persons per household) in a
throw-away database (benchdb.py), then writes the BNBA of the whole kab/kota with the same code
as the download button and the `export` command (`exports.build("bnba", …)` +
`exports.write_file`) to a temporary file, once per format. Each export runs in a forked child
so its memory is measured on its own: `export_mb` is the child's peak RSS minus its RSS when it
started (the registry generation before it does not count). Prints JSON and appends one line
per format to bench/results/exports.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdb import ROOT, drop_database, setup_django

RESULTS = ROOT / "bench" / "results" / "exports.jsonl"
BENCH_DB = "terpadu_bench_exports"
PERSONS_PER_HOUSEHOLD = 3.55


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=300_000)
    parser.add_argument("--region", default="1371")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--database-url", default="sqlite://")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    return parser.parse_args()


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _export_in_child(fmt: str, region: str, out: Path) -> dict:
    """Fork; the child exports and reports (rows, seconds, memory) through a pipe."""
    from django.db import connections

    connections.close_all()  # the child opens its own connection
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            from terpadu.imports import exports

            start_mb = _rss_mb()
            started = time.perf_counter()
            export = exports.build("bnba", exports.system_user(), region=region)
            rows = 0

            def counted(rows_in):  # type: ignore[no-untyped-def]
                nonlocal rows
                for row in rows_in:
                    rows += 1
                    yield row

            export.rows = counted(export.rows)
            with out.open("wb") as handle:
                exports.write_file(export, fmt, handle)
            seconds = time.perf_counter() - started
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            report = {
                "rows": rows,
                "seconds": round(seconds, 2),
                "rows_per_s": round(rows / seconds) if seconds else None,
                "export_mb": round(peak_mb - start_mb, 1),
                "file_mb": round(out.stat().st_size / 2**20, 1),
            }
            os.write(write_fd, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def main() -> None:
    args = parse_args()
    vendor, tmp = setup_django(args.database_url, BENCH_DB)
    from django.core.management import call_command

    from terpadu.regions.loading import load_regions
    from terpadu.registry.demo import generate_demo

    try:
        call_command("migrate", verbosity=0)
        load_regions()
        households = max(1, round(args.persons / PERSONS_PER_HOUSEHOLD))
        started = time.perf_counter()
        generated = generate_demo(region_digits=args.region, households=households)
        print(f"{vendor}: generated {generated.persons:,} persons in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        for fmt in args.formats.split(","):
            report = _export_in_child(fmt, args.region, Path(tempfile.mkdtemp()) / f"bnba.{fmt}")
            line = {
                "bench": "exports",
                "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "database": vendor,
                "format": fmt,
                "persons": generated.persons,
                **report,
            }
            print(json.dumps(line))
            with RESULTS.open("a") as handle:
                handle.write(json.dumps(line) + "\n")
    finally:
        if vendor == "postgresql" and not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(args.database_url, BENCH_DB)
        del tmp


if __name__ == "__main__":
    main()
