"""Seed the tidak-layak rule set (domain.md §6.1) and two age schemes (§6.2)."""

from __future__ import annotations

import datetime as dt

from django.db import migrations

from terpadu.quality.catalogue import SEED_RULES

EFFECTIVE_FROM = dt.date(2023, 1, 1)

AGE_SCHEMES = [
    (
        "p3ke",
        "P3KE (ekspor individu)",
        "domain.md §6.2, S34",
        [
            {"label": "< 7", "min": 0, "max": 6},
            {"label": "7–12", "min": 7, "max": 12},
            {"label": "13–15", "min": 13, "max": 15},
            {"label": "16–18", "min": 16, "max": 18},
            {"label": "19–21", "min": 19, "max": 21},
            {"label": "22–59", "min": 22, "max": 59},
            {"label": "≥ 60", "min": 60, "max": None},
        ],
    ),
    (
        "program",
        "Program (balita, usia sekolah, produktif, lansia)",
        "domain.md §6.2 (UU 13/1998 untuk lansia)",
        [
            {"label": "Balita 0–4", "min": 0, "max": 4},
            {"label": "Usia dini 0–6", "min": 0, "max": 6},
            {"label": "SD 7–12", "min": 7, "max": 12},
            {"label": "SMP 13–15", "min": 13, "max": 15},
            {"label": "SMA 16–18", "min": 16, "max": 18},
            {"label": "Produktif 15–59", "min": 15, "max": 59},
            {"label": "Lansia ≥ 60", "min": 60, "max": None},
        ],
    ),
]


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    rule = apps.get_model("quality", "EligibilityRule")
    scheme = apps.get_model("quality", "AgeScheme")
    for code, name, name_en, legal, kind, params, reason, hard in SEED_RULES:
        rule.objects.get_or_create(
            code=code,
            version=1,
            defaults={
                "name": name,
                "name_en": name_en,
                "legal_reference": legal,
                "effective_from": EFFECTIVE_FROM,
                "kind": kind,
                "parameters": params,
                "reason_code": reason,
                "hard": hard,
            },
        )
    for code, name, source, buckets in AGE_SCHEMES:
        scheme.objects.get_or_create(
            code=code, defaults={"name": name, "source": source, "buckets": buckets}
        )


def unseed(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("quality", "EligibilityRule").objects.filter(version=1).delete()
    apps.get_model("quality", "AgeScheme").objects.filter(code__in=["p3ke", "program"]).delete()


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
