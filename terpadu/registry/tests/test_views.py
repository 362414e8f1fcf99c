from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from terpadu.accounts.models import AccessLog
from terpadu.lib.nik import mask_nik
from terpadu.registry import records
from terpadu.registry.models import Person

pytestmark = pytest.mark.django_db
SEARCH = reverse("registry:search")
# session, user, filter options, count, the topbar's user region, unread notifications (nav),
# page: pinned so an N+1 shows.
SEARCH_QUERIES = 7


def test_search_requires_login(client):
    assert client.get(SEARCH).status_code == 302


def test_search_lists_with_masked_nik(client, cast, make_household):
    hh = make_household(3, surname="Sikumbang")
    head = Person.objects.get(household=hh, relation_kk=1)
    client.force_login(cast["operator_desa"])
    html = client.get(SEARCH, {"q": "sikumbang"}).content.decode()
    assert "Budi Sikumbang" in html
    assert mask_nik(head.nik) in html
    assert head.nik not in html
    assert reverse("registry:person", args=[head.pk]) in html


def test_unknown_nik_says_not_found_in_your_region(client, cast, make_household):
    hh = make_household(1, desa="1372011001")
    nik = Person.objects.get(household=hh).nik
    client.force_login(cast["operator_desa"])
    resp = client.get(SEARCH, {"q": nik})
    assert resp.status_code == 200
    assert "tidak ditemukan di wilayah Anda" in resp.content.decode()


def test_bad_input_is_explained(client, cast):
    client.force_login(cast["operator_desa"])
    html = client.get(SEARCH, {"q": "3.57301E+15"}).content.decode()
    assert "notasi ilmiah" in html
    html = client.get(SEARCH, {"q": "1371010000000000"}).content.decode()
    assert "Bukan NIK yang sah" in html
    resp = client.get(SEARCH, {"q": "siti", "status": "zzz", "wilayah": "9999", "hal": "x"})
    assert resp.status_code == 200
    assert "errorlist" in resp.content.decode()


def test_htmx_gets_the_fragment(client, cast, make_household):
    make_household(2, surname="Jambak")
    client.force_login(cast["operator_desa"])
    html = client.get(SEARCH, {"q": "jambak"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html and "Budi Jambak" in html


def test_enumerator_cannot_open_registry(client, cast):
    client.force_login(cast["enumerator"])
    assert client.get(SEARCH).status_code == 403


def _search_queries(client, q: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(SEARCH, {"q": q}).status_code == 200
    return len(ctx)


def test_search_query_count_does_not_grow_with_results(
    client, cast, make_household, django_assert_num_queries
):
    make_household(5, surname="Guci")
    make_household(30, surname="Melayu")  # 30 results: more than one page of 25
    client.force_login(cast["operator_kecamatan"])
    n = _search_queries(client, "guci")
    with django_assert_num_queries(n):
        client.get(SEARCH, {"q": "melayu"})
    assert n == SEARCH_QUERIES, n


def test_household_detail_shows_full_record_and_logs(client, cast, make_household):
    hh = make_household(3, surname="Caniago", floor_type=9)
    head = Person.objects.get(household=hh, relation_kk=1)
    records.update_person(
        head, by=cast["operator_desa"], changes={"occupation": "Nelayan"}, reason="Verivali 2025"
    )
    client.force_login(cast["verifikator_kabkota"])
    resp = client.get(reverse("registry:household", args=[hh.pk]))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert head.nik in html
    assert "Verivali 2025" in html and "Nelayan" in html
    assert "Kepala" in html  # relation decoded through the code list
    assert AccessLog.objects.filter(
        user=cast["verifikator_kabkota"], entity="household", entity_id=str(hh.pk)
    ).exists()


def test_outsider_gets_404(client, cast, make_household):
    hh = make_household()
    person = Person.objects.filter(household=hh).first()
    client.force_login(cast["outsider_kab"])
    assert client.get(reverse("registry:household", args=[hh.pk])).status_code == 404
    assert client.get(reverse("registry:person", args=[person.pk])).status_code == 404
    assert not AccessLog.objects.filter(entity__in=["household", "person"]).exists()


def test_household_detail_query_count_independent_of_members(client, cast, make_household):
    small = make_household(2)
    large = make_household(9)
    client.force_login(cast["admin_kabkota"])
    counts = []
    for hh in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("registry:household", args=[hh.pk])).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]


def test_person_detail_shows_history_and_memberships(client, cast, make_household):
    hh = make_household(2)
    person = Person.objects.filter(household=hh).last()
    records.deactivate_person(
        person, by=cast["operator_desa"], reason_code="pindah", reason="Pindah ke Bukittinggi"
    )
    client.force_login(cast["operator_desa"])
    resp = client.get(reverse("registry:person", args=[person.pk]))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "Pindah ke Bukittinggi" in html
    assert person.nik in html
    assert AccessLog.objects.filter(entity="person", entity_id=str(person.pk)).exists()


def test_region_filter_checks_scope(client, cast, make_household):
    make_household(2, surname="Bodi")
    client.force_login(cast["operator_desa"])
    html = client.get(SEARCH, {"q": "bodi", "wilayah": "1371"}).content.decode()
    assert "Budi Bodi" in html  # a region above one's own = the whole scope
    html = client.get(SEARCH, {"q": "bodi", "wilayah": "1372"}).content.decode()
    assert "di luar lingkup" in html and "Budi Bodi" not in html


def test_history_without_actor_renders_as_system(client, cast, regions):
    """Demo/system changesets have no actor; the history must still render (was a 500)."""
    from terpadu.registry.demo import generate_demo

    generate_demo(region_digits="1371", households=3, seed=7)
    person = Person.objects.filter(region_code__startswith="1371").first()
    client.force_login(cast["verifikator_kabkota"])
    for url in (
        reverse("registry:person", args=[person.pk]),
        reverse("registry:household", args=[person.household_id]),
    ):
        resp = client.get(url)
        assert resp.status_code == 200
        assert "Sistem" in resp.content.decode()


def test_detail_pages_offer_proposals_only_to_editors(client, cast, make_household):
    hh = make_household(2)
    person = Person.objects.filter(household=hh).first()
    url = reverse("registry:person", args=[person.pk])
    client.force_login(cast["operator_desa"])
    html = client.get(url).content.decode()
    assert reverse("proposals:new_correction", args=[person.pk]) in html
    assert reverse("proposals:new_deactivation", args=[person.pk]) in html
    client.force_login(cast["operator_provinsi"])  # read-only role
    assert 'data-testid="propose-actions"' not in client.get(url).content.decode()
    client.force_login(cast["verifikator_kabkota"])
    hh_html = client.get(reverse("registry:household", args=[hh.pk])).content.decode()
    assert reverse("proposals:new_move", args=[hh.pk]) in hh_html
