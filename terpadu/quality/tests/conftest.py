"""Quality test helpers: a registry built through records.py, then the anomalies the checks
look for (a NIK copied onto another record, a second open KK membership, programme rows) —
the kind of state imports and legacy data leave behind."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from terpadu.lib.nik import compose_nik, compose_no_kk
from terpadu.registry import records
from terpadu.registry.models import FamilyMembership, Person, Program, ProgramMembership

_serial = itertools.count(1)


def nik(region6: str = "137101", born: dt.date = dt.date(1980, 5, 6), sex: int = 1) -> str:
    return compose_nik(region6, born, sex, next(_serial) % 9999 + 1)


def member(name: str, relation: int = 3, **extra: Any) -> dict[str, Any]:
    born = extra.pop("birth_date", dt.date(1980, 5, 6))
    sex = extra.pop("sex", 1)
    return {
        "name": name,
        "sex": sex,
        "birth_date": born,
        "relation_kk": relation,
        "relation_ruta": relation,
        "nik": extra.pop("nik", None) or nik(born=born, sex=sex),
        **extra,
    }


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def household(cast, regions):  # type: ignore[no-untyped-def]
    """household(*members, desa="1371011001", **household fields) -> Household."""

    def make(*members: dict[str, Any], desa: str = "1371011001", **fields: Any):  # type: ignore[no-untyped-def]
        members = members or (member("Kepala", 1),)
        by = cast["outsider_kab"] if desa.startswith("1372") else cast["admin_kabkota"]
        return records.create_household(
            by=by,
            region=regions[desa],
            household_fields={"address": "Jl. Uji", **fields},
            families=[
                {
                    "no_kk": compose_no_kk(desa[:6], dt.date(2015, 6, 1), next(_serial)),
                    "members": list(members),
                }
            ],
            reason="Data uji kualitas",
        )

    return make


def persons(hh: Any) -> list[Person]:
    return list(Person.objects.filter(household=hh).order_by("member_no", "pk"))


def copy_nik(source: Person, target: Person) -> None:
    """Give `target` the NIK of `source` (the anomaly; bypasses the write path on purpose)."""
    Person.objects.filter(pk=target.pk).update(nik=source.nik)


def second_kk(person: Person, other_family_id: int) -> None:
    FamilyMembership.objects.create(
        person=person,
        family_id=other_family_id,
        region_code=person.region_code,
        valid_from=dt.date(2024, 1, 1),
    )


def enrol(person: Person, code: str = "PKH") -> ProgramMembership:
    program, _ = Program.objects.get_or_create(
        code=code, defaults={"name": code, "target": Program.Target.FAMILY}
    )
    return ProgramMembership.objects.create(
        program=program,
        family_id=person.family_id,
        region_code=person.region_code,
        period_from=dt.date(2024, 1, 1),
    )


def csv_upload(rows: list[list[Any]], name: str = "daftar.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    for row in rows:
        out.write(",".join("" if c is None else str(c) for c in row) + "\n")
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def xlsx_upload(rows: list[list[Any]], name: str = "daftar.xlsx") -> SimpleUploadedFile:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())
