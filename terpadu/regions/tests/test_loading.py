from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count

from terpadu.regions.loading import RegionDataError, load_regions
from terpadu.regions.models import Kind, Level, Region
from terpadu.regions.queries import known_prefixes
from terpadu.regions.tests.conftest import write_dataset

pytestmark = pytest.mark.django_db

V1_DATE, V2_DATE = dt.date(2025, 4, 25), dt.date(2026, 1, 1)
V1 = {
    "provinces": [("13", "Sumatera Barat"), ("14", "Riau")],
    "regencies": [
        ("13.01", "Kabupaten Kepulauan Mentawai"), ("13.71", "Kota Padang"),
        ("14.71", "Pekanbaru"),  # no prefix: the code (71–99) says kota
    ],
    "districts": [
        ("13.01.01", "Pagai Utara"), ("13.71.01", "Bungus Teluk Kabung"),
        ("13.71.02", "Lubuk Kilangan"),
    ],
    "villages": [
        ("13.01.01.2001", "Betumonga"), ("13.01.01.3001", "Adat Saibi"),
        ("13.71.01.1001", "Bungus Barat"), ("13.71.01.1002", "Bungus Timur"),
        ("13.71.02.1001", "Bandar Buat"),
    ],
}  # fmt: skip
# A later Kepmendagri: one desa renamed, one dropped, one new, one kecamatan renamed.
V2 = {
    **V1,
    "districts": [
        ("13.01.01", "Pagai Utara"), ("13.71.01", "Bungus"), ("13.71.02", "Lubuk Kilangan"),
    ],
    "villages": [
        ("13.01.01.2001", "Betumonga"), ("13.01.01.3001", "Adat Saibi"),
        ("13.71.01.1001", "Bungus Barat"), ("13.71.01.1002", "Bungus Timur Baru"),
        ("13.71.02.1002", "Baringin"),
    ],
}  # fmt: skip


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "v1", V1, source_version="Uji v1")


@pytest.fixture
def v2(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "v2", V2, source_version="Uji v2")


def test_full_dataset_has_the_kepmendagri_2025_counts_and_reloads_for_free(
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    result = load_regions()

    counts = {level: Region.objects.current().filter(level=level).count() for level in Level}
    assert counts == {
        Level.PROVINSI: 38, Level.KABKOTA: 514, Level.KECAMATAN: 7285, Level.DESA: 83762,
    }  # fmt: skip
    assert result.current == counts
    kinds = dict(Region.objects.values_list("kind").annotate(n=Count("id")).order_by())
    assert kinds[Kind.KABUPATEN] == 416 and kinds[Kind.KOTA] == 98
    assert kinds[Kind.KELURAHAN] == 8496
    assert kinds[Kind.DESA] + kinds[Kind.DESA_ADAT] == 75266
    assert not Region.objects.filter(level__gt=Level.PROVINSI, parent__isnull=True).exists()

    # Same version again: nothing written, a handful of reads whatever the table size.
    with django_assert_max_num_queries(8):
        again = load_regions()
    assert not again.changed
    assert Region.objects.count() == 91599


def test_load_sets_kinds_and_parents(v1: Path) -> None:
    result = load_regions(dataset=v1, valid_from=V1_DATE)

    assert result.created == {1: 2, 2: 3, 3: 3, 4: 5}
    kinds = dict(Region.objects.values_list("digits", "kind"))
    assert kinds["1301"] == Kind.KABUPATEN
    assert kinds["1371"] == Kind.KOTA
    assert kinds["1471"] == Kind.KOTA
    assert kinds["1301012001"] == Kind.DESA
    assert kinds["1301013001"] == Kind.DESA_ADAT
    assert kinds["1371011001"] == Kind.KELURAHAN
    desa = Region.objects.select_related("parent__parent__parent").get(digits="1371011001")
    assert desa.code == "13.71.01.1001"
    assert desa.parent.parent.parent.digits == "13"
    assert desa.source_version == "Uji v1"


def test_second_load_of_same_version_changes_nothing(
    v1: Path,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    load_regions(dataset=v1, valid_from=V1_DATE)
    before = list(Region.objects.values_list("id", "name", "valid_from", "valid_to"))

    # Same bound as the full 91,599-row reload: the cost does not grow with the table.
    with django_assert_max_num_queries(8):
        result = load_regions(dataset=v1, valid_from=V1_DATE)

    assert not result.changed
    assert result.unchanged == {1: 2, 2: 3, 3: 3, 4: 5}
    assert list(Region.objects.values_list("id", "name", "valid_from", "valid_to")) == before


def test_new_version_versions_renames_and_closes_dropped_codes(v1: Path, v2: Path) -> None:
    load_regions(dataset=v1, valid_from=V1_DATE)
    untouched = Region.objects.get(digits="1371011001")

    result = load_regions(dataset=v2, valid_from=V2_DATE)

    assert result.versioned == {1: 0, 2: 0, 3: 1, 4: 1}
    assert result.closed == {1: 0, 2: 0, 3: 0, 4: 1}
    assert result.created == {1: 0, 2: 0, 3: 0, 4: 1}
    old, new = Region.objects.filter(digits="1371011002").order_by("valid_from")
    assert (old.name, old.valid_from, old.valid_to) == ("Bungus Timur", V1_DATE, V2_DATE)
    assert (new.name, new.valid_from, new.valid_to) == ("Bungus Timur Baru", V2_DATE, None)
    assert new.source_version == "Uji v2"

    dropped = Region.objects.get(digits="1371021001")  # closed, never deleted
    assert dropped.valid_to == V2_DATE
    assert not Region.objects.current().filter(digits="1371021001").exists()
    assert Region.objects.current().get(digits="1371021002").parent.digits == "137102"

    # Unchanged rows stay as they were; current children follow the renamed kecamatan.
    untouched.refresh_from_db()
    assert (untouched.valid_from, untouched.valid_to) == (V1_DATE, None)
    new_kec = Region.objects.current().get(digits="137101")
    assert new_kec.name == "Bungus"
    assert untouched.parent_id == new_kec.pk
    assert new.parent_id == new_kec.pk
    assert old.parent.valid_to == V2_DATE  # history keeps its own parent version

    assert Region.objects.current().count() == 2 + 3 + 3 + 5
    assert not load_regions(dataset=v2, valid_from=V2_DATE).changed


def test_older_version_after_newer_is_refused(v1: Path, v2: Path) -> None:
    load_regions(dataset=v1, valid_from=V1_DATE)
    load_regions(dataset=v2, valid_from=V2_DATE)

    with pytest.raises(RegionDataError, match="date order"):
        load_regions(dataset=v1, valid_from=V1_DATE)
    assert Region.objects.current().get(digits="1371011002").name == "Bungus Timur Baru"


def test_malformed_dataset_is_rejected_before_writing(tmp_path: Path) -> None:
    bad = {**V1, "villages": [("13.71.01.1001", "Bungus Barat"), ("13.72.01.1001", "Yatim")]}
    write_dataset(tmp_path / "bad", bad)
    # 13.72.01 is not in districts: the desa has no parent.
    with pytest.raises(RegionDataError, match="parent"):
        load_regions(dataset=tmp_path / "bad", valid_from=V1_DATE)
    assert not Region.objects.exists()


def test_load_clears_known_prefixes_cache(
    v1: Path, v2: Path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    load_regions(dataset=v1, valid_from=V1_DATE)
    assert "137102" in known_prefixes()
    extra = {**V2, "districts": [*V2["districts"], ("13.71.03", "Koto Tangah")]}
    write_dataset(v2, extra)

    with django_capture_on_commit_callbacks(execute=True):
        load_regions(dataset=v2, valid_from=V2_DATE)

    assert "137103" in known_prefixes()


def test_command_prints_counts(v1: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_regions", dataset=str(v1), valid_from=V1_DATE)
    out = capsys.readouterr().out
    assert "Uji v1" in out
    assert "Desa/Kelurahan" in out and "detik" in out
