"""The probabilistic duplicate model: features, Splink settings, training, prediction.

Pure data functions — no Django models here — so the same code runs on a registry extract
(runs.py), on the synthetic benchmark (bench/bench_dedup.py) and for single records at
entry (incremental.py). Backend: Splink on DuckDB (in-process); for national runs the same
settings dict runs on Splink's Spark backend (docs/dedup.md).

Input rows have: unique_id, name (or name_norm), birth_date, birth_place, mother_name (or
mother_name_norm), sex, region_code, address. `features` adds the matching keys of
terpadu.dedup.names; comparisons and blocking rules read only those feature columns.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import duckdb
import polars as pl
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from terpadu.dedup import names
from terpadu.lib.names import normalise_name

logger = logging.getLogger(__name__)

FEATURE_COLUMNS = (
    "unique_id",
    "name_norm",
    "name_key",
    "first_key",
    "birth_date",
    "birth_year",
    "place_key",
    "mother_key",
    "sex",
    "region_code",
    "kec",
    "kab",
    "address_key",
)

# Comparison names as Splink outputs them (gamma_<name>, mw_<name>) and their labels.
COMPARISONS = ("name", "birth_date", "birth_place", "mother", "sex", "region", "address")

# Default thresholds: pairs stored for review; pairs joined into one cluster.
PAIR_THRESHOLD = 0.5
CLUSTER_THRESHOLD = 0.9


# --- features ------------------------------------------------------------------------------


def _map_unique(df: pl.DataFrame, column: str, out: str, fn: Callable[[str], Any]) -> pl.DataFrame:
    """Add `out` = fn(column), computing fn once per distinct value (names repeat a lot)."""
    values = df.get_column(column).drop_nulls().unique().to_list()
    lookup = pl.DataFrame(
        {column: values, out: [fn(v) for v in values]},
        schema={column: pl.String, out: pl.String},
    )
    return df.join(lookup, on=column, how="left")


def _name_keys(norm: str) -> str:
    tokens = names.tokens_from_norm(norm)
    return names.key_from_tokens(tokens) + "|" + names.first_from_tokens(tokens)


# Person rows as extracted from the registry (runs) or entered (incremental), before `features`.
INPUT_SCHEMA: dict[str, Any] = {
    "unique_id": pl.Int64,
    "name_norm": pl.String,
    "birth_date": pl.Date,
    "birth_place": pl.String,
    "mother_name_norm": pl.String,
    "sex": pl.Int32,
    "region_code": pl.String,
    "address": pl.String,
}


def features(rows: pl.DataFrame | Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """The model's input table (FEATURE_COLUMNS) from person rows; blanks become nulls."""
    df = (
        rows
        if isinstance(rows, pl.DataFrame)
        else pl.DataFrame(list(rows), infer_schema_length=None)
    )
    for col, dtype in (
        ("birth_place", pl.String),
        ("address", pl.String),
        ("region_code", pl.String),
        ("birth_date", pl.Date),
    ):
        if col not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=dtype).alias(col))
    if "name_norm" not in df.columns:
        df = _map_unique(df, "name", "name_norm", normalise_name)
    if "mother_name_norm" not in df.columns:
        df = _map_unique(df, "mother_name", "mother_name_norm", normalise_name)
    df = _map_unique(df, "name_norm", "_keys", _name_keys)
    df = _map_unique(df, "mother_name_norm", "mother_key", names.name_key)
    df = _map_unique(df, "birth_place", "place_key", names.place_key)
    df = _map_unique(df, "address", "address_key", names.address_key)
    keys = pl.col("_keys").str.split_exact("|", 1).struct
    region = pl.col("region_code").cast(pl.String)
    birth = pl.col("birth_date").cast(pl.Date)
    return df.select(
        pl.col("unique_id").cast(pl.Int64),
        _blank(pl.col("name_norm")).alias("name_norm"),
        _blank(keys.field("field_0")).alias("name_key"),
        _blank(keys.field("field_1")).alias("first_key"),
        birth.alias("birth_date"),
        birth.dt.year().cast(pl.Int32).alias("birth_year"),
        _blank(pl.col("place_key")).alias("place_key"),
        _blank(pl.col("mother_key")).alias("mother_key"),
        pl.col("sex").cast(pl.Int32),
        region.alias("region_code"),
        region.str.slice(0, 6).alias("kec"),
        region.str.slice(0, 4).alias("kab"),
        _blank(pl.col("address_key")).alias("address_key"),
    )


def _blank(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr == "").then(None).otherwise(expr)


# --- settings ------------------------------------------------------------------------------


def _date_level(sql: str, label: str) -> cll.CustomLevel:
    return cll.CustomLevel(sql, label_for_charts=label)


def settings() -> SettingsCreator:
    """The model: comparisons and prediction blocking rules (training sets m/u/prior)."""
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_key"),
            cll.ExactMatchLevel("name_norm").configure(label_for_charts="nama sama persis"),
            cll.ExactMatchLevel("name_key").configure(label_for_charts="nama sama (varian ejaan)"),
            cll.JaroWinklerLevel("name_key", 0.95).configure(label_for_charts="nama sangat mirip"),
            cll.JaroWinklerLevel("name_key", 0.88).configure(label_for_charts="nama mirip"),
            cll.JaroWinklerLevel("name_key", 0.75).configure(label_for_charts="nama agak mirip"),
            cll.ElseLevel().configure(label_for_charts="nama berbeda"),
        ],
    )
    birth = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date").configure(label_for_charts="tanggal lahir sama"),
            _date_level(
                'year("birth_date_l") = year("birth_date_r") '
                'AND month("birth_date_l") = day("birth_date_r") '
                'AND day("birth_date_l") = month("birth_date_r")',
                "tanggal dan bulan tertukar",
            ),
            _date_level(
                'abs(date_diff(\'day\', "birth_date_l", "birth_date_r")) <= 10',
                "selisih ≤ 10 hari",
            ),
            _date_level('year("birth_date_l") = year("birth_date_r")', "tahun lahir sama"),
            cll.ElseLevel().configure(label_for_charts="tanggal lahir berbeda"),
        ],
    )
    place = cl.CustomComparison(
        output_column_name="birth_place",
        comparison_levels=[
            cll.NullLevel("place_key"),
            cll.ExactMatchLevel("place_key").configure(label_for_charts="tempat lahir sama"),
            cll.JaroWinklerLevel("place_key", 0.88).configure(
                label_for_charts="tempat lahir mirip"
            ),
            cll.ElseLevel().configure(label_for_charts="tempat lahir berbeda"),
        ],
    )
    mother = cl.CustomComparison(
        output_column_name="mother",
        comparison_levels=[
            cll.NullLevel("mother_key"),
            cll.ExactMatchLevel("mother_key").configure(label_for_charts="nama ibu sama"),
            cll.JaroWinklerLevel("mother_key", 0.92).configure(
                label_for_charts="nama ibu sangat mirip"
            ),
            cll.JaroWinklerLevel("mother_key", 0.8).configure(label_for_charts="nama ibu mirip"),
            cll.ElseLevel().configure(label_for_charts="nama ibu berbeda"),
        ],
    )
    sex = cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[
            cll.NullLevel("sex"),
            cll.ExactMatchLevel("sex").configure(label_for_charts="jenis kelamin sama"),
            cll.ElseLevel().configure(label_for_charts="jenis kelamin berbeda"),
        ],
    )
    region = cl.CustomComparison(
        output_column_name="region",
        comparison_levels=[
            cll.NullLevel("region_code"),
            cll.ExactMatchLevel("region_code").configure(label_for_charts="desa sama"),
            cll.ExactMatchLevel("kec").configure(label_for_charts="kecamatan sama"),
            cll.ExactMatchLevel("kab").configure(label_for_charts="kab/kota sama"),
            cll.ElseLevel().configure(label_for_charts="wilayah berbeda"),
        ],
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("address_key"),
            cll.ExactMatchLevel("address_key").configure(label_for_charts="alamat sama"),
            cll.JaroWinklerLevel("address_key", 0.9).configure(label_for_charts="alamat mirip"),
            cll.ElseLevel().configure(label_for_charts="alamat berbeda"),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[name, birth, place, mother, sex, region, address],
        blocking_rules_to_generate_predictions=BLOCKING_RULES,
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        max_iterations=20,
    )


# Each rule is an equality on a few keys, so predicted pairs grow roughly linearly with the
# data (no rule compares everyone in a kab/kota). Together they catch a duplicate as long as
# one group of fields survived: the folded name with the birth year (typos in the date), the
# birth date with the first name or the kecamatan (name variants), the mother's name or the
# desa with the birth year (typos in the name), the name within the kab/kota (date missing).
BLOCKING_RULES = [
    block_on("name_key", "birth_year"),
    block_on("birth_date", "first_key"),
    block_on("birth_date", "kec"),
    block_on("mother_key", "birth_year"),
    block_on("region_code", "birth_year"),
    block_on("name_key", "kab"),
    block_on("mother_key", "first_key", "kab"),
]


# --- training and prediction ---------------------------------------------------------------


def _linker(con: duckdb.DuckDBPyConnection, table: str, model: dict | SettingsCreator) -> Linker:
    db_api = DuckDBAPI(connection=con)
    sdf = db_api.register(table)
    return Linker(sdf, model, log_level=logging.ERROR)


def load_features(con: duckdb.DuckDBPyConnection, df: pl.DataFrame, table: str = "persons") -> str:
    """Materialise the feature frame as a DuckDB table (Arrow, zero copy) and return its name."""
    arrow = df.to_arrow()
    con.register("_features_arrow", arrow)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _features_arrow")  # noqa: S608
    con.unregister("_features_arrow")
    return table


def train(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    max_pairs: float = 2e6,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train on the persons in `table`: prior from a deterministic rule, u by random sampling,
    m by EM on two blocking rules (each estimating the comparisons it does not block on).
    Returns the Splink model as a JSON-safe dict."""
    step = progress or (lambda _msg: None)
    linker = _linker(con, table, settings())
    step("prior")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name_key", "birth_date")], recall=0.7
    )
    step("u")
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    step("m (nama)")
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("birth_date", "kec"), estimate_without_term_frequencies=True
    )
    step("m (tanggal lahir)")
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("name_key", "birth_year"), estimate_without_term_frequencies=True
    )
    return regularise(linker.misc.save_model_to_json())


# A level EM never saw (no duplicate with a different sex in the sample) gets no m, and a
# level seen once gets an m near zero: either would make one disagreement veto a match.
M_FLOOR = 0.002


def regularise(model: dict[str, Any]) -> dict[str, Any]:
    """Floor every non-null level's m probability at M_FLOOR (in place; returns `model`)."""
    for comparison in model.get("comparisons", []):
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m = level.get("m_probability")
            if m is None or m < M_FLOOR:
                level["m_probability"] = M_FLOOR
    return model


def predict(
    con: duckdb.DuckDBPyConnection,
    table: str,
    model: dict[str, Any],
    *,
    threshold: float = PAIR_THRESHOLD,
) -> tuple[Linker, Any]:
    """Score the blocked pairs of `table`: (linker, SplinkDataFrame of pairs ≥ threshold)."""
    linker = _linker(con, table, model)
    pairs = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    return linker, pairs


def cluster(linker: Linker, pairs: Any, *, threshold: float = CLUSTER_THRESHOLD) -> Any:
    """Connected components over pairs ≥ threshold: a SplinkDataFrame (unique_id, cluster_id)."""
    return linker.clustering.cluster_pairwise_predictions_at_threshold(
        pairs, threshold_match_probability=threshold
    )


# --- explanation ---------------------------------------------------------------------------


def pair_columns() -> str:
    """The predicted-pair columns we keep: ids, totals, and per comparison gamma and weight."""
    parts = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]
    parts += [f"{p}_{name}" for name in COMPARISONS for p in ("gamma", "mw")]
    return ", ".join(parts)


def level_labels(model: Mapping[str, Any]) -> dict[str, dict[int, dict[str, Any]]]:
    """{comparison: {gamma: {"label", "m", "u"}}} from a saved model, for explanations."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for comparison in model.get("comparisons", []):
        levels = [lv for lv in comparison["comparison_levels"]]
        n = sum(1 for lv in levels if not lv.get("is_null_level"))
        gammas: dict[int, dict[str, Any]] = {}
        value = n - 1
        for lv in levels:
            if lv.get("is_null_level"):
                gammas[-1] = {"label": "kosong", "m": None, "u": None}
                continue
            gammas[value] = {
                "label": lv.get("label_for_charts") or lv.get("sql_condition", ""),
                "m": lv.get("m_probability"),
                "u": lv.get("u_probability"),
            }
            value -= 1
        out[comparison["output_column_name"]] = gammas
    return out


def prior_weight(model: Mapping[str, Any]) -> float:
    """log2 prior odds of a match between two random records."""
    p = float(model.get("probability_two_random_records_match") or 1e-4)
    return math.log2(p / (1 - p))


def explanation(row: Mapping[str, Any], labels: Mapping[str, Mapping[int, Mapping]]) -> list[dict]:
    """Per comparison: its level label and match weight, from a predicted pair row
    (gamma_<c>, mw_<c>). Stored as JSON on the candidate pair for the review page."""
    out = []
    for name in COMPARISONS:
        gamma = row.get(f"gamma_{name}")
        if gamma is None:
            continue
        weight = row.get(f"mw_{name}")
        level = labels.get(name, {}).get(int(gamma), {})
        out.append(
            {
                "comparison": name,
                "gamma": int(gamma),
                "label": level.get("label", str(gamma)),
                "weight": round(float(weight or 0.0), 3),
            }
        )
    return out
