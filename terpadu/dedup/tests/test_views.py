"""Dedup pages: who sees what, pinned query counts, decisions through the pages, NIK reveal
logged, and likely matches on the new-household form."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from terpadu.accounts.models import AccessLog
from terpadu.dedup.models import CandidatePair, DecisionEvent, DedupModel, DedupRun, PairStatus
from terpadu.dedup.tests.conftest import entry as _entry
from terpadu.dedup.tests.test_decisions import make_pairs
from terpadu.proposals.models import Proposal
from terpadu.registry.models import Person

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("verifikator_kabkota", 200),
        ("admin_kabkota", 200),
        ("operator_provinsi", 200),
        ("pusat", 200),
        ("auditor", 200),
        ("operator_desa", 404),
        ("operator_kecamatan", 404),
        ("enumerator", 404),
    ],
)
def test_home_and_queue_by_role(cast: Any, role: str, status: int) -> None:
    c = client_for(cast[role])
    assert c.get(reverse("dedup:home")).status_code == status
    assert c.get(reverse("dedup:queue")).status_code == status


def test_queue_lists_in_scope_pairs_with_masked_nik_and_fixed_queries(
    cast: Any, regions: Any, django_assert_num_queries: Any
) -> None:
    pairs = make_pairs(cast, regions, 3)
    make_pairs(cast, regions, 2, desa="1372011001")  # Kota Solok: not in Padang's queue
    c = client_for(cast["verifikator_kabkota"])
    url = reverse("dedup:queue")
    # session, user, base page (2), count, page with both persons joined
    with django_assert_num_queries(6):
        r = c.get(url)
    assert r.status_code == 200
    shown = [row["pair"].pk for row in r.context["rows"]]
    assert shown == [p.pk for p in pairs]  # by probability, Solok's left out
    nik = pairs[0].person_a.nik
    assert nik not in r.content.decode() and nik[:4] in r.content.decode()
    more = make_pairs(cast, regions, 3)
    with django_assert_num_queries(6):
        r = c.get(url)
    assert len(r.context["rows"]) == 6 and more
    r = c.get(url, {"min_prob": "0.985"})
    assert [row["pair"].pk for row in r.context["rows"]] == [pairs[0].pk, more[0].pk]
    r = client_for(cast["outsider_kab"]).get(url)
    assert {row["pair"].region_code for row in r.context["rows"]} == {"1372011001"}


def test_pair_page_explains_weights_and_reveal_is_logged(cast: Any, regions: Any) -> None:
    [pair] = make_pairs(cast, regions, 1)
    c = client_for(cast["verifikator_kabkota"])
    r = c.get(reverse("dedup:pair", args=[pair.pk]))
    assert r.status_code == 200
    labels = [w["label"] for w in r.context["waterfall"]]
    assert len(labels) == 2 and r.context["waterfall"][-1]["total"] == pytest.approx(-8.0)
    body = r.content.decode()
    assert pair.person_a.nik not in body and "Nama mirip" in body
    r = c.post(reverse("dedup:reveal_nik", args=[pair.pk, pair.person_a_id]))
    assert pair.person_a.nik in r.content.decode()
    log = AccessLog.objects.get()
    assert (log.entity, log.entity_id) == ("person", str(pair.person_a_id))
    assert c.post(reverse("dedup:reveal_nik", args=[pair.pk, 99999])).status_code == 404
    # Out of scope: 404, nothing logged.
    other = client_for(cast["outsider_kab"])
    assert other.get(reverse("dedup:pair", args=[pair.pk])).status_code == 404
    assert (
        other.post(reverse("dedup:reveal_nik", args=[pair.pk, pair.person_a_id])).status_code == 404
    )
    assert AccessLog.objects.count() == 1


def test_decide_through_pages(cast: Any, regions: Any) -> None:
    first, second = make_pairs(cast, regions, 2)
    c = client_for(cast["verifikator_kabkota"])
    r = c.post(reverse("dedup:same", args=[first.pk]), {"duplicate": first.person_a_id})
    assert r.status_code == 302
    first.refresh_from_db()
    assert first.status == PairStatus.SAME and first.proposal.person_id == first.person_a_id
    r = c.post(reverse("dedup:different", args=[second.pk]), {"note": "beda orang tua"})
    second.refresh_from_db()
    assert second.status == PairStatus.DIFFERENT
    assert DecisionEvent.objects.count() == 2 and Proposal.objects.count() == 1
    # provinsi reads but cannot decide
    prov = client_for(cast["operator_provinsi"])
    [third] = make_pairs(cast, regions, 1)
    assert prov.get(reverse("dedup:pair", args=[third.pk])).context["deciding"] is False
    assert prov.post(reverse("dedup:different", args=[third.pk]), {"note": "x"}).status_code == 403
    third.refresh_from_db()
    assert third.status == PairStatus.OPEN


def test_bulk_page(cast: Any, regions: Any) -> None:
    pairs = make_pairs(cast, regions, 3)
    solok = make_pairs(cast, regions, 1, desa="1372011001")
    c = client_for(cast["verifikator_kabkota"])
    ids = [p.pk for p in pairs[:2]] + [solok[0].pk]
    r = c.post(reverse("dedup:bulk"), {"pairs": ids, "decision": "different", "note": "massal"})
    assert r.status_code == 302
    statuses = dict(CandidatePair.objects.values_list("pk", "status"))
    assert statuses[pairs[0].pk] == statuses[pairs[1].pk] == PairStatus.DIFFERENT
    assert statuses[pairs[2].pk] == statuses[solok[0].pk] == PairStatus.OPEN
    assert (
        client_for(cast["pusat"])
        .post(reverse("dedup:bulk"), {"pairs": [pairs[2].pk], "decision": "different", "note": "x"})
        .status_code
        == 403
    )


def test_start_run_from_home(cast: Any, regions: Any, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    c = client_for(cast["admin_kabkota"])
    r = c.post(reverse("dedup:home"), {"region": regions["1371"].pk})
    run = DedupRun.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("dedup:run", args=[run.pk])
    r = c.get(reverse("dedup:run", args=[run.pk]))
    assert r.status_code == 200
    r = c.get(reverse("dedup:run", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    home = c.get(reverse("dedup:home"))
    assert list(home.context["runs"]) == [run] and f"#{run.pk}" in home.content.decode()
    # Another kab/kota's region is not offered.
    r = c.post(reverse("dedup:home"), {"region": regions["1372"].pk})
    assert r.status_code == 422 and DedupRun.objects.count() == 1
    assert client_for(cast["pusat"]).post(reverse("dedup:home"), {}).status_code == 403
    assert (
        client_for(cast["outsider_kab"]).get(reverse("dedup:run", args=[run.pk])).status_code == 404
    )


def test_household_form_shows_likely_matches(
    cast: Any,
    regions: Any,
    siti: Person,
    dedup_model: DedupModel,
) -> None:
    c = client_for(cast["operator_desa"])
    page = c.get(reverse("proposals:new_household")).content.decode()
    assert reverse("dedup:check_member") in page and "Periksa kemungkinan duplikat" in page
    entry = _entry()
    data = {
        "prefix": "art-0",
        "desa": str(regions["1371011001"].pk),
        "art-0-name": entry["name"],
        "art-0-birth_date": entry["birth_date"].isoformat(),
        "art-0-mother_name": entry["mother_name"],
        "art-0-sex": "2",
        "art-0-birth_place": entry["birth_place"],
        "address": entry["address"],
    }
    r = c.post(reverse("dedup:check_member"), data, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert r.status_code == 200 and siti.name in body and siti.nik not in body
    data["art-0-name"] = "Rahmat Hidayat"
    data["art-0-mother_name"] = "Nurlela"
    data["art-0-birth_date"] = dt.date(1990, 2, 2).isoformat()
    body = c.post(reverse("dedup:check_member"), data).content.decode()
    assert siti.name not in body and "Tidak ditemukan" in body
    # A kab/kota reader without EDIT (provinsi) cannot use it.
    prov = client_for(cast["operator_provinsi"])
    assert prov.post(reverse("dedup:check_member"), data).status_code == 404


def test_matches_outside_scope_hide_name(
    make_user: Any,
    regions: Any,
    siti: Person,
    dedup_model: DedupModel,
) -> None:
    # An operator of Bungus Timur (same kab/kota, other desa) sees that a match exists.
    other = make_user("operator_desa", "1371011002", username="op_timur")
    data = {
        "prefix": "art-0",
        "desa": str(regions["1371011002"].pk),
        "art-0-name": "Siti Nurhayati",
        "art-0-birth_date": "1980-07-03",
        "art-0-mother_name": "Rosmaniar",
        "art-0-sex": "2",
    }
    body = client_for(other).post(reverse("dedup:check_member"), data).content.decode()
    assert siti.name not in body and "1371011001" in body
