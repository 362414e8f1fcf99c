"""Applying a validated file: new households and corrections, all or nothing.

The caller (services.apply) hands over the checked batches — the stored dry run's Arrow IPC
files when its fingerprint still matches (only the registry rules run again), else those of
a fresh validation pass — and calls `apply_checked` inside ONE transaction. Rows are grouped
into households (the file's household key, else one household per No KK); a household is
written once all its rows have been read:

* mode "direct": the checked rows' columns (values already cleaned by the registry's rules
  in the validation) go to `records.create_households_precleaned` — the rows
  `create_households_bulk` would write, COPY/executemany per table, CREATE history rows —
  under one ChangeSet (source="import", source_ref=job id), `WRITE_HOUSEHOLDS` households a
  call; rows carrying ``ID_ART`` become UPDATEs through `records.clean_changes` +
  `records.write_rows_bulk` + `records.record_changes_bulk` in the same ChangeSet.
* mode "proposal": `terpadu.proposals.bulk.create_bulk`: usulan baru per new household
  (bundles of `FLUSH_HOUSEHOLDS`), perbaikan per changed registry row, payloads built by
  proposals.creation itself.

Quarantine: households with any error row (and id rows with errors) are skipped whole and
their original cells stored as `QuarantinedRow`. Cancelling is checked between batches and
raises `Cancelled`, which rolls the transaction back with everything else.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from django.db import models
from django.utils import timezone

from terpadu.imports import layout
from terpadu.imports.models import ImportJob, Mode, QuarantinedRow
from terpadu.imports.reading import ROW
from terpadu.imports.validation import (
    HOUSEHOLD_KEYS,
    PERSON_KEYS,
    PROGRAMME_KEYS,
    Context,
    flag_value,
)
from terpadu.proposals import bulk
from terpadu.regions.models import Region
from terpadu.registry import bulkpipe, records
from terpadu.registry.models import Change, ChangeSet, Family, Household, Person, Program
from terpadu.registry.records import RecordIssue, RegistryError

if TYPE_CHECKING:
    from terpadu.accounts.models import User

FLUSH_HOUSEHOLDS = 2000  # proposal mode: households per create_bulk call
WRITE_HOUSEHOLDS = 20_000  # direct mode: households per create_households_precleaned call
FLUSH_CORRECTIONS = 5000

# Programme flag column → catalogue codes to look for, first found wins (the catalogue seeds
# PKH, BPNT, PBI-JK, PIP, BLT-DD; some regions call BPNT "SEMBAKO").
PROGRAMME_CODES: dict[str, tuple[str, ...]] = {
    "prog_pkh": ("PKH",),
    "prog_bpnt": ("BPNT", "SEMBAKO"),
    "prog_pbi": ("PBI-JK", "PBI"),
    "prog_blt": ("BLT-DD", "BLT"),
    "prog_pip": ("PIP", "KIP"),
}


def programmes_of(keys: list[str]) -> dict[str, tuple[int, str]]:
    """{flag key: (Program id, target)} of the mapped flag columns `keys`; RegistryError when
    the catalogue lacks one of them (a flag is never dropped silently)."""
    wanted = {code for key in keys for code in PROGRAMME_CODES[key]}
    found = {p.code: p for p in Program.objects.filter(code__in=wanted)}
    out: dict[str, tuple[int, str]] = {}
    for key in keys:
        program = next((found[c] for c in PROGRAMME_CODES[key] if c in found), None)
        if program is None:
            code = PROGRAMME_CODES[key][0]
            raise RegistryError(
                [
                    RecordIssue(
                        key,
                        "program_tidak_dikenal",
                        "error",
                        f"Program {code} tidak ada di katalog program.",
                        f"Programme {code} is not in the programme catalogue.",
                    )
                ]
            )
        out[key] = (program.pk, program.target)
    return out


class Cancelled(Exception):
    """The user asked to cancel; raised between batches to roll the apply back."""


@dataclass
class Outcome:
    """What an apply wrote (all of it rolled back if anything raised)."""

    households: int = 0
    persons_new: int = 0
    persons_updated: int = 0
    proposals: int = 0
    unchanged: int = 0
    quarantined: int = 0
    rows_applied: int = 0
    changeset: ChangeSet | None = None


def spill_path(tmp: Path, n: int) -> Path:
    return tmp / f"batch-{n:05d}.arrow"


def iter_spilled(tmp: Path) -> Iterator[pl.DataFrame]:
    for path in sorted(tmp.glob("batch-*.arrow")):
        yield pl.read_ipc(path)


def _field(key: str) -> str:
    return layout.column(key).field or key


@dataclass
class _Plan:
    """What to apply, from the validation result: excluded rows and household sizes."""

    excluded_rows: set[int]
    hh_sizes: dict[str, int]


def plan(slim: pl.DataFrame, error_rows: set[int], *, quarantine: bool) -> _Plan:
    """Rows to keep back (quarantine: every row of a household with an error row) and the
    number of rows of each household that will be applied."""
    new = slim.filter(pl.col("person_id").is_null())
    bad = sorted(error_rows)
    bad_hh = new.filter(pl.col(ROW).is_in(bad)).get_column("hh_key").unique().to_list()
    excluded_new = new.filter(pl.col("hh_key").is_in(bad_hh)).get_column(ROW).to_list()
    excluded_ids = (
        slim.filter(pl.col("person_id").is_not_null() & pl.col(ROW).is_in(bad))
        .get_column(ROW)
        .to_list()
    )
    excluded = set(excluded_new) | set(excluded_ids) if quarantine else set()
    kept = new.filter(~pl.col(ROW).is_in(list(excluded)))
    sizes = dict(kept.group_by("hh_key").len().iter_rows())
    return _Plan(excluded, sizes)


class Applier:
    """Accumulates rows into households and corrections and writes them in chunks."""

    def __init__(
        self,
        job: ImportJob,
        ctx: Context,
        *,
        by: User,
        current: Mapping[int, Person],
        the_plan: _Plan,
    ) -> None:
        self.job, self.ctx, self.by = job, ctx, by
        self.current = current
        self.plan = the_plan
        self.mode = job.mode
        self.pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.pending_frame: pl.DataFrame | None = None  # direct mode: rows of open households
        self.sizes = pl.DataFrame(
            {"hh_key": list(the_plan.hh_sizes), "_size": list(the_plan.hh_sizes.values())},
            schema={"hh_key": pl.String, "_size": pl.UInt32},
        )
        self.ready: list[list[dict[str, Any]]] = []
        self.corrections: list[dict[str, Any]] = []
        self.quarantine_rows: list[QuarantinedRow] = []
        self.out = Outcome()
        self.regions = Region.objects.in_bulk(list(ctx.desa.values()))
        self.region_by_code = {r.digits: r for r in self.regions.values()}
        self.person_keys = [k for k in PERSON_KEYS if ctx.has(k)]
        self.household_keys = [k for k in HOUSEHOLD_KEYS if ctx.has(k)]
        self.reason = f"Impor berkas #{job.pk}: {job.original_name}"[:500]
        # Programme flags open memberships in direct mode (new households); proposals carry
        # no programme data (the determination of an usulan baru does not take any).
        self.programmes: dict[str, tuple[int, str]] = {}
        if self.mode == Mode.DIRECT:
            self.programmes = programmes_of([k for k in PROGRAMME_KEYS if ctx.has(k)])
            self.out.changeset = records.open_changeset(
                by=by, reason=self.reason, source=ChangeSet.Source.IMPORT, source_ref=str(job.pk)
            )

    # --- feeding ---------------------------------------------------------------------------

    def feed(self, frame: pl.DataFrame) -> int:
        """Take one checked batch; write whatever households it completes. Returns the
        number of rows of the batch that will be applied."""
        headers = self.ctx.info.headers
        raw_cols = self.ctx.info.columns
        excluded = self.plan.excluded_rows
        used = 0
        wanted = [
            ROW,
            "person_id",
            "hh_key",
            "kk_key",
            "region",
            "nik",
            "no_kk",
            *[k for k in self.person_keys if k != "nik"],
            *self.household_keys,
            *self.programmes,
        ]
        frame = self._with_flags(frame)
        cols = [c for c in dict.fromkeys(wanted) if c in frame.columns]
        if excluded:
            bad = frame.filter(pl.col(ROW).is_in(list(excluded)))
            for row in bad.select(ROW, *raw_cols).iter_rows():
                data = {h: v for h, v in zip(headers, row[1:], strict=True) if v is not None}
                self.quarantine_rows.append(QuarantinedRow(job=self.job, row_no=row[0], data=data))
            frame = frame.filter(~pl.col(ROW).is_in(list(excluded)))
        if self.mode == Mode.DIRECT:
            new = frame.filter(pl.col("person_id").is_null()).select(cols)
            frame = frame.filter(pl.col("person_id").is_not_null())
            used += new.height
            self._take_new(new)
        for row in frame.select(cols).iter_rows(named=True):
            used += 1
            if row["person_id"] is not None:
                self.corrections.append(row)
                continue
            key = row["hh_key"]
            rows = self.pending[key]
            rows.append(row)
            if len(rows) >= self.plan.hh_sizes.get(key, 0):
                self.ready.append(self.pending.pop(key))
        if len(self.ready) >= FLUSH_HOUSEHOLDS:
            self.flush_households()
        if len(self.corrections) >= FLUSH_CORRECTIONS:
            self.flush_corrections()
        self.out.rows_applied += used
        return used

    def _with_flags(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Add a Boolean column per mapped programme flag (key ``prog_…``), from the raw cell
        by `validation.flag_value` once per distinct value (unreadable → null = no)."""
        exprs = []
        for key in self.programmes:
            raw = self.ctx.columns[key]
            values = frame.get_column(raw).drop_nulls().unique().to_list()
            mapping = {v: flag_value(v) for v in values}
            exprs.append(
                pl.col(raw)
                .replace_strict(mapping, default=None, return_dtype=pl.Boolean)
                .alias(key)
            )
        return frame.with_columns(exprs) if exprs else frame

    def finish(self) -> Outcome:
        self.ready += list(self.pending.values())
        self.pending.clear()
        self.flush_households()
        if self.pending_frame is not None:
            rest, self.pending_frame = self.pending_frame, None
            self._write_new(rest)
        self.flush_corrections()
        if self.quarantine_rows:
            QuarantinedRow.objects.bulk_create(self.quarantine_rows, batch_size=2000)
            self.out.quarantined = len(self.quarantine_rows)
        return self.out

    # --- new households, direct mode: columns, no per-row Python ------------------------------

    def _take_new(self, new: pl.DataFrame) -> None:
        """Add the new rows of a batch; write the households whose rows are all read."""
        pending = new if self.pending_frame is None else pl.concat([self.pending_frame, new])
        counts = pending.group_by("hh_key").len().join(self.sizes, on="hh_key", how="left")
        done = counts.filter(pl.col("len") >= pl.col("_size").fill_null(0)).get_column("hh_key")
        complete = pending.filter(pl.col("hh_key").is_in(done.implode()))
        self.pending_frame = pending.filter(~pl.col("hh_key").is_in(done.implode()))
        if not complete.is_empty():
            self._write_new(complete)

    def precleaned(self, rows: pl.DataFrame) -> records.Precleaned:
        """The checked rows (values cleaned by the dry run's registry rules) as the frames of
        `records.create_households_precleaned`, grouped as `_bundle` groups them: one
        household per `hh_key`, one family per No KK within it (in order of appearance),
        members in family order; household values from the household's first row."""
        hh, fam = records.HH, records.FAM
        rows = rows.sort(ROW).with_columns(pl.col("kk_key").fill_null(""))
        first = rows.group_by("hh_key", maintain_order=True).first()
        first = first.with_row_index(hh).with_columns(pl.col(hh).cast(pl.Int64))
        desa = pl.DataFrame(
            {"region": list(self.ctx.desa), "region_id": list(self.ctx.desa.values())},
            schema={"region": pl.String, "region_id": pl.Int64},
        )
        households = first.join(desa, on="region", how="left", maintain_order="left").select(
            hh,
            "region_id",
            pl.col("region").alias("region_code"),
            *[pl.col(k).alias(_field(k)) for k in self.household_keys],
        )
        rows = rows.join(first.select("hh_key", hh), on="hh_key", maintain_order="left")
        families = (
            rows.group_by(hh, "kk_key", maintain_order=True)
            .agg(pl.col("no_kk").first())
            .sort(hh, maintain_order=True)  # a household's families together, as in _bundle
            .with_row_index(fam)
            .with_columns(pl.col(fam).cast(pl.Int64))
        )
        persons = (
            rows.join(families.select(hh, "kk_key", fam), on=[hh, "kk_key"], maintain_order="left")
            .sort(hh, fam, ROW)
            .select(
                hh,
                fam,
                *[pl.col(k).alias(_field(k)) for k in self.person_keys],
                *[pl.col(k).alias(f"_prog_{pid}") for k, (pid, _) in self.programmes.items()],
            )
        )
        return records.Precleaned(
            households,
            families.select(fam, hh, "no_kk"),
            persons,
            programmes={pid: target for pid, target in self.programmes.values()},
            programme_source=f"impor #{self.job.pk}",
        )

    def _write_new(self, rows: pl.DataFrame) -> None:
        keys = rows.get_column("hh_key").unique(maintain_order=True)
        for start in range(0, keys.len(), WRITE_HOUSEHOLDS):
            chunk = rows.filter(
                pl.col("hh_key").is_in(keys.slice(start, WRITE_HOUSEHOLDS).implode())
            )
            n_hh, _, n_persons = records.create_households_precleaned(
                self.out.changeset, self.precleaned(chunk)
            )
            self.out.households += n_hh
            self.out.persons_new += n_persons

    # --- new households, proposal mode ------------------------------------------------------

    def _bundle(self, rows: list[dict[str, Any]]) -> tuple[Region, dict, list[dict], list[int]]:
        first = rows[0]
        region = self.region_by_code[first["region"]]
        hh_fields = {
            _field(k): first[k] for k in self.household_keys if first.get(k) not in (None, "")
        }
        families: dict[str, dict[str, Any]] = {}
        for row in rows:
            fam = families.setdefault(
                row["kk_key"] or "", {"no_kk": row.get("no_kk"), "members": []}
            )
            member = {
                _field(k): row[k] for k in self.person_keys if k != "nik" and row.get(k) is not None
            }
            if row.get("nik"):
                member["nik"] = row["nik"]
            fam["members"].append(member)
        return region, hh_fields, list(families.values()), [r[ROW] for r in rows]

    def flush_households(self) -> None:
        """Proposal mode: one usulan baru per completed household (direct mode writes new
        households as columns, `_take_new`, and never queues them here)."""
        if not self.ready:
            return
        bundles = [self._bundle(rows) for rows in self.ready]
        self.ready = []
        result = bulk.create_bulk(
            by=self.by,
            reason=self.reason,
            new_households=[
                bulk.NewHousehold(
                    region=region,
                    families=fams,
                    household_fields=hh,
                    rows=rows,
                    key=f"baris {rows[0]}",
                    precleaned=True,  # typed values the dry run's field cleaning accepted
                )
                for region, hh, fams, rows in bundles
            ],
            source={"import_job": self.job.pk},
        )
        self.out.proposals += len(result.proposals)
        self.out.households += len(result.proposals)

    # --- corrections ------------------------------------------------------------------------

    def _changes(self, row: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """{"person"|"family"|"household": {field: new value}} of one id row."""
        person = {_field(k): row.get(k) for k in self.person_keys if k != "nik"}
        if "nik" in self.person_keys:
            person["nik"] = row.get("nik")
        out = {"person": person}
        if self.ctx.has("no_kk"):
            out["family"] = {"no_kk": row.get("no_kk")}
        if self.household_keys:
            out["household"] = {_field(k): row.get(k) for k in self.household_keys}
        return out

    def flush_corrections(self) -> None:
        if not self.corrections:
            return
        rows, self.corrections = self.corrections, []
        persons = [self.current[r["person_id"]] for r in rows]
        families = Family.objects.in_bulk({p.family_id for p in persons})
        households = Household.objects.in_bulk({p.household_id for p in persons})
        targets: dict[tuple[str, int], tuple[models.Model, dict[str, Any], list[int]]] = {}
        for row, person in zip(rows, persons, strict=True):
            for entity, changes in self._changes(row).items():
                obj = {
                    "person": person,
                    "family": families.get(person.family_id),
                    "household": households.get(person.household_id),
                }[entity]
                if obj is None or not changes:
                    continue
                key = (entity, obj.pk)
                if key in targets:
                    targets[key][1].update(changes)
                    targets[key][2].append(row[ROW])
                else:
                    targets[key] = (obj, dict(changes), [row[ROW]])
        if self.mode == Mode.DIRECT:
            self._write_corrections(targets)
        else:
            result = bulk.create_bulk(
                by=self.by,
                reason=self.reason,
                corrections=[
                    bulk.Correction(target=obj, changes=changes, rows=rws)
                    for obj, changes, rws in targets.values()
                ],
                source={"import_job": self.job.pk},
            )
            self.out.proposals += len(result.proposals)
            self.out.unchanged += result.unchanged
            self.out.persons_updated += sum(
                1 for p in result.proposals if p.target_type == "person"
            )

    def _write_corrections(
        self, targets: Mapping[tuple[str, int], tuple[models.Model, dict[str, Any], list[int]]]
    ) -> None:
        issues: list[RecordIssue] = []
        by_model: dict[type[models.Model], dict[int, dict[str, Any]]] = defaultdict(dict)
        history: list[tuple[models.Model, str, dict[str, list[Any]]]] = []
        relation_changed: list[int] = []
        for (entity, pk), (obj, changes, rows) in targets.items():
            values, found = records.clean_changes(obj, changes)
            errors = [i for i in found if i.severity == "error"]
            if errors:
                issues += [
                    RecordIssue(
                        f"baris {rows[0]}.{i.path}", i.code, i.severity, i.message_id, i.message_en
                    )
                    for i in errors
                ]
                continue
            diff, dirty = records.apply_values(obj, values)
            if not diff:
                self.out.unchanged += 1
                continue
            by_model[type(obj)][pk] = {
                name: getattr(obj, obj._meta.get_field(name).attname) for name in dirty
            }
            history.append((obj, Change.Action.UPDATE.value, diff))  # diff is JSON-safe
            if entity == "person":
                self.out.persons_updated += 1
                if "relation_kk" in diff:
                    relation_changed.append(pk)
        if issues:
            raise RegistryError(issues)
        now = timezone.now()
        for model, rows in by_model.items():
            records.write_rows_bulk(model, rows, updated_at=now)
        records.record_changes_bulk(self.out.changeset, history)
        records.sync_memberships_bulk(relation_changed)


def apply_checked(
    job: ImportJob,
    ctx: Context,
    tmp: Path,
    *,
    by: User,
    current: Mapping[int, Person],
    the_plan: _Plan,
    on_batch: Callable[[int], None],
    cancelled: Callable[[], bool],
) -> Outcome:
    """Apply the spilled batches of `tmp`; call inside a transaction (see module docstring)."""
    applier = Applier(job, ctx, by=by, current=current, the_plan=the_plan)
    # Direct mode: PostgreSQL writes a chunk's households while the next one is prepared.
    overlap = bulkpipe.pipeline() if job.mode == Mode.DIRECT else contextlib.nullcontext()
    with overlap:
        for frame in iter_spilled(tmp):
            if cancelled():
                raise Cancelled
            applier.feed(frame)
            on_batch(applier.out.rows_applied)
        if cancelled():
            raise Cancelled
        return applier.finish()
