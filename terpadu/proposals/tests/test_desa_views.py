"""HTTP round trips of the desa/operator proposal pages (views/desa.py)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from terpadu.lib.nik import compose_nik, compose_no_kk, mask_nik
from terpadu.proposals import creation
from terpadu.proposals.models import Comment, Kind, Proposal, Status
from terpadu.proposals.workflow import transition
from terpadu.registry import records

pytestmark = pytest.mark.django_db

_serial = itertools.count(8001)


def nik(born: dt.date = dt.date(1990, 1, 2), sex: int = 1) -> str:
    return compose_nik("137101", born, sex, next(_serial))


def kk() -> str:
    return compose_no_kk("137101", dt.date(2016, 1, 5), next(_serial))


def household_post(members: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    data = {
        "desa": "1371011001",
        "address": "Jl. Mawar 3",
        "rt": "02",
        "rw": "01",
        "sls_name": "",
        "no_kk": kk(),
        "reason": "Hasil musdes",
        "art-TOTAL_FORMS": str(len(members)),
        "art-INITIAL_FORMS": "0",
        "art-MIN_NUM_FORMS": "1",
        "art-MAX_NUM_FORMS": "30",
        **extra,
    }
    for i, m in enumerate(members):
        for key, value in m.items():
            data[f"art-{i}-{key}"] = value
    return data


def member_post(name: str, *, rel: int = 3, sex: int = 1, born: str = "1990-01-02", **kw: Any):
    return {
        "name": name,
        "nik": nik(dt.date.fromisoformat(born), sex),
        "sex": str(sex),
        "birth_date": born,
        "relation_ruta": str(rel),
        "relation_kk": str(rel),
        **kw,
    }


def login(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


def msgs(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def desa_client(client, cast):  # type: ignore[no-untyped-def]
    return login(client, cast["operator_desa"])


# --- list -------------------------------------------------------------------------------------


def test_list_shows_only_proposals_in_scope_with_counts(desa_client, make_proposal):
    mine = make_proposal(Kind.PERBAIKAN, summary="Perbaikan Budi")
    make_proposal(Kind.BARU, Status.DIPERIKSA_DINSOS, summary="Ruta baru Sari")
    other = make_proposal(Kind.PERBAIKAN, desa="1372011001", summary="Solok")
    r = desa_client.get(reverse("proposals:list"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Perbaikan Budi" in body and "Ruta baru Sari" in body
    assert "Solok" not in body and f"/usulan/{other.pk}/" not in body
    r = desa_client.get(reverse("proposals:list"), {"status": "draft"})
    assert "Perbaikan Budi" in r.content.decode()
    assert "Ruta baru Sari" not in r.content.decode()
    r = desa_client.get(reverse("proposals:list"), {"kind": "baru", "q": "sari"})
    assert "Ruta baru Sari" in r.content.decode() and "Perbaikan Budi" not in r.content.decode()
    r = desa_client.get(reverse("proposals:list"), {"q": f"#{mine.pk}"})
    assert "Perbaikan Budi" in r.content.decode()


def test_list_search_by_nik_finds_new_household_payload(desa_client, cast, regions):
    the_nik = nik()
    creation.propose_new_household(
        by=cast["operator_desa"],
        region=regions["1371011001"],
        household_fields={"address": "Jl. 1"},
        families=[
            {
                "no_kk": kk(),
                "members": [
                    {"name": "Cari Aku", "sex": 1, "birth_date": "1990-01-02", "nik": the_nik}
                ],
            }
        ],
        reason="x",
    )
    r = desa_client.get(reverse("proposals:list"), {"q": the_nik})
    assert "Cari Aku" in r.content.decode()
    r = desa_client.get(reverse("proposals:list"), {"q": nik()})
    assert "Cari Aku" not in r.content.decode()


def test_kabkota_filters_by_desa(client, cast, make_proposal):
    make_proposal(Kind.PERBAIKAN, summary="Di Bungus Barat")
    make_proposal(Kind.PERBAIKAN, desa="1371021001", summary="Di Bandar Buat")
    login(client, cast["verifikator_kabkota"])
    r = client.get(reverse("proposals:list"), {"wilayah": "1371021001"})
    body = r.content.decode()
    assert "Di Bandar Buat" in body and "Di Bungus Barat" not in body


def _list_queries(client) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(reverse("proposals:list"))
    assert r.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_rows(desa_client, make_proposal):
    for _ in range(5):
        make_proposal(Kind.PERBAIKAN)
    five = _list_queries(desa_client)
    for _ in range(25):
        make_proposal(Kind.NONAKTIF, Status.DIPERIKSA_DINSOS)
    assert _list_queries(desa_client) == five


def test_list_htmx_returns_the_results_fragment(desa_client, make_proposal):
    make_proposal(Kind.PERBAIKAN, summary="Fragmen")
    r = desa_client.get(reverse("proposals:list"), HTTP_HX_REQUEST="true")
    assert "Fragmen" in r.content.decode() and "<html" not in r.content.decode()


# --- new household ------------------------------------------------------------------------------


def test_new_pages_render_and_search_persons(desa_client, registry_household):
    assert desa_client.get(reverse("proposals:new")).status_code == 200
    r = desa_client.get(reverse("proposals:new"), {"q": "budi"})
    person = registry_household.members.get(relation_kk=1)
    assert reverse("proposals:new_correction", args=[person.pk]) in r.content.decode()
    r = desa_client.get(reverse("proposals:new_household"))
    assert r.status_code == 200 and "art-TOTAL_FORMS" in r.content.decode()


def test_new_household_round_trip(desa_client):
    data = household_post(
        [member_post("Ani Baru", rel=1, sex=2, born="1985-06-01"), member_post("Dodi")]
    )
    r = desa_client.post(reverse("proposals:new_household"), data)
    p = Proposal.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("proposals:detail", args=[p.pk])
    assert p.kind == Kind.BARU and p.status == Status.DRAFT
    members = p.payload["families"][0]["members"]
    assert [m["name"] for m in members] == ["Ani Baru", "Dodi"]
    assert p.payload["household_fields"] == {"address": "Jl. Mawar 3", "rt": "02", "rw": "01"}
    detail = desa_client.get(r["Location"]).content.decode()
    assert "Ani Baru" in detail and members[0]["nik"] in detail  # full NIK: may VIEW


def test_add_member_rerenders_without_errors_and_saves_nothing(desa_client):
    data = household_post([member_post("Ani", rel=1)], tambah_anggota="1")
    r = desa_client.post(reverse("proposals:new_household"), data)
    assert r.status_code == 200
    body = r.content.decode()
    assert 'name="art-1-name"' in body and "errorlist" not in body
    assert not Proposal.objects.exists()


def test_member_errors_show_on_their_row_and_nothing_is_saved(desa_client):
    first = member_post("Ani", rel=1)
    twin = dict(member_post("Kembar"), nik=first["nik"])
    bad = dict(member_post("Salah"), nik="12345")
    r = desa_client.post(reverse("proposals:new_household"), household_post([first, bad]))
    assert r.status_code == 422 and not Proposal.objects.exists()
    assert r.context["formset"].forms[1].errors["nik"]
    r = desa_client.post(reverse("proposals:new_household"), household_post([first, twin]))
    assert r.status_code == 422 and not Proposal.objects.exists()
    errors = r.context["formset"].forms[1].errors
    assert "NIK" in str(errors["nik"])  # the registry validator's nik_repeated, on row 2
    assert not r.context["formset"].forms[0].errors


def test_outsider_cannot_pick_a_desa_outside_scope(client, cast):
    login(client, cast["outsider_desa"])
    r = client.post(reverse("proposals:new_household"), household_post([member_post("A", rel=1)]))
    assert r.status_code == 422 and "desa" in r.context["form"].errors
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("who", ["operator_provinsi", "pusat", "enumerator"])
def test_non_proposers_get_403_on_new_pages(client, cast, who):
    login(client, cast[who])
    assert client.get(reverse("proposals:new")).status_code == 403
    assert client.get(reverse("proposals:new_household")).status_code == 403


# --- corrections, deactivation, reactivation, move ---------------------------------------


def test_correction_prefilled_and_saves_only_changes(desa_client, registry_household):
    person = registry_household.members.get(relation_kk=1)
    url = reverse("proposals:new_correction", args=[person.pk])
    r = desa_client.get(url)
    assert r.status_code == 200 and person.nik in r.content.decode()
    form = r.context["form"]
    data = {name: form[name].value() or "" for name in form.field_names}
    data.update(birth_date="1980-05-17", birth_place="Padang", reason="KTP baru")
    r = desa_client.post(url, data)
    assert r.status_code == 302, r.context["form"].errors
    p = Proposal.objects.get()
    assert p.payload["changes"] == {"birth_place": "Padang"}
    r = desa_client.get(reverse("proposals:detail", args=[p.pk]))
    assert "Padang" in r.content.decode() and "Perbandingan" in r.content.decode()


def test_correction_without_change_is_refused_in_the_form(desa_client, registry_household):
    person = registry_household.members.get(relation_kk=1)
    url = reverse("proposals:new_correction", args=[person.pk])
    form = desa_client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.field_names}
    data.update(birth_date="1980-05-17", reason="x")
    r = desa_client.post(url, data)
    assert r.status_code == 422 and not Proposal.objects.exists()
    assert "Tidak ada isian yang berubah" in r.content.decode()


def test_household_and_family_correction_pages(desa_client, registry_household):
    family = registry_household.families.get()
    assert (
        desa_client.get(
            reverse("proposals:new_correction_household", args=[registry_household.pk])
        ).status_code
        == 200
    )
    url = reverse("proposals:new_correction_family", args=[family.pk])
    assert desa_client.get(url).status_code == 200
    r = desa_client.post(url, {"no_kk": kk(), "nuk": "1", "reason": "KK baru"})
    assert r.status_code == 302
    assert Proposal.objects.get().target_type == "family"


def test_outsider_gets_404_on_records_of_another_desa(client, cast, registry_household):
    login(client, cast["outsider_desa"])
    person = registry_household.members.first()
    for name, pk in [
        ("new_correction", person.pk),
        ("new_deactivation", person.pk),
        ("new_reactivation", person.pk),
        ("new_move", registry_household.pk),
        ("new_correction_household", registry_household.pk),
    ]:
        assert client.get(reverse(f"proposals:{name}", args=[pk])).status_code == 404


def test_deactivation_upload_round_trip(desa_client, registry_household):
    person = registry_household.members.get(relation_kk=3)
    url = reverse("proposals:new_deactivation", args=[person.pk])
    assert desa_client.get(url).status_code == 200
    r = desa_client.post(url, {"reason_code": "meninggal", "reason": "Wafat"})
    assert r.status_code == 422 and "memerlukan bukti" in r.content.decode()
    upload = SimpleUploadedFile("akta.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    r = desa_client.post(url, {"reason_code": "meninggal", "reason": "Wafat", "evidence": upload})
    assert r.status_code == 302
    p = Proposal.objects.get()
    ev = p.evidence.get()
    r = desa_client.get(reverse("proposals:detail", args=[p.pk]))
    assert reverse("proposals:evidence", args=[p.pk, ev.pk]) in r.content.decode()
    r = desa_client.get(reverse("proposals:evidence", args=[p.pk, ev.pk]))
    assert r.status_code == 200 and b"".join(r.streaming_content).startswith(b"%PDF")


def test_reactivation_round_trip(desa_client, cast, registry_household):
    person = registry_household.members.get(relation_kk=3)
    records.deactivate_person(person, by=cast["admin_kabkota"], reason_code="ganda", reason="x")
    url = reverse("proposals:new_reactivation", args=[person.pk])
    assert desa_client.get(url).status_code == 200
    r = desa_client.post(url, {"reason": "Bukan data ganda"})
    assert r.status_code == 302 and Proposal.objects.get().kind == Kind.REAKTIVASI


def test_move_and_consent_round_trip(client, cast, registry_household):
    login(client, cast["operator_desa"])
    url = reverse("proposals:new_move", args=[registry_household.pk])
    assert client.get(url).status_code == 200
    r = client.post(url, {"destination": "1371011001", "reason": "x"})
    assert r.status_code == 422 and not Proposal.objects.exists()
    r = client.post(url, {"destination": "1372011001", "reason": "Pindah kerja"})
    assert r.status_code == 302
    p = Proposal.objects.get()
    consent_url = reverse("proposals:consent", args=[p.pk])
    assert client.get(consent_url).status_code == 403  # the origin does not consent
    login(client, cast["outsider_desa"])  # the destination desa sees the move
    detail = client.get(reverse("proposals:detail", args=[p.pk]))
    assert detail.status_code == 200 and consent_url in detail.content.decode()
    assert client.post(consent_url, {"agreed": "0", "note": ""}).status_code == 422
    r = client.post(consent_url, {"agreed": "1", "note": "Siap menerima"})
    assert r.status_code == 302
    assert p.consents.get().agreed


# --- detail, actions, edit, comments -----------------------------------------------------


def test_detail_renders_every_kind_with_timeline(desa_client, cast, make_proposal):
    for kind in Kind:
        p = make_proposal(kind, destination="1371011002" if kind == Kind.PEMINDAHAN else None)
        r = desa_client.get(reverse("proposals:detail", args=[p.pk]))
        assert r.status_code == 200, kind


def test_detail_is_404_outside_scope(client, cast, make_proposal):
    p = make_proposal(Kind.PERBAIKAN)
    login(client, cast["outsider_desa"])
    assert client.get(reverse("proposals:detail", args=[p.pk])).status_code == 404
    url = reverse("proposals:action", args=[p.pk, "submit_direct"])
    assert client.post(url).status_code == 404


def test_detail_offers_only_the_actions_the_user_may_take(client, cast, make_proposal):
    p = make_proposal(Kind.PERBAIKAN)
    login(client, cast["operator_desa"])
    actions = [
        t.action for t in client.get(reverse("proposals:detail", args=[p.pk])).context["actions"]
    ]
    assert actions == ["submit_direct", "cancel"]
    login(client, cast["verifikator_kabkota"])
    p2 = make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
    ctx = client.get(reverse("proposals:detail", args=[p2.pk])).context
    assert [t.action for t in ctx["actions"]] == ["return_to_desa", "approve", "reject_kabkota"]


def test_action_endpoint_moves_and_records_note(desa_client, make_proposal):
    p = make_proposal(Kind.PERBAIKAN)
    r = desa_client.post(reverse("proposals:action", args=[p.pk, "submit_direct"]))
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.status == Status.DIPERIKSA_DINSOS


def test_action_endpoint_refuses_illegal_transition_with_a_message(desa_client, make_proposal):
    p = make_proposal(Kind.PERBAIKAN)
    r = desa_client.post(reverse("proposals:action", args=[p.pk, "resubmit"]), follow=True)
    assert r.status_code == 200
    p.refresh_from_db()
    assert p.status == Status.DRAFT
    assert any("tidak dapat dilakukan" in m for m in msgs(r))
    r = desa_client.post(reverse("proposals:action", args=[p.pk, "cancel"]), follow=True)
    assert any("memerlukan alasan" in m for m in msgs(r))
    r = desa_client.post(reverse("proposals:action", args=[p.pk, "ratify"]), follow=True)
    assert r.status_code == 200 and any("paket pengesahan" in m for m in msgs(r))
    r = desa_client.post(reverse("proposals:action", args=[p.pk, "nonsense"]), follow=True)
    assert any("tidak dikenal" in m for m in msgs(r))
    assert (
        desa_client.get(reverse("proposals:action", args=[p.pk, "submit_direct"])).status_code
        == 405
    )


def test_role_without_the_action_gets_403(desa_client, make_proposal):
    p = make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
    assert desa_client.post(reverse("proposals:action", args=[p.pk, "approve"])).status_code == 403


def test_revision_loop_over_http(client, cast, regions):
    desa, verif = cast["operator_desa"], cast["verifikator_kabkota"]
    login(client, desa)
    client.post(reverse("proposals:new_household"), household_post([member_post("Ani", rel=1)]))
    p = Proposal.objects.get()
    transition(p, "submit", by=desa)
    # (musdes and verivali happen elsewhere; put the proposal where Dinsos examines it)
    Proposal.objects.filter(pk=p.pk).update(status=Status.DIPERIKSA_DINSOS)
    login(client, verif)
    client.post(reverse("proposals:comment", args=[p.pk]), {"text": "Alamat kurang lengkap"})
    client.post(
        reverse("proposals:action", args=[p.pk, "return_to_desa"]), {"note": "Lengkapi alamat"}
    )
    p.refresh_from_db()
    assert p.status == Status.DIKEMBALIKAN_KE_DESA
    login(client, desa)
    edit_url = reverse("proposals:edit", args=[p.pk])
    r = client.get(edit_url)
    assert r.status_code == 200 and "Ani" in r.content.decode()
    members = p.payload["families"][0]["members"]
    data = household_post(
        [member_post("Ani", rel=1, born=members[0]["birth_date"], sex=1)],
        address="Jl. Mawar 3 No. 7",
        note="Alamat dilengkapi",
    )
    data["art-0-nik"] = members[0]["nik"]
    r = client.post(edit_url, data)
    assert r.status_code == 302, r.context and r.context["form"].errors
    p.refresh_from_db()
    assert p.payload["household_fields"]["address"] == "Jl. Mawar 3 No. 7"
    client.post(reverse("proposals:action", args=[p.pk, "resubmit"]))
    p.refresh_from_db()
    assert p.status == Status.DIPERIKSA_DINSOS
    texts = list(Comment.objects.filter(proposal=p).values_list("text", flat=True))
    assert texts == ["Alamat kurang lengkap", "Alamat dilengkapi"]
    body = client.get(reverse("proposals:detail", args=[p.pk])).content.decode()
    assert "Lengkapi alamat" in body and "Alamat kurang lengkap" in body


def test_edit_other_kinds_and_refuse_when_not_editable(desa_client, cast, registry_household):
    person = registry_household.members.get(relation_kk=1)
    p = creation.propose_correction(
        by=cast["operator_desa"],
        target=person,
        changes={"birth_place": "Padng"},
        reason="x",
    )
    url = reverse("proposals:edit", args=[p.pk])
    r = desa_client.get(url)
    assert r.status_code == 200 and "Padng" in r.content.decode()
    form = r.context["form"]
    data = {name: form[name].value() or "" for name in form.field_names}
    data.update(birth_date="1980-05-17", birth_place="Padang", reason="x", note="")
    r = desa_client.post(url, data)
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.payload["changes"] == {"birth_place": "Padang"}
    Proposal.objects.filter(pk=p.pk).update(status=Status.DIPERIKSA_DINSOS)
    r = desa_client.get(url, follow=True)
    assert any("tidak dapat diubah" in m for m in msgs(r))


def test_comment_with_htmx_returns_the_thread(desa_client, make_proposal):
    p = make_proposal(Kind.PERBAIKAN)
    r = desa_client.post(
        reverse("proposals:comment", args=[p.pk]), {"text": "Halo"}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200 and "Halo" in r.content.decode()
    assert "<html" not in r.content.decode()
    r = desa_client.post(
        reverse("proposals:comment", args=[p.pk]), {"text": ""}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 422


def test_member_rows_mask_nik_for_readers_without_view(cast, regions):
    from terpadu.proposals.views.desa import _member_rows

    full = nik()
    p = creation.propose_new_household(
        by=cast["operator_desa"],
        region=regions["1371011001"],
        household_fields={},
        families=[{"members": [{"name": "A", "sex": 1, "nik": full, "relation_kk": 1}]}],
        reason="x",
    )
    assert _member_rows(p, show_full=True)[0]["nik_shown"] == full
    masked = _member_rows(p, show_full=False)[0]
    assert masked["nik_shown"] == mask_nik(full) and masked["relation_kk_label"]


def test_editing_a_returned_correction_shows_why_it_came_back(
    desa_client, cast, registry_household
):
    # Bug found by the browser journey: the edit page of a returned correction (unlike that of
    # a new household) neither said the proposal had been returned nor showed the return note,
    # and claimed the fields held the registry's values when they hold the proposed ones.
    person = registry_household.members.get(relation_kk=1)
    p = creation.propose_correction(
        by=cast["operator_desa"], target=person, changes={"birth_place": "Padang"}, reason="x"
    )
    url = reverse("proposals:edit", args=[p.pk])
    draft = desa_client.get(url).content.decode()
    assert 'data-testid="returned-notice"' not in draft
    transition(p, "submit_direct", by=cast["operator_desa"])
    transition(p, "return_to_desa", by=cast["verifikator_kabkota"], note="Cek KK: Padang Pariaman")
    body = desa_client.get(url).content.decode()
    assert 'data-testid="returned-notice"' in body
    assert "Cek KK: Padang Pariaman" in body
    assert "Isian terisi dengan nilai yang diusulkan" in body


def test_correction_diff_labels_start_with_a_capital(desa_client, cast, registry_household):
    # Bug found by the browser journey: the diff table's row headers were the model fields'
    # lowercase verbose names ("tempat lahir") while every other label is capitalised.
    person = registry_household.members.get(relation_kk=1)
    p = creation.propose_correction(
        by=cast["operator_desa"], target=person, changes={"birth_place": "Padang"}, reason="x"
    )
    body = desa_client.get(reverse("proposals:detail", args=[p.pk])).content.decode()
    assert '<th scope="row">Tempat lahir</th>' in body


def test_comment_thread_names_the_author_role_not_its_code(desa_client, cast, make_proposal):
    # Bug found by the browser journey: the thread printed the stored role code
    # ("operator_desa") next to the author instead of the role's name.
    p = make_proposal(Kind.PERBAIKAN)
    creation.add_comment(proposal=p, by=cast["operator_desa"], text="Sudah sesuai KK.")
    body = desa_client.get(reverse("proposals:detail", args=[p.pk])).content.decode()
    thread = body.split('id="komentar"', 1)[1]
    assert "Operator desa/kelurahan" in thread
    assert 'muted">operator_desa' not in thread
