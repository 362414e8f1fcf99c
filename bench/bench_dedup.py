"""Probabilistic dedup benchmark: generated persons → Splink/DuckDB → precision/recall/F1.

    .venv/bin/python bench/bench_dedup.py --persons 1000000
    .venv/bin/python bench/bench_dedup.py --persons 1000000 --incremental 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres

Part 1 (no registry database): `terpadu.dedup.synthetic` generates labelled persons straight
into DuckDB; the model is trained (u by random sampling, m by EM), pairs predicted and
clustered; pairwise precision/recall/F1 of the clusters against the generator's truth.
Part 2 (--incremental N, PostgreSQL): a migrated database `h_dedup_bench` gets N
persons generated in SQL, then `incremental.match_records` is timed one record at a time
(p50/p99) and as a batch. Prints seconds and peak memory; appends one JSON line to
bench/results/dedup.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdb import ROOT, drop_database, setup_django

RESULTS = ROOT / "bench" / "results" / "dedup.jsonl"
BENCH_DB = "h_dedup_bench"
KAB = "1301"  # the kab/kota whose persons are typed again in part 2


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--u-pairs", type=float, default=1e7, help="pairs sampled for u")
    parser.add_argument("--threshold", type=float, default=0.9, help="cluster threshold")
    parser.add_argument("--incremental", type=int, default=0, help="registry persons (PG)")
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "sqlite://"))
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL bench database")
    parser.add_argument(
        "--reuse-registry",
        action="store_true",
        help="reuse a kept, filled bench database (after --keep) instead of refilling it",
    )
    return parser.parse_args()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def pairwise_scores(con, clusters: str, truth: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Pairwise precision/recall/F1 of predicted clusters against true clusters."""
    tp, predicted, actual = con.execute(
        f"""
        WITH c AS (SELECT c.cluster_id AS pc, t.cluster_id AS tc
                   FROM {clusters} c JOIN {truth} t USING (unique_id)),
        tp AS (SELECT sum(k * (k - 1) / 2) v FROM (SELECT count(*) k FROM c GROUP BY pc, tc)),
        pp AS (SELECT sum(k * (k - 1) / 2) v FROM (SELECT count(*) k FROM c GROUP BY pc)),
        ap AS (SELECT sum(k * (k - 1) / 2) v FROM (SELECT count(*) k FROM c GROUP BY tc))
        SELECT tp.v, pp.v, ap.v FROM tp, pp, ap
        """
    ).fetchall()[0]
    precision = tp / predicted if predicted else 0.0
    recall = tp / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "true_pairs": int(actual),
        "predicted_pairs": int(predicted),
    }


def run_batch(args: argparse.Namespace) -> dict[str, object]:
    import duckdb
    import polars as pl

    from terpadu.dedup import model as dm
    from terpadu.dedup import synthetic

    out: dict[str, object] = {"persons": args.persons}
    t0 = time.monotonic()
    recs = synthetic.generate(args.persons, seed=args.seed)
    frame = pl.DataFrame(recs, infer_schema_length=None)
    del recs
    truth = frame.select("unique_id", "cluster_id")
    out["generate_s"] = round(time.monotonic() - t0, 1)
    print(f"generated {args.persons:,} persons in {out['generate_s']} s", flush=True)

    t_start = time.monotonic()
    feats = dm.features(frame.drop("cluster_id"))
    del frame
    con = duckdb.connect()
    table = dm.load_features(con, feats)
    del feats
    out["features_s"] = round(time.monotonic() - t_start, 1)
    print(f"features {out['features_s']} s", flush=True)

    t = time.monotonic()
    params = dm.train(con, table, max_pairs=args.u_pairs, seed=args.seed)
    out["train_s"] = round(time.monotonic() - t, 1)
    print(f"train {out['train_s']} s", flush=True)

    t = time.monotonic()
    linker, pairs = dm.predict(con, table, params)
    out["pairs"] = con.execute(f"SELECT count(*) FROM {pairs.physical_name}").fetchall()[0][0]
    out["predict_s"] = round(time.monotonic() - t, 1)
    print(f"predict {out['predict_s']} s ({out['pairs']:,} pairs ≥ 0.5)", flush=True)

    t = time.monotonic()
    clusters = dm.cluster(linker, pairs, threshold=args.threshold)
    out["cluster_s"] = round(time.monotonic() - t, 1)
    out["seconds"] = round(time.monotonic() - t_start, 1)
    print(f"cluster {out['cluster_s']} s", flush=True)

    con.register("truth_arrow", truth.to_arrow())
    con.execute("CREATE TABLE truth AS SELECT * FROM truth_arrow")
    out.update(pairwise_scores(con, clusters.physical_name, "truth"))
    out["peak_mb"] = round(peak_mb())
    con.close()
    return out


# --- part 2: incremental checks against a PostgreSQL registry ------------------------------


def fill_registry(n: int, seed: int) -> dict[str, object]:
    """N persons (one per household and family) in kab/kota 13xx, written with set-based
    SQL: a synthetic frame → COPY into a staging table → INSERT … SELECT into the registry
    tables. Bypasses records.py on purpose (a benchmark fixture, no history needed)."""
    import polars as pl
    from django.db import connection

    from terpadu.dedup import synthetic
    from terpadu.lib.names import normalise_name
    from terpadu.regions.models import Kind, Level, Region

    codes = synthetic.desa_codes()
    t = time.monotonic()
    prov = Region.objects.create(
        digits="13", code="13", name="Prov", level=Level.PROVINSI, kind=Kind.PROVINSI,
        valid_from="2025-01-01",
    )  # fmt: skip
    kabs, kecs = {}, {}
    for code in codes:
        kab, kec = code[:4], code[:6]
        if kab not in kabs:
            kabs[kab] = Region.objects.create(
                digits=kab, code=kab, name=f"Kab {kab}", level=Level.KABKOTA,
                kind=Kind.KABUPATEN, parent=prov, valid_from="2025-01-01",
            )  # fmt: skip
        if kec not in kecs:
            kecs[kec] = Region(
                digits=kec, code=kec, name=f"Kec {kec}", level=Level.KECAMATAN,
                kind=Kind.KECAMATAN, parent=kabs[kab], valid_from="2025-01-01",
            )  # fmt: skip
    Region.objects.bulk_create(kecs.values())
    kecs = {r.digits: r for r in Region.objects.filter(level=Level.KECAMATAN)}
    desa_rows = [
        Region(
            digits=code,
            code=code,
            name=f"Desa {code}",
            level=Level.DESA,
            kind=Kind.DESA,
            parent=kecs[code[:6]],
            valid_from="2025-01-01",
        )
        for code in codes
    ]
    Region.objects.bulk_create(desa_rows, batch_size=2000)
    region_id = dict(Region.objects.filter(level=Level.DESA).values_list("digits", "pk"))

    recs = synthetic.generate(n, seed=seed, codes=codes)
    norms: dict[str, str] = {}
    for r in recs:
        for key in ("name", "mother_name"):
            v = r[key] or ""
            if v not in norms:
                norms[v] = normalise_name(v)
    frame = pl.DataFrame(
        {
            "uid": [r["unique_id"] for r in recs],
            "nik": [r["nik"] for r in recs],
            "name": [r["name"][:120] for r in recs],
            "name_norm": [norms[r["name"]][:120] for r in recs],
            "birth_date": [r["birth_date"] for r in recs],
            "birth_place": [r["birth_place"] or "" for r in recs],
            "mother_name": [r["mother_name"] or "" for r in recs],
            "mother_name_norm": [norms[r["mother_name"] or ""] for r in recs],
            "sex": [r["sex"] for r in recs],
            "region_code": [r["region_code"] for r in recs],
            "region_id": [region_id[r["region_code"]] for r in recs],
            "address": [r["address"] for r in recs],
        }
    )
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE stage (uid int, nik text, name text, name_norm text, "
            "birth_date date, birth_place text, mother_name text, mother_name_norm text, "
            "sex int, region_code text, region_id int, address text)"
        )
        with cur.copy("COPY stage FROM STDIN") as copy:
            for row in frame.iter_rows():
                copy.write_row(row)
        cur.execute(
            """
            INSERT INTO registry_household (id, id_dtks, id_bdt, region_id, region_code, address,
                rt, rw, sls_name, codelist, water_customer_id, pln_customer_id, gas_customer_id,
                status, nonaktif_reason, keberadaan, kelayakan, kelayakan_reason,
                penetapan_period, created_at, updated_at)
            SELECT uid, '', '', region_id, region_code, address, '', '', '', 'DTKS2020', '',
                '', '', 'aktif', '', 'ditemukan', 'belum', '', '', now(), now() FROM stage;
            INSERT INTO registry_family (id, household_id, region_code, no_kk, nuk, status,
                nonaktif_reason, keberadaan, kelayakan, kelayakan_reason, penetapan_period,
                created_at, updated_at)
            SELECT uid, uid, region_code, NULL, 1, 'aktif', '', 'ditemukan', 'belum', '', '',
                now(), now() FROM stage;
            INSERT INTO registry_person (id, household_id, family_id, id_dtks, region_code,
                codelist, member_no, nik, name, name_norm, sex, birth_place, birth_date,
                mother_name, mother_name_norm, occupation, padan, dtsen_status, status,
                nonaktif_reason, keberadaan, kelayakan, kelayakan_reason, penetapan_period,
                created_at, updated_at, relation_kk, relation_ruta)
            SELECT uid, uid, uid, '', region_code, 'DTKS2020', 1, nik, name, name_norm, sex,
                birth_place, birth_date, mother_name, mother_name_norm, '', 'belum', '',
                'aktif', '', 'ditemukan', 'belum', '', '', now(), now(), 1, 1 FROM stage;
            SELECT setval(pg_get_serial_sequence('registry_household', 'id'), %s);
            SELECT setval(pg_get_serial_sequence('registry_family', 'id'), %s);
            SELECT setval(pg_get_serial_sequence('registry_person', 'id'), %s);
            ANALYZE registry_person; ANALYZE registry_household; ANALYZE registry_family;
            """,
            [n, n, n],
        )
    return {"registry_persons": n, "registry_fill_s": round(time.monotonic() - t, 1)}


def run_incremental(args: argparse.Namespace, params: dict[str, object]) -> dict[str, object]:
    """Time match_records against the PostgreSQL registry: single records and one batch."""
    from terpadu.dedup import incremental, synthetic
    from terpadu.dedup.models import DedupModel
    from terpadu.regions.models import prefix_q
    from terpadu.registry.models import Person

    DedupModel.objects.all().delete()
    DedupModel.objects.create(version=1, params=params, scope="")
    rng = random.Random(args.seed)
    # Entries of one kab/kota (as an operator or an import file of that kab/kota sends them).
    ids = list(Person.objects.filter(prefix_q("region_code", KAB)).values_list("pk", flat=True))
    ids = rng.sample(ids, min(args.lookups, len(ids)))
    persons = list(
        Person.objects.filter(pk__in=ids).values(
            "pk", "name", "birth_date", "birth_place", "mother_name", "sex", "region_code",
            "household__address",
        )
    )  # fmt: skip
    # The record typed again as a new entry, with the generator's errors (NIK left out).
    queries = []
    opts = synthetic.Options(dup_moved=0.0, dup_nik_missing=1.0)
    for p in persons:
        base = {
            "nik": None, "name": p["name"], "birth_date": p["birth_date"],
            "birth_place": p["birth_place"], "mother_name": p["mother_name"], "sex": p["sex"],
            "region_code": p["region_code"], "address": p["household__address"],
        }  # fmt: skip
        dup = synthetic._duplicate(rng, base, 0, opts, [p["region_code"]], {})
        dup.pop("unique_id")
        queries.append((p["pk"], dup))
    incremental.match_records([queries[0][1]], scope_prefix=queries[0][1]["region_code"][:4])
    times, hits = [], 0
    for pk, rec in queries:
        t = time.monotonic()
        found = incremental.match_records([rec], scope_prefix=rec["region_code"][:4])[0]
        times.append(time.monotonic() - t)
        hits += any(c.person_id == pk for c in found)
    t = time.monotonic()
    incremental.match_records([q[1] for q in queries], scope_prefix=KAB)
    batch_s = time.monotonic() - t
    return {
        "incremental_p50_ms": round(percentile(times, 50) * 1000, 1),
        "incremental_p99_ms": round(percentile(times, 99) * 1000, 1),
        "incremental_hit_rate": round(hits / len(queries), 3),
        "incremental_batch": len(queries),
        "incremental_batch_ms_per_record": round(batch_s / len(queries) * 1000, 2),
    }


def main() -> None:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    out: dict[str, object] = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if args.incremental and args.reuse_registry:
        parts = urlsplit(args.database_url)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
    elif args.incremental:
        if not args.database_url.startswith("postgres"):
            sys.exit("--incremental needs a PostgreSQL --database-url")
        setup_django(args.database_url, BENCH_DB)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    else:
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
    if args.persons:
        out.update(run_batch(args))
        print(json.dumps(out, indent=1), flush=True)
    if args.incremental:
        import duckdb  # noqa: F401  (params come from a fresh training below)

        params = _train_small(args.seed)
        try:
            if not args.reuse_registry:
                out.update(fill_registry(args.incremental, args.seed + 1))
                print(f"registry filled in {out['registry_fill_s']} s", flush=True)
            out["registry_persons"] = args.incremental
            out.update(run_incremental(args, params))
        finally:
            if not (args.keep or args.reuse_registry):
                from django.db import connections

                connections.close_all()
                drop_database(args.database_url, BENCH_DB)
    out["peak_mb"] = round(peak_mb())
    out["note"] = "shared 2-core machine, other helpers running"
    print(json.dumps(out, indent=1))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as fh:
        fh.write(json.dumps(out) + "\n")


def _train_small(seed: int) -> dict[str, object]:
    """A model for part 2, trained on 100 k generated persons (part 1's model is as good,
    but keeping it would hold its DuckDB tables in memory during the registry fill)."""
    import duckdb
    import polars as pl

    from terpadu.dedup import model as dm
    from terpadu.dedup import synthetic

    frame = pl.DataFrame(synthetic.generate(100_000, seed=seed), infer_schema_length=None)
    con = duckdb.connect()
    try:
        table = dm.load_features(con, dm.features(frame.drop("cluster_id")))
        return dm.train(con, table, max_pairs=2e6, seed=seed)
    finally:
        con.close()


if __name__ == "__main__":
    main()
