from __future__ import annotations

import pytest

from terpadu.registry import queries
from terpadu.registry.models import Family, Person

pytestmark = pytest.mark.django_db


def test_search_by_nik_no_kk_prefix_and_name(make_household, cast):
    hh = make_household(3, surname="Piliang")
    user = cast["operator_desa"]
    head = Person.objects.get(household=hh, relation_kk=1)
    no_kk = Family.objects.get(household=hh).no_kk
    assert list(queries.search_persons(user, q=head.nik)) == [head]
    assert queries.search_persons(user, q=no_kk).count() == 3
    assert queries.search_persons(user, q=head.nik[:8]).filter(pk=head.pk).exists()
    assert queries.search_persons(user, q="piliang").count() == 3  # any word's start
    assert list(queries.search_persons(user, q="budi pil")) == [head]
    assert not queries.search_persons(user, q="iliang").exists()


def test_search_stays_in_scope(make_household, cast):
    hh = make_household(2, surname="Koto")
    head = Person.objects.get(household=hh, relation_kk=1)
    assert not queries.search_persons(cast["outsider_desa"], q=head.nik).exists()
    assert not queries.search_persons(cast["outsider_kab"], q="koto").exists()
    assert not queries.search_persons(cast["enumerator"], q="koto").exists()
    assert queries.search_persons(cast["pusat"], q="koto").count() == 2


def test_search_filters_status_and_region(make_household, cast):
    make_household(2, surname="Tanjung")
    make_household(2, desa="1371011002", surname="Tanjung")
    user = cast["operator_kecamatan"]
    assert queries.search_persons(user, q="tanjung").count() == 4
    assert queries.search_persons(user, q="tanjung", region="1371011002").count() == 2
    assert queries.search_persons(user, q="tanjung", status="nonaktif").count() == 0
    assert queries.search_persons(user, q="tanjung", status="bogus").count() == 0


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("", "empty"),
        ("1371014101900001", "id"),
        ("1371 0141", "nik_prefix"),
        ("3.57301E+15", "invalid"),
        ("1234", "invalid"),
        ("12345678901234567", "invalid"),
        ("Siti", "name"),
        ("x", "invalid"),
    ],
)
def test_parse_query(raw, kind):
    assert queries.parse_query(raw).kind == kind


def test_sixteen_digits_that_are_no_valid_nik_are_searched_and_explained():
    parsed = queries.parse_query("1371010000000000")
    assert parsed.kind == "id" and parsed.notes


def test_household_for_user_404_out_of_scope(make_household, cast):
    from django.http import Http404

    hh = make_household()
    assert queries.household_for_user(cast["verifikator_kabkota"], hh.pk) == hh
    with pytest.raises(Http404):
        queries.household_for_user(cast["outsider_kab"], hh.pk)
    with pytest.raises(Http404):
        queries.household_for_user(cast["enumerator"], hh.pk)
