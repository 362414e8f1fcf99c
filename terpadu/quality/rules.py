# ruff: noqa: S608 — table/column names come from model meta or a whitelist; values are parameters
"""Evaluating tidak-layak rules (issue 7 §5): set-based SQL from rule rows to flag rows.

Per rule version, one statement fills a scratch table with the candidates (person, evidence
key, evidence JSON) — persons joined to reference-list entries by NIK, to their KK members'
entries (same-KK propagation) or filtered by a registry field — and three statements bring
`ExclusionFlag` in line: insert what is new, reopen what had lapsed, mark as obsolete what no
longer holds. A flag already decided (proposed, dismissed) for the same person, rule version
and evidence key is left alone, so a dismissal is remembered across re-evaluations. Nothing
here writes to the registry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from terpadu.quality.catalogue import ATTRIBUTE_FIELDS, OPERATORS
from terpadu.quality.models import (
    EligibilityRule,
    ExclusionFlag,
    FlagStatus,
    ReferenceEntry,
    ReferenceList,
    RuleKind,
)
from terpadu.quality.sql import active_sql, range_sql
from terpadu.registry.models import Family, Household, Person

SCRATCH = "quality_flag_cand"


class RuleError(ValueError):
    """A rule row whose parameters cannot be evaluated (bad field, operator, list kind)."""


@dataclass(frozen=True)
class Sql:
    text: str
    params: list[object]


def effective_rules(on: dt.date | None = None) -> list[EligibilityRule]:
    """Active rule versions in force on `on` (today by default)."""
    on = on or timezone.localdate()
    return list(
        EligibilityRule.objects.filter(active=True, effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .order_by("code", "-version")
    )


def _range(column: str, prefix: str) -> Sql:
    return Sql(*range_sql(column, prefix))


def _json(pairs: list[tuple[str, str]]) -> str:
    fn = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    return f"{fn}(" + ", ".join(f"'{key}', {expr}" for key, expr in pairs) + ")"


def _text(expr: str) -> str:
    return f"COALESCE(CAST({expr} AS TEXT), '')"


def _threshold(rule: EligibilityRule, region_col: str) -> Sql | None:
    """The value an entry must exceed, by the longest matching region prefix, or None."""
    params = rule.parameters or {}
    by_region = params.get("threshold_by_region") or {}
    default = params.get("threshold")
    if not by_region and default is None:
        return None
    whens, values = [], []
    for prefix in sorted(by_region, key=len, reverse=True):
        whens.append(f"WHEN substr({region_col}, 1, {len(str(prefix))}) = %s THEN %s")
        values += [str(prefix), by_region[prefix]]
    if not whens:
        return Sql("%s", [default])
    return Sql(f"CASE {' '.join(whens)} ELSE %s END", [*values, default])


def _entry_join(rule: EligibilityRule, holder: str, region_col: str) -> Sql:
    """Join `holder`'s NIK to the entries of active lists of the rule's kind covering it."""
    kind = (rule.parameters or {}).get("list_kind")
    if not kind:
        raise RuleError(f"{rule}: list_kind missing")
    e, lst = ReferenceEntry._meta.db_table, ReferenceList._meta.db_table
    text = (
        f" JOIN {e} e ON e.nik = {holder}.nik JOIN {lst} l ON l.id = e.list_id"
        f" AND l.kind = %s AND l.active = %s"
        f" AND substr({region_col}, 1, length(l.region_code)) = l.region_code"
    )
    params: list[object] = [kind, True]
    threshold = _threshold(rule, region_col)
    if threshold:
        text += f" AND e.value > {threshold.text}"
        params += threshold.params
    return Sql(text, params)


def _evidence_list(extra: list[tuple[str, str]] | None = None) -> str:
    return _json(
        [
            ("list_id", "l.id"),
            ("list", "l.name"),
            ("list_kind", "l.kind"),
            ("source", "l.source"),
            ("valid_as_of", "l.valid_as_of"),
            ("entry_id", "e.id"),
            ("value", "e.value"),
            ("note", "e.note"),
            *(extra or []),
        ]
    )


def candidates(rule: EligibilityRule, scope: str) -> Sql:
    """SELECT person_id, household_id, family_id, region_code, nik, evidence_key, evidence
    for the active persons of `scope` meeting `rule` (one row per person and evidence)."""
    person = Person._meta.db_table
    rng = _range("p.region_code", scope)
    active, base = active_sql("p.status")
    cols = "p.id, p.household_id, p.family_id, p.region_code, COALESCE(p.nik, '')"
    if rule.kind == RuleKind.REFERENCE:
        join = _entry_join(rule, "p", "p.region_code")
        key = f"l.kind || ':' || e.nik || ':' || {_text('e.value')}"
        text = (
            f"SELECT {cols}, {key}, {_evidence_list()} FROM {person} p{join.text}"
            f" WHERE {active} AND {rng.text}"
        )
        return Sql(text, [*join.params, *base, *rng.params])
    if rule.kind == RuleKind.SAME_KK:
        join = _entry_join(rule, "s", "s.region_code")
        key = f"l.kind || ':kk:' || e.nik || ':' || {_text('e.value')}"
        evidence = _evidence_list([("source_person_id", "s.id")])
        text = (
            f"SELECT {cols}, {key}, {evidence} FROM {person} p"
            f" JOIN {person} s ON s.family_id = p.family_id AND s.id <> p.id"
            f" AND {active_sql('s.status')[0]}{join.text}"
            f" WHERE {active} AND {rng.text}"
        )
        return Sql(text, [*base, *join.params, *base, *rng.params])
    if rule.kind == RuleKind.ATTRIBUTE:
        return _attribute_candidates(rule, cols, active, base, rng)
    raise RuleError(f"{rule}: unknown kind {rule.kind}")


def _attribute_candidates(
    rule: EligibilityRule, cols: str, active: str, base: list[str], rng: Sql
) -> Sql:
    params = rule.parameters or {}
    table, field, op = params.get("table"), params.get("field"), params.get("op")
    if table not in ATTRIBUTE_FIELDS or field not in ATTRIBUTE_FIELDS[table]:
        raise RuleError(f"{rule}: field {table}.{field} not allowed")
    if op not in OPERATORS:
        raise RuleError(f"{rule}: operator {op} not allowed")
    model = Household if table == "household" else Person
    column = model._meta.get_field(field).column
    alias = "h" if table == "household" else "p"
    target = f"{alias}.{column}"
    values: list[object] = []
    if op == "in":
        items = list(params.get("values") or [])
        if not items:
            raise RuleError(f"{rule}: values missing")
        predicate = f"{target} IN ({', '.join(['%s'] * len(items))})"
        values = items
    elif op == "true":
        predicate, values = f"{target} = %s", [True]
    else:
        sign = {"eq": "=", "gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}[op]
        predicate, values = f"{target} {sign} %s", [params.get("value")]
    if params.get("codelist"):
        predicate += f" AND {alias}.codelist = %s"
        values.append(params["codelist"])
    person, household = Person._meta.db_table, Household._meta.db_table
    family = Family._meta.db_table
    # A household fact is the KPM's (the family's): flag the KK heads, not every member.
    heads_only = table == "household" and params.get("subject", "family_head") == "family_head"
    head_join = f" JOIN {family} f ON f.id = p.family_id AND f.head_id = p.id" if heads_only else ""
    key = f"'{table}.{field}=' || {_text(target)}"
    evidence = _json([("table", f"'{table}'"), ("field", f"'{field}'"), ("value", target)])
    text = (
        f"SELECT {cols}, {key}, {evidence} FROM {person} p"
        f" JOIN {household} h ON h.id = p.household_id{head_join}"
        f" WHERE {active} AND {rng.text} AND {predicate}"
    )
    return Sql(text, [*base, *rng.params, *values])


@dataclass
class EvalCounts:
    rules: int = 0
    new: int = 0
    reopened: int = 0
    obsolete: int = 0
    by_rule: dict[str, int] | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "rules": self.rules,
            "new": self.new,
            "reopened": self.reopened,
            "obsolete": self.obsolete,
            "open_by_rule": self.by_rule or {},
        }


def evaluate(scope: str = "", *, on: dt.date | None = None) -> EvalCounts:
    """Evaluate every rule in force over the active persons of `scope`."""
    counts = EvalCounts()
    rules = effective_rules(on)
    now = timezone.now()
    flag = ExclusionFlag._meta.db_table
    rng = _range("region_code", scope)
    # A rule reading a list kind nobody uploaded has no candidates: skip its join.
    listed = set(ReferenceList.objects.filter(active=True).values_list("kind", flat=True))
    with transaction.atomic(), connection.cursor() as cursor:
        for rule in rules:
            counts.rules += 1
            kind = (rule.parameters or {}).get("list_kind")
            empty = rule.kind != RuleKind.ATTRIBUTE and kind not in listed
            new, reopened, obsolete = _evaluate_rule(cursor, rule, scope, now, empty=empty)
            counts.new += new
            counts.reopened += reopened
            counts.obsolete += obsolete
        # Flags of rule versions no longer in force lapse too.
        ids = [r.pk for r in rules] or [0]
        cursor.execute(
            f"UPDATE {flag} SET status = %s, active = %s WHERE status = %s AND {rng.text}"
            f" AND rule_id NOT IN ({', '.join(['%s'] * len(ids))})",
            [FlagStatus.OBSOLETE, False, FlagStatus.OPEN, *rng.params, *ids],
        )
        counts.obsolete += cursor.rowcount
    counts.by_rule = open_counts_by_rule(scope)
    return counts


def _evaluate_rule(  # type: ignore[no-untyped-def]
    cursor, rule: EligibilityRule, scope: str, now, *, empty: bool = False
) -> tuple[int, int, int]:
    flag = ExclusionFlag._meta.db_table
    cand = candidates(rule, scope)
    cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
    cursor.execute(
        f"CREATE TEMP TABLE {SCRATCH} (person_id bigint, household_id bigint,"
        f" family_id bigint, region_code varchar(10), nik varchar(16),"
        f" evidence_key varchar(120), evidence text)"
    )
    if not empty:
        cursor.execute(f"INSERT INTO {SCRATCH} {cand.text}", cand.params)
    # The three statements below look candidates up by person and evidence.
    cursor.execute(f"CREATE INDEX {SCRATCH}_idx ON {SCRATCH} (person_id, evidence_key)")
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {SCRATCH}")
    evidence = (
        "CAST(MIN(c.evidence) AS jsonb)" if connection.vendor == "postgresql" else "MIN(c.evidence)"
    )
    try:
        cursor.execute(
            f"INSERT INTO {flag} (person_id, household_id, family_id, region_code, nik,"
            f" rule_id, code, version, label, evidence_key, evidence, status, active,"
            f" created_at, decision_note)"
            # Two lists of one kind naming the same NIK and value give one flag.
            f" SELECT c.person_id, MIN(c.household_id), MIN(c.family_id), MIN(c.region_code),"
            f" MIN(c.nik), %s, %s, %s, %s, c.evidence_key, {evidence}, %s, %s, %s, ''"
            f" FROM {SCRATCH} c WHERE NOT EXISTS (SELECT 1 FROM {flag} f"
            f" WHERE f.person_id = c.person_id AND f.rule_id = %s"
            f" AND f.evidence_key = c.evidence_key) GROUP BY c.person_id, c.evidence_key",
            [
                rule.pk,
                rule.code,
                rule.version,
                rule.name[:160],
                FlagStatus.OPEN,
                True,
                now,
                rule.pk,
            ],
        )
        new = cursor.rowcount
        match = (
            f"EXISTS (SELECT 1 FROM {SCRATCH} c WHERE c.person_id = {flag}.person_id"
            f" AND c.evidence_key = {flag}.evidence_key)"
        )
        cursor.execute(
            f"UPDATE {flag} SET status = %s, active = %s"
            f" WHERE rule_id = %s AND status = %s AND {match}",
            [FlagStatus.OPEN, True, rule.pk, FlagStatus.OBSOLETE],
        )
        reopened = cursor.rowcount
        rng = _range("region_code", scope)
        cursor.execute(
            f"UPDATE {flag} SET status = %s, active = %s"
            f" WHERE rule_id = %s AND status = %s AND {rng.text} AND NOT {match}",
            [FlagStatus.OBSOLETE, False, rule.pk, FlagStatus.OPEN, *rng.params],
        )
        obsolete = cursor.rowcount
    finally:
        cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
    return new, reopened, obsolete


def open_counts_by_rule(scope: str = "") -> dict[str, int]:
    """Open flags per rule code in `scope` (one GROUP BY)."""
    from django.db.models import Count

    from terpadu.regions.models import prefix_q

    rows = (
        ExclusionFlag.objects.filter(prefix_q("region_code", scope), status=FlagStatus.OPEN)
        .values("code")
        .annotate(n=Count("id"))
        .order_by("code")
    )
    return {r["code"]: r["n"] for r in rows}
