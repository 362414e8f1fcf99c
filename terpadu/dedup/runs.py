"""Dedup runs over a kab/kota: extract the active persons, train or reuse the model, predict,
cluster, and store candidate pairs for review.

The extract is one SELECT (persons joined to their household's address) fetched in chunks
into Polars, then DuckDB/Splink in process. Pairs are upserted on the unordered person-id
pair: open pairs get fresh scores, decided pairs are left alone, open pairs the run no
longer finds are removed (they were never decided, so nothing is lost).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from terpadu.core.errors import BilingualError
from terpadu.dedup import model as dm
from terpadu.dedup.access import may_decide
from terpadu.dedup.models import CandidatePair, DedupModel, DedupRun, PairStatus
from terpadu.regions.models import Level, Region, prefix_q
from terpadu.registry.models import Person, RecordStatus

if TYPE_CHECKING:
    from terpadu.accounts.models import User

logger = logging.getLogger(__name__)

ACTIVE = (RecordStatus.AKTIF, RecordStatus.AKTIF_BERMASALAH)
STEPS = ("ekstrak", "fitur", "model", "prediksi", "klaster", "simpan")
CHUNK = 50_000
# Below this many persons EM has too few duplicates to learn from: such a run reuses the
# trained model, or (when there is none yet, or a retrain was asked) stops without pairs.
MIN_TRAIN_PERSONS = 50
# A kab/kota run takes minutes (1 M persons ≈ 2.5 min); one still "berjalan" after this long
# has lost its worker.
STALE_AFTER = dt.timedelta(hours=6)
STALE_ERROR = (
    "Dihentikan: pekerja latar tidak memberi kabar selama 6 jam. / "
    "Stopped: the background worker gave no word for 6 hours."
)


class DedupError(BilingualError):
    """A run could not start; message in Indonesian and English."""


# --- starting ------------------------------------------------------------------------------


def start_run(*, by: User, region: Region, retrain: bool = False) -> DedupRun:
    """Open a run for a kab/kota and queue it (after commit). Refused outside the user's
    scope, below/above kab/kota level, or while a run of the same kab/kota is working."""
    if region.level != Level.KABKOTA or not may_decide(by, region.digits):
        raise PermissionDenied
    with transaction.atomic():
        # A run whose worker died (killed, out of memory) stays "berjalan" for ever and would
        # block its kab/kota: past STALE_AFTER it is closed as failed.
        DedupRun.objects.filter(
            scope=region.digits,
            state=DedupRun.State.BERJALAN,
            started_at__lt=timezone.now() - STALE_AFTER,
        ).update(state=DedupRun.State.GAGAL, error=STALE_ERROR, finished_at=timezone.now())
        busy = (
            DedupRun.objects.select_for_update()
            .filter(scope=region.digits, state=DedupRun.State.BERJALAN)
            .first()
        )
        if busy:
            raise DedupError(
                "running",
                f"Deteksi duplikat untuk wilayah ini sedang berjalan (#{busy.pk}).",
                f"Duplicate detection for this region is already running (#{busy.pk}).",
            )
        run = DedupRun.objects.create(
            scope=region.digits,
            region=region,
            started_by=by,
            retrain=retrain,
            progress_total=len(STEPS),
        )
        run_id = run.pk
        transaction.on_commit(lambda: _enqueue(run_id))
    return run


def _enqueue(run_id: int) -> None:
    from terpadu.dedup.tasks import run_dedup

    run_dedup.enqueue(run_id)


# --- extract -------------------------------------------------------------------------------


def _extract_sql(scope: str) -> tuple[str, tuple[Any, ...]]:
    """The extract as SQL, built by the ORM (scope as `prefix_q`), run on a plain cursor so
    rows stream in chunks straight into Polars without model instances."""
    qs = (
        Person.objects.filter(prefix_q("region_code", scope), status__in=ACTIVE)
        .order_by()
        .values_list(
            "id",
            "name_norm",
            "birth_date",
            "birth_place",
            "mother_name_norm",
            "sex",
            "region_code",
            "household__address",
        )
    )
    return qs.query.sql_with_params()


def _chunks(sql: str, params: tuple[Any, ...]) -> Iterator[pl.DataFrame]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            yield pl.DataFrame(rows, schema=dm.INPUT_SCHEMA, orient="row")


def extract(scope: str) -> pl.DataFrame:
    """Active persons of the scope (region prefix) as a Polars frame, one SELECT in chunks."""
    sql, params = _extract_sql(scope)
    frames = list(_chunks(sql, params))
    return pl.concat(frames) if frames else pl.DataFrame(schema=dm.INPUT_SCHEMA)


# --- the run -------------------------------------------------------------------------------


def _step(run: DedupRun, done: int) -> None:
    step = STEPS[done] if done < len(STEPS) else ""
    DedupRun.objects.filter(pk=run.pk).update(progress_done=done, step=step)


def latest_model() -> DedupModel | None:
    return DedupModel.objects.order_by("-version").first()


def _save_model(run: DedupRun, params: dict[str, Any], metrics: dict[str, Any]) -> DedupModel:
    with transaction.atomic():
        top = DedupModel.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0
        return DedupModel.objects.create(
            version=top + 1,
            trained_by=run.started_by,
            scope=run.scope,
            params=params,
            metrics=metrics,
        )


class TrainingFailed(Exception):
    """Splink could not estimate the model from this scope's persons."""

    def __str__(self) -> str:
        return (
            "Model tidak dapat dilatih dari data wilayah ini (terlalu sedikit atau terlalu "
            "jarang pasangan yang mirip); jalankan untuk wilayah yang lebih luas atau pakai "
            "model yang sudah ada. / The model could not be trained from this region's data "
            "(too few or too sparse similar pairs); run it for a larger region or reuse the "
            f"existing model. [{self.args[0] if self.args else ''}]"
        )


def execute_run(run: DedupRun) -> DedupRun:
    """The job body: never raises; a failure is written on the run (state gagal)."""
    try:
        counts = _execute(run)
    except Exception as exc:  # the run page shows it; the worker must not die
        logger.exception("dedup run %s failed", run.pk)
        DedupRun.objects.filter(pk=run.pk).update(
            state=DedupRun.State.GAGAL, error=str(exc)[:2000], finished_at=timezone.now()
        )
    else:
        DedupRun.objects.filter(pk=run.pk).update(
            state=DedupRun.State.SELESAI,
            counts=counts,
            progress_done=len(STEPS),
            step="",
            finished_at=timezone.now(),
        )
    run.refresh_from_db()
    return run


def _execute(run: DedupRun) -> dict[str, Any]:
    t0 = time.monotonic()
    _step(run, 0)
    persons = extract(run.scope)
    _step(run, 1)
    feats = dm.features(persons)
    con = duckdb.connect()
    try:
        table = dm.load_features(con, feats)
        _step(run, 2)
        trained = latest_model()
        if (run.retrain or trained is None) and len(feats) < MIN_TRAIN_PERSONS:
            # Too little data to learn from: nothing is trained, nothing predicted.
            return {"persons": len(feats), "too_few": True, "stored": 0, "pairs": 0}
        if run.retrain or trained is None:
            try:
                params = dm.train(con, table)
            except ValueError as exc:  # Splink refuses degenerate estimates (sparse data)
                raise TrainingFailed(str(exc)) from exc
            trained = _save_model(
                run, params, {"persons": len(feats), "seconds": round(time.monotonic() - t0, 1)}
            )
        DedupRun.objects.filter(pk=run.pk).update(model=trained)
        _step(run, 3)
        linker, pairs = dm.predict(con, table, trained.params)
        _step(run, 4)
        clusters = dm.cluster(linker, pairs)
        n_clustered = con.execute(
            f"SELECT count(*) FROM (SELECT cluster_id FROM {clusters.physical_name} "  # noqa: S608
            "GROUP BY cluster_id HAVING count(*) > 1)"
        ).fetchall()[0][0]
        rows = pl.from_arrow(
            con.sql(f"SELECT {dm.pair_columns()} FROM {pairs.physical_name}").to_arrow_table()  # noqa: S608
        )
    finally:
        con.close()
    _step(run, 5)
    stored = store_pairs(run, rows, trained.params, persons)
    return {
        "persons": len(feats),
        "pairs": len(rows),
        "clusters": int(n_clustered),
        **stored,
        "seconds": round(time.monotonic() - t0, 1),
        "model_version": trained.version,
    }


# --- storing pairs -------------------------------------------------------------------------


def store_pairs(
    run: DedupRun, rows: pl.DataFrame, params: dict[str, Any], persons: pl.DataFrame
) -> dict[str, int]:
    """Upsert the run's pairs: new and open pairs written with fresh scores, decided pairs
    skipped, open pairs of the scope the run did not find again deleted. `persons` is the
    run's extract (unique_id, region_code), where the pairs' region codes come from."""
    labels = dm.level_labels(params)
    prior = dm.prior_weight(params)
    region_of = _region_codes(rows, persons)
    decided = _decided_keys(run.scope)
    objs = []
    for row in rows.iter_rows(named=True):
        a, b = sorted((int(row["unique_id_l"]), int(row["unique_id_r"])))
        if (a, b) in decided:
            continue
        objs.append(
            CandidatePair(
                person_a_id=a,
                person_b_id=b,
                region_code=region_of.get(a, ""),
                region_code_b=region_of.get(b, ""),
                probability=float(row["match_probability"]),
                match_weight=float(row["match_weight"]),
                explanation=dm.explanation(row, labels),
                prior_weight=prior,
                run=run,
            )
        )
    with transaction.atomic():
        CandidatePair.objects.bulk_create(
            objs,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["person_a", "person_b"],
            # Region codes too: a person may have moved since the pair was first stored.
            update_fields=[
                "probability",
                "match_weight",
                "explanation",
                "prior_weight",
                "run",
                "region_code",
                "region_code_b",
            ],
        )
        stale = CandidatePair.objects.filter(
            prefix_q("region_code", run.scope), status=PairStatus.OPEN
        ).exclude(run=run)
        removed, _ = stale.delete()
    return {"stored": len(objs), "skipped_decided": len(rows) - len(objs), "removed": removed}


def _region_codes(rows: pl.DataFrame, persons: pl.DataFrame) -> dict[int, str]:
    """Region code of every person in a pair, from the run's extract (already in memory)."""
    if rows.is_empty():
        return {}
    ids = pl.concat([rows.get_column("unique_id_l"), rows.get_column("unique_id_r")])
    found = persons.filter(pl.col("unique_id").is_in(ids.cast(pl.Int64).unique().implode()))
    return dict(found.select("unique_id", "region_code").iter_rows())


def _decided_keys(scope: str) -> set[tuple[int, int]]:
    qs = CandidatePair.objects.filter(prefix_q("region_code", scope)).exclude(
        status=PairStatus.OPEN
    )
    return set(qs.values_list("person_a_id", "person_b_id"))
