"""Proposals benchmark: bulk-approve 10 k proposals, then move a 50 k-item kab/kota batch on.

    .venv/bin/python bench/bench_proposals.py
    .venv/bin/python bench/bench_proposals.py \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres

Not a test. PostgreSQL: a dedicated database `terpadu_bench_proposals` is created next to the
one in the URL and dropped afterwards (--keep keeps it). SQLite: a temporary file. The
proposals are written with bulk_create (fixture data, not moves); every timed move goes
through `workflow.bulk_transition`, exactly as the verifikator queue and the batch pages call
it. Prints rows, seconds, rows/s, queries and peak memory per move and appends one JSON line
per move to bench/results/proposals.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdb import ROOT, drop_database, setup_django

RESULTS = ROOT / "bench" / "results" / "proposals.jsonl"
BENCH_DB = "terpadu_bench_proposals"
KAB = "1371"  # Kota Padang
PERIOD = "2026-11"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approve", type=int, default=10_000, help="proposals to bulk-approve")
    parser.add_argument("--batch", type=int, default=50_000, help="items in the kab/kota batch")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "sqlite://"))
    parser.add_argument("--insert-size", type=int, default=5000, help="bulk_create batch size")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL bench database")
    return parser.parse_args()


def make_users() -> dict[str, Any]:
    """One operator per desa of Kota Padang (the creators), plus the kab/kota and province."""
    from terpadu.accounts.models import Role, User
    from terpadu.regions.models import Level, Region

    current = Region.objects.current()
    desa = list(current.within(KAB).filter(level=Level.DESA).order_by("digits"))
    kab = current.get(digits=KAB)
    province = current.get(digits=KAB[:2])
    solok = current.get(digits="1372")
    operators = [
        User(username=f"op{d.digits}", role=Role.OPERATOR_DESA, region=d, scope=d.digits)
        for d in desa
    ]
    User.objects.bulk_create(operators)

    def one(name: str, role: str, region: Region) -> User:
        return User.objects.create_user(username=name, role=role, region=region)

    return {
        "desa": desa,
        "operators": list(User.objects.filter(role=Role.OPERATOR_DESA).order_by("scope")),
        "verifikator": one("verifikator", Role.VERIFIKATOR_KABKOTA, kab),
        "admin": one("admin_kab", Role.ADMIN_KABKOTA, kab),
        "provinsi": one("operator_prov", Role.OPERATOR_PROVINSI, province),
        "solok_admin": one("admin_solok", Role.ADMIN_KABKOTA, solok),
        "kab": kab,
        "solok": solok,
    }


def insert_proposals(
    users: dict[str, Any], n: int, status: str, *, batch: Any = None, size: int
) -> None:
    """n proposals spread over Padang's desa, mixed kinds; 2 % are moves to Kota Solok with the
    destination's consent (so the consent subquery of `approve` has work to do)."""
    from terpadu.proposals.models import Consent, Kind, Proposal

    kinds = [Kind.PERBAIKAN] * 50 + [Kind.BARU] * 30 + [Kind.NONAKTIF] * 18 + [Kind.PEMINDAHAN] * 2
    solok_desa = users["solok"]
    pairs = itertools.cycle(zip(users["desa"], users["operators"], strict=True))
    kind_cycle = itertools.cycle(kinds)
    for start in range(0, n, size):
        rows = []
        for _ in range(min(size, n - start)):
            desa, operator = next(pairs)
            kind = next(kind_cycle)
            moving = kind == Kind.PEMINDAHAN
            rows.append(
                Proposal(
                    kind=kind,
                    status=status,
                    region=desa,
                    region_code=desa.digits,
                    destination=solok_desa if moving else None,
                    destination_code=solok_desa.digits if moving else "",
                    batch=batch,
                    period=PERIOD,
                    summary=f"Usulan bench {start}",
                    created_by=operator,
                )
            )
        created = Proposal.objects.bulk_create(rows, batch_size=size)
        Consent.objects.bulk_create(
            (
                Consent(proposal=p, region_code="1372", agreed=True, by=users["solok_admin"])
                for p in created
                if p.kind == Kind.PEMINDAHAN
            ),
            batch_size=size,
        )


def analyze() -> None:
    """What autovacuum would do soon after a bulk load (PostgreSQL); SQLite's planner gets the
    same statistics from its own ANALYZE."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed_move(label: str, qs: Any, action: str, *, by: Any, via: str, expect: int) -> dict:
    """Run one bulk_transition; return rows, seconds, rows/s, queries and memory."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from terpadu.proposals.models import ProposalEvent
    from terpadu.proposals.workflow import bulk_transition

    events_before = ProposalEvent.objects.filter(action=action).count()
    tracemalloc.start()
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        result = bulk_transition(qs, action, by=by, via=via)
        seconds = time.perf_counter() - started
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    events = ProposalEvent.objects.filter(action=action).count() - events_before
    if result.moved != expect or events != expect:
        raise SystemExit(f"{label}: moved {result.moved}, events {events}, expected {expect}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if os.environ.get("BENCH_SHOW_SQL"):
        for query in ctx.captured_queries:
            print(f"    {query['time']:>7}s  {query['sql'][:150]}")
    record = {
        "step": label,
        "action": action,
        "rows": result.moved,
        "seconds": round(seconds, 3),
        "rows_per_s": round(result.moved / seconds),
        "queries": len(ctx.captured_queries),
        "py_peak_mb": round(py_peak / 2**20, 2),
        "peak_mb": round(rss_mb),
    }
    print(
        f"{label:<28} {result.moved:>7,} rows in {seconds:6.2f} s = "
        f"{record['rows_per_s']:>9,} rows/s, {record['queries']} queries, "
        f"Python peak {record['py_peak_mb']:.2f} MB, process peak RSS {rss_mb:,.0f} MB"
    )
    return record


def main() -> None:
    args = parse_args()
    vendor, _tmp = setup_django(args.database_url, BENCH_DB)
    from django.core.management import call_command
    from django.db import connections

    from terpadu.proposals.models import Batch, Proposal, Status
    from terpadu.regions.loading import load_regions

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        regions = load_regions()
        users = make_users()
        print(
            f"{vendor}: migrated, loaded {sum(regions.current.values()):,} regions and "
            f"{len(users['operators'])} desa operators in {time.perf_counter() - started:.1f} s"
        )
        records = []

        started = time.perf_counter()
        insert_proposals(users, args.approve, Status.DIPERIKSA_DINSOS, size=args.insert_size)
        analyze()
        print(f"inserted {args.approve:,} proposals in {time.perf_counter() - started:.1f} s")
        queue = Proposal.objects.filter(status=Status.DIPERIKSA_DINSOS)
        records.append(
            timed_move(
                "approve (verifikator queue)",
                queue,
                "approve",
                by=users["verifikator"],
                via="proposal",
                expect=args.approve,
            )
        )

        started = time.perf_counter()
        batch = Batch.objects.create(
            region=users["kab"],
            region_code=KAB,
            period=PERIOD,
            finalised_by=users["admin"],
            item_count=args.batch,
        )
        insert_proposals(
            users, args.batch, Status.FINAL_KABKOTA, batch=batch, size=args.insert_size
        )
        analyze()
        print(f"inserted a {args.batch:,}-item batch in {time.perf_counter() - started:.1f} s")
        for label, action, by in (
            ("ratify (batch)", "ratify", users["admin"]),
            ("send_to_province (batch)", "send_to_province", users["admin"]),
            ("forward (batch)", "forward", users["provinsi"]),
        ):
            records.append(
                timed_move(
                    label, batch.proposals.all(), action, by=by, via="batch", expect=args.batch
                )
            )

        date = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as fh:
            for record in records:
                line = {"date": date, "bench": "proposals", "db": vendor, **record}
                fh.write(json.dumps(line | {"cpus": os.cpu_count()}) + "\n")
        print(f"appended {len(records)} lines to {RESULTS.relative_to(ROOT)}")
    finally:
        connections.close_all()
        if vendor == "postgresql" and not args.keep:
            drop_database(args.database_url, BENCH_DB)


if __name__ == "__main__":
    main()
