from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from terpadu.regions.models import Region

pytestmark = pytest.mark.django_db

SEARCH = "/wilayah/cari"


def as_user(client: Client, user) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


def test_urls_are_mounted_at_wilayah() -> None:
    assert reverse("regions:search") == SEARCH
    assert reverse("regions:children", args=["1371"]) == "/wilayah/1371/anak"
    assert reverse("regions:browse") == "/wilayah/"


@pytest.mark.parametrize("url", [SEARCH + "?q=bungus", "/wilayah/13/anak", "/wilayah/"])
def test_anonymous_is_sent_to_login(client: Client, regions: dict, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert "/akun/masuk/" in response["Location"]


def test_search_fragment_is_cut_to_scope(client: Client, cast: dict) -> None:
    response = as_user(client, cast["admin_kabkota"]).get(
        SEARCH, {"q": "kota"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        '<option value="1371" data-level="2">Kota Padang — Provinsi Sumatera Barat (13.71)' in body
    )
    assert "1372" not in body and "1471" not in body


def test_search_json_by_accept_header_or_format(client: Client, cast: dict) -> None:
    c = as_user(client, cast["operator_kecamatan"])
    by_header = c.get(SEARCH, {"q": "13.71"}, headers={"Accept": "application/json"}).json()
    by_param = c.get(SEARCH, {"q": "13.71", "format": "json"}).json()
    assert by_header == by_param
    assert [r["digits"] for r in by_param["results"]] == ["137101", "1371011001", "1371011002"]
    assert by_param["results"][0] | {"id": 0} == {
        "id": 0, "code": "13.71.01", "digits": "137101", "name": "Bungus Teluk Kabung",
        "level": 3, "kind": "kecamatan", "label": "Kecamatan Bungus Teluk Kabung",
    }  # fmt: skip


def test_search_within_outside_scope_returns_nothing(client: Client, cast: dict) -> None:
    c = as_user(client, cast["admin_kabkota"])
    assert c.get(SEARCH, {"q": "a", "within": "1372", "format": "json"}).json() == {"results": []}
    narrowed = c.get(SEARCH, {"q": "bu", "within": "137101", "format": "json"}).json()
    assert {r["digits"] for r in narrowed["results"]} == {"137101", "1371011001", "1371011002"}
    assert c.get(SEARCH, {"q": "a", "level": "7"}).status_code == 400


def test_national_user_searches_everywhere(client: Client, cast: dict) -> None:
    results = as_user(client, cast["pusat"]).get(SEARCH, {"q": "kota", "format": "json"}).json()
    assert {r["digits"] for r in results["results"]} == {"1371", "1372", "1471"}


def test_children_fragment_and_scope(client: Client, cast: dict) -> None:
    c = as_user(client, cast["admin_kabkota"])
    body = c.get("/wilayah/137101/anak", headers={"HX-Request": "true"}).content.decode()
    assert body.startswith('<option value="">— pilih desa/kelurahan —</option>')
    assert '<option value="1371011001" data-code="13.71.01.1001">Bungus Barat</option>' in body
    # Above the scope only the user's own branch shows; beside it, nothing.
    above = c.get("/wilayah/13/anak", {"format": "json"}).json()["results"]
    assert [r["digits"] for r in above] == ["1371"]
    assert c.get("/wilayah/1372/anak", {"format": "json"}).json() == {"results": []}
    assert c.get("/wilayah/1371011001/anak").status_code == 404


def test_browse_national_lists_provinces_with_counts(client: Client, cast: dict) -> None:
    response = as_user(client, cast["pusat"]).get("/wilayah/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/wilayah/13/"' in html and "Sumatera Barat" in html
    assert [(r.digits, n) for r, n in response.context["rows"]] == [("13", 2), ("14", 1)]
    assert "data-region-picker" in html


def test_browse_redirects_scoped_user_to_own_region_and_hides_others(
    client: Client, cast: dict
) -> None:
    c = as_user(client, cast["admin_kabkota"])
    assert c.get("/wilayah/")["Location"] == "/wilayah/1371/"
    assert c.get("/wilayah/13/")["Location"] == "/wilayah/1371/"
    assert c.get("/wilayah/1372/").status_code == 404
    page = c.get("/wilayah/1371/")
    assert [(r.digits, n) for r, n in page.context["rows"]] == [("137101", 2), ("137102", 1)]
    assert c.get("/wilayah/1371/", {"q": "bandar"}).context["results"][0].digits == "1371021001"


def test_browse_picker_demo_validates_scope(client: Client, cast: dict) -> None:
    c = as_user(client, cast["admin_kabkota"])
    ok = c.get("/wilayah/1371/", {"pilih": "1371011001"})
    assert ok.context["picked"].digits == "1371011001"
    refused = c.get("/wilayah/1371/", {"pilih": "1372011001"})
    assert refused.context["picked"] is None
    assert "di luar wilayah tugas Anda" in refused.content.decode()


def test_admin_changelist_searches_by_code(client: Client, regions: dict) -> None:
    from terpadu.accounts.models import User

    admin = User.objects.create_superuser("root", "root@example.org", "x")
    client.force_login(admin)
    response = client.get("/admin/regions/region/", {"q": "13.71.01", "berlaku": "ya"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3
    assert (
        client.get(f"/admin/regions/region/{Region.objects.first().pk}/change/").status_code == 200
    )
    assert client.get("/admin/regions/region/add/").status_code == 403
