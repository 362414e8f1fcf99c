"""Checks at entry: likely registry matches for new records, before they are submitted.

`match_records` does not re-run the dedup. For a batch of new records it
1. finds exact NIK and No KK matches (indexed columns),
2. prefilters registry persons that share a blocking key with a record, one indexed lookup
   per key: the same NIK, No KK or normalised name (person_name_idx; kept if in the scope)
   or the same birth date (or its day/month swap) in the record's kecamatan
   (person_region_idx range, then a filter),
3. scores each record only against its own prefiltered persons with the trained model's
   saved parameters (Splink `compare_records` in an in-memory DuckDB, one query per batch).

Budget: a few indexed lookups and one DuckDB query per batch, independent of registry
size apart from the kecamatan birth-date filter (see docs/dedup.md on the missing
(region_code, birth_date) index).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl
from django.db.models import Q
from splink import DuckDBAPI
from splink.internals.realtime import compare_records

from terpadu.dedup import model as dm
from terpadu.dedup.runs import ACTIVE, latest_model
from terpadu.lib.names import normalise_name
from terpadu.lib.nik import mask_nik, normalise_id
from terpadu.regions.models import prefix_q
from terpadu.registry.models import Person

# Most persons a batch may pull in through the birth-date prefilter; a kab/kota with more
# persons born on the same days is rare, and the name/NIK paths are not capped.
PREFILTER_CAP = 20_000


@dataclass
class Candidate:
    """One likely registry match of a new record."""

    person_id: int
    probability: float
    match_weight: float
    reasons: list[str] = field(default_factory=list)
    masked_nik: str = ""
    name: str = ""
    birth_date: dt.date | None = None
    region_code: str = ""


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _swapped(d: dt.date | None) -> dt.date | None:
    if d is None or d.day > 12 or d.day == d.month:
        return None
    return d.replace(day=d.month, month=d.day)


def _clean(record: Mapping[str, Any]) -> dict[str, Any]:
    birth = _date(record.get("birth_date"))
    sex = record.get("sex")
    return {
        "nik": normalise_id(record.get("nik")) or None,
        "no_kk": normalise_id(record.get("no_kk")) or None,
        "name_norm": normalise_name(record.get("name")),
        "birth_date": birth,
        "birth_place": record.get("birth_place") or None,
        "mother_name_norm": normalise_name(record.get("mother_name")) or None,
        "sex": int(sex) if str(sex or "").strip().isdigit() else None,
        "region_code": str(record.get("region_code") or ""),
        "address": record.get("address") or None,
    }


_PERSON_FIELDS = (
    "pk",
    "nik",
    "name",
    "name_norm",
    "birth_date",
    "birth_place",
    "mother_name_norm",
    "sex",
    "region_code",
    "household__address",
    "family__no_kk",
)


def _prefilter(recs: list[dict[str, Any]], scope_prefix: str) -> list[dict[str, Any]]:
    """Registry persons sharing a blocking key with any record.

    One indexed lookup of person ids per key — NIK (person_nik_idx), No KK (the family's
    index, then the persons of those families), name (person_name_idx) and birth date per
    kecamatan of the records (the batch model's "birth date + kecamatan" rule; a range on
    person_region_idx: a batch of one kab/kota reads each of its kecamatan at most once) —
    then one read of those persons. One query ORing the keys across the family join would
    read the whole person table instead.
    """
    niks = {r["nik"] for r in recs if r["nik"]}
    kks = {r["no_kk"] for r in recs if r["no_kk"]}
    names = {r["name_norm"] for r in recs if r["name_norm"]}
    dates_by_kec: dict[str, set[dt.date]] = {}
    for r in recs:
        for d in (r["birth_date"], _swapped(r["birth_date"])):
            if d:
                dates_by_kec.setdefault(r["_kec"], set()).add(d)
    keys: list[Q] = []
    if niks:
        keys.append(Q(nik__in=niks))
    if kks:
        keys.append(Q(family__no_kk__in=kks))
    if names:
        # Name alone; the scope is applied below, in Python: ANDing the index with the
        # scope's region range would read the whole kab/kota's index range.
        keys.append(Q(name_norm__in=names))
    keys += [
        Q(birth_date__in=dates) & prefix_q("region_code", kec)
        for kec, dates in sorted(dates_by_kec.items())
    ]
    active = Person.objects.filter(status__in=ACTIVE)
    ids: set[int] = set()
    for key in keys:
        ids.update(active.filter(key).values_list("pk", flat=True)[:PREFILTER_CAP])
        if len(ids) >= PREFILTER_CAP:
            break
    if not ids:
        return []
    qs = Person.objects.filter(pk__in=sorted(ids)[:PREFILTER_CAP])
    return [
        p
        for p in qs.values(*_PERSON_FIELDS)
        if p["region_code"].startswith(scope_prefix)
        or (p["nik"] and p["nik"] in niks)
        or (p["family__no_kk"] and p["family__no_kk"] in kks)
    ]


def _pairs_for(
    recs: list[dict[str, Any]], persons: list[dict[str, Any]]
) -> tuple[list[dict], list[dict]]:
    """(left rows, right rows) with a `batch_rec` column: each record against the persons
    that share one of its keys (NIK, No KK, name, birth date or its swap in the kab/kota).
    Persons are indexed by key first, so a batch costs O(records + persons + pairs)."""
    index: dict[tuple, list[dict[str, Any]]] = {}
    for p in persons:
        keys = [("name", p["name_norm"]), ("date", p["birth_date"])]
        if p["nik"]:
            keys.append(("nik", p["nik"]))
        if p["family__no_kk"]:
            keys.append(("kk", p["family__no_kk"]))
        for key in keys:
            index.setdefault(key, []).append(p)
    left, right = [], []
    for i, r in enumerate(recs):
        left.append({**r, "unique_id": -(i + 1), "batch_rec": i})
        keys = [("nik", r["nik"]), ("kk", r["no_kk"]), ("name", r["name_norm"])]
        keys += [("date", d) for d in (r["birth_date"], _swapped(r["birth_date"]))]
        seen: set[int] = set()
        for key in keys:
            for p in index.get(key, ()):
                if p["pk"] in seen or (
                    key[0] == "date" and not p["region_code"].startswith(r["_kec"])
                ):
                    continue
                seen.add(p["pk"])
                right.append(
                    {
                        "unique_id": p["pk"],
                        "batch_rec": i,
                        "name_norm": p["name_norm"],
                        "birth_date": p["birth_date"],
                        "birth_place": p["birth_place"] or None,
                        "mother_name_norm": p["mother_name_norm"] or None,
                        "sex": p["sex"],
                        "region_code": p["region_code"],
                        "address": p["household__address"] or None,
                    }
                )
    return left, right


def _feature_table(rows: list[dict]) -> Any:
    batch = pl.DataFrame({"unique_id": [r["unique_id"] for r in rows]}).with_columns(
        pl.Series("batch_rec", [r["batch_rec"] for r in rows])
    )
    # Features once per distinct row (a person matched by k records appears k times), then
    # one row per (record, person) pair.
    distinct = {r["unique_id"]: r for r in rows}
    feats = dm.features(
        pl.DataFrame(
            [{k: r[k] for k in dm.INPUT_SCHEMA} for r in distinct.values()],
            schema=dm.INPUT_SCHEMA,
            orient="row",
        )
    )
    return feats.join(batch.unique(), on="unique_id").to_arrow()


def _score(
    params: dict[str, Any], left: list[dict], right: list[dict], *, cache_key: str
) -> list[dict[str, Any]]:
    con = duckdb.connect()
    try:
        db_api = DuckDBAPI(connection=con)
        result = compare_records(
            _feature_table(left),
            _feature_table(right),
            params,
            db_api,
            join_condition="l.batch_rec = r.batch_rec",
            sql_cache_key=cache_key,  # the model's SQL is built once per process
        )
        return pl.from_arrow(
            con.sql(f"SELECT * FROM {result.physical_name}").to_arrow_table()  # noqa: S608 — Splink table
        ).to_dicts()
    finally:
        con.close()


def match_records(
    records: Sequence[Mapping[str, Any]],
    *,
    scope_prefix: str,
    limit: int = 5,
    threshold: float = 0.8,
) -> list[list[Candidate]]:
    """Likely registry matches of each record (same order as `records`), best first.

    Records have keys nik, name, birth_date, birth_place, mother_name, sex, region_code,
    address (and optionally no_kk). Exact NIK matches come first whatever their score; No KK
    matches are shown when the model also finds them likely. `scope_prefix` bounds the
    probabilistic prefilter (usually the kab/kota of the entry); NIK/No KK are searched
    nationally. Without a trained model only exact matches are returned.
    """
    recs = [_clean(r) for r in records]
    for r in recs:
        # Without a desa, the scope itself bounds the birth-date lookup.
        code = r["region_code"] if r["region_code"].startswith(scope_prefix) else scope_prefix
        r["_kec"] = code[:6]
    out: list[list[Candidate]] = [[] for _ in recs]
    if not recs:
        return out
    persons = _prefilter(recs, scope_prefix)
    if not persons:
        return out
    trained = latest_model()
    # Per record: {person id: score} of its scored pairs; with the persons by NIK below, each
    # record visits only its own candidates (records × persons would be 10⁹ for an import).
    scores: dict[int, dict[int, dict[str, Any]]] = {}
    if trained is not None:
        left, right = _pairs_for(recs, persons)
        if right:
            labels = dm.level_labels(trained.params)
            # Saved models are never changed: the row id names the model's SQL.
            key = f"terpadu-dedup-{trained.pk}"
            for row in _score(trained.params, left, right, cache_key=key):
                rec = -int(row["unique_id_l"]) - 1
                scores.setdefault(rec, {})[int(row["unique_id_r"])] = {
                    "p": float(row["match_probability"]),
                    "w": float(row["match_weight"]),
                    "why": dm.explanation(row, labels),
                }
    by_pk = {p["pk"]: p for p in persons}
    by_nik: dict[str, list[int]] = {}
    for p in persons:
        if p["nik"]:
            by_nik.setdefault(p["nik"], []).append(p["pk"])
    for i, r in enumerate(recs):
        found: dict[int, Candidate] = {}
        mine = scores.get(i, {})
        candidates = [*by_nik.get(r["nik"], []), *mine] if r["nik"] else list(mine)
        for pk in dict.fromkeys(candidates):
            p = by_pk[pk]
            exact_nik = bool(r["nik"] and p["nik"] == r["nik"])
            same_kk = bool(r["no_kk"] and p["family__no_kk"] == r["no_kk"])
            s = mine.get(pk)
            if not exact_nik and (s is None or s["p"] < threshold):
                continue
            reasons = []
            if exact_nik:
                reasons.append("NIK sama")
            if same_kk:
                reasons.append("No KK sama")
            if s:
                reasons += [e["label"] for e in s["why"] if e["weight"] > 0]
            found[p["pk"]] = Candidate(
                person_id=p["pk"],
                probability=s["p"] if s else 1.0,
                match_weight=s["w"] if s else 0.0,
                reasons=reasons,
                masked_nik=mask_nik(p["nik"]) if p["nik"] else "",
                name=p["name"],
                birth_date=p["birth_date"],
                region_code=p["region_code"],
            )
        ranked = sorted(found.values(), key=lambda c: ("NIK sama" not in c.reasons, -c.probability))
        out[i] = ranked[:limit]
    return out
