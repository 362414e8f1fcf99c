from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from terpadu.accounts.models import AccessLog
from terpadu.proposals import verivali
from terpadu.proposals.models import (
    Assignment,
    Kind,
    Proposal,
    ProposalEvent,
    Status,
    Visit,
    VisitPhoto,
    VisitResult,
)
from terpadu.proposals.queries import proposals_for_user
from terpadu.proposals.verivali import VerivaliError, VisitInvalid
from terpadu.registry.models import Person

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
JPEG = b"\xff\xd8\xff\xe0\0\x10JFIF" + b"\0" * 40
WEBP = b"RIFF\x24\0\0\0WEBPVP8 " + b"\0" * 40
TODAY = timezone.localdate()  # the domain's 'today' (Asia/Jakarta)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _photo(name="depan.png", content=PNG):
    return SimpleUploadedFile(name, content, "image/png")


def _assigned(cast, make_proposal, n=1, **fields):
    ids = [make_proposal(Kind.BARU, Status.DISEPAKATI, **fields).pk for _ in range(n)]
    verivali.assign(by=cast["operator_kecamatan"], proposal_ids=ids, enumerator=cast["enumerator"])
    return list(Assignment.objects.filter(proposal_id__in=ids).order_by("pk"))


def _visit(cast, assignment, result=VisitResult.SELESAI, **kw):
    defaults = {
        "visited_on": TODAY,
        "latitude": "-1.0123456",
        "longitude": "100.3712345",
        "respondent": "Ibu Rumah Tangga",
        "photos": [("depan", _photo())],
    }
    return verivali.submit_visit(
        by=cast["enumerator"], assignment=assignment, result=result, **{**defaults, **kw}
    )


# --- assign ----------------------------------------------------------------------------------


def test_assign_moves_proposals_and_creates_assignments(cast, make_proposal):
    p1 = make_proposal(Kind.BARU, Status.DISEPAKATI)
    p2 = make_proposal(Kind.REAKTIVASI, Status.DISEPAKATI)
    n = verivali.assign(
        by=cast["verifikator_kabkota"],
        proposal_ids=[p1.pk, p2.pk],
        enumerator=cast["enumerator"],
        due_on=TODAY + dt.timedelta(days=7),
    )
    assert n == 2
    assert set(Proposal.objects.values_list("status", flat=True)) == {Status.VERIVALI}
    rows = Assignment.objects.filter(enumerator=cast["enumerator"])
    assert rows.count() == 2
    assert {a.region_code for a in rows} == {"1371011001"}
    assert ProposalEvent.objects.filter(action="assign").count() == 2


def test_assign_refuses_an_enumerator_of_another_desa(cast, make_proposal, make_user):
    p = make_proposal(Kind.BARU, Status.DISEPAKATI)
    elsewhere = make_user("enumerator", "1371011002")
    with pytest.raises(VerivaliError) as exc:
        verivali.assign(by=cast["operator_kecamatan"], proposal_ids=[p.pk], enumerator=elsewhere)
    assert exc.value.code == "outside_enumerator"
    p.refresh_from_db()
    assert p.status == Status.DISEPAKATI
    assert not Assignment.objects.exists()


def test_kecamatan_enumerator_covers_its_desa(cast, make_proposal, make_user):
    p = make_proposal(Kind.BARU, Status.DISEPAKATI)
    tksk = make_user("enumerator", "137101")
    assert verivali.assign(by=cast["operator_desa"], proposal_ids=[p.pk], enumerator=tksk) == 1
    assert tksk in verivali.enumerators_for(cast["operator_desa"])
    assert cast["enumerator"] in verivali.enumerators_for(cast["operator_desa"])


def test_assign_refuses_wrong_status_non_enumerator_and_outsiders(cast, make_proposal):
    draft = make_proposal(Kind.BARU, Status.DRAFT)
    agreed = make_proposal(Kind.BARU, Status.DISEPAKATI)
    with pytest.raises(VerivaliError) as exc:
        verivali.assign(
            by=cast["operator_kecamatan"],
            proposal_ids=[draft.pk, agreed.pk],
            enumerator=cast["enumerator"],
        )
    assert exc.value.code == "not_assignable"
    assert Proposal.objects.get(pk=agreed.pk).status == Status.DISEPAKATI  # all or nothing
    with pytest.raises(VerivaliError):
        verivali.assign(
            by=cast["operator_kecamatan"],
            proposal_ids=[agreed.pk],
            enumerator=cast["operator_desa"],
        )
    with pytest.raises(VerivaliError):  # not in the outsider's area: same as not there
        verivali.assign(
            by=cast["outsider_kab"], proposal_ids=[agreed.pk], enumerator=cast["enumerator"]
        )
    with pytest.raises(PermissionDenied):
        verivali.assign(by=cast["pusat"], proposal_ids=[agreed.pk], enumerator=cast["enumerator"])


@pytest.mark.parametrize("n", [2, 25])
def test_assign_costs_the_same_for_any_size(cast, make_proposal, n):
    ids = [make_proposal(Kind.BARU, Status.DISEPAKATI).pk for _ in range(n)]
    with CaptureQueriesContext(connection) as ctx:
        verivali.assign(
            by=cast["operator_kecamatan"], proposal_ids=ids, enumerator=cast["enumerator"]
        )
    assert Assignment.objects.count() == n
    assert len(ctx.captured_queries) <= 10


# --- the visit -------------------------------------------------------------------------------


def test_submit_visit_records_result_gps_and_photos(cast, make_proposal):
    (a,) = _assigned(cast, make_proposal)
    visit = _visit(cast, a, photos=[("depan", _photo()), ("kk", _photo("kk.jpg", JPEG))])
    a.refresh_from_db()
    assert a.state == Assignment.State.DIKIRIM
    assert str(visit.latitude) == "-1.012346"
    assert sorted(visit.photos.values_list("kind", flat=True)) == ["depan", "kk"]
    names = list(visit.photos.values_list("file", flat=True))
    assert all(name.startswith("verivali/1371011001/") for name in names)
    assert any(name.endswith(".jpg") for name in names)  # named by content, not by upload


@pytest.mark.parametrize(
    ("kw", "fields"),
    [
        ({"latitude": "", "longitude": ""}, {"latitude"}),
        ({"latitude": "-1.0", "longitude": ""}, {"latitude"}),
        ({"latitude": "52.37", "longitude": "4.89"}, {"latitude", "longitude"}),  # Amsterdam
        ({"latitude": "utara"}, {"latitude"}),
        ({"photos": []}, {"photo_depan"}),
        ({"photos": [("depan", _photo("depan.png", b"GIF89a" + b"\0" * 20))]}, {"photo_depan"}),
        ({"photos": [("depan", _photo("x.png", b"%PDF-1.4"))]}, {"photo_depan"}),
        ({"visited_on": TODAY + dt.timedelta(days=2)}, {"visited_on"}),
    ],
    ids=[
        "no-gps",
        "half-gps",
        "outside-indonesia",
        "not-a-number",
        "no-front",
        "gif",
        "pdf",
        "future",
    ],
)
def test_visit_validation_writes_nothing(cast, make_proposal, kw, fields):
    (a,) = _assigned(cast, make_proposal)
    with pytest.raises(VisitInvalid) as exc:
        _visit(cast, a, **kw)
    assert {issue.field for issue in exc.value.issues} == fields
    a.refresh_from_db()
    assert a.state == Assignment.State.DITUGASKAN
    assert not Visit.objects.exists()
    assert not VisitPhoto.objects.exists()


def test_oversized_photo_is_refused(cast, make_proposal):
    (a,) = _assigned(cast, make_proposal)
    big = _photo("depan.png", PNG + b"\0" * (5 * 1024 * 1024))
    with pytest.raises(VisitInvalid):
        _visit(cast, a, photos=[("depan", big)])


def test_negative_visit_needs_no_gps_nor_photo_and_webp_is_an_image(cast, make_proposal):
    a1, a2 = _assigned(cast, make_proposal, n=2)
    _visit(cast, a1, VisitResult.TIDAK_DITEMUKAN, latitude="", longitude="", photos=[])
    _visit(cast, a2, photos=[("depan", _photo("d.webp", WEBP))])
    assert Visit.objects.count() == 2


def test_only_the_assigned_enumerator_submits_once(cast, make_proposal, make_user):
    (a,) = _assigned(cast, make_proposal)
    other = make_user("enumerator", "1371011001")
    with pytest.raises(PermissionDenied):
        verivali.submit_visit(by=other, assignment=a, result=VisitResult.MENOLAK, visited_on=TODAY)
    _visit(cast, a)
    with pytest.raises(VerivaliError) as exc:
        _visit(cast, a)
    assert exc.value.code == "not_open"


# --- QC --------------------------------------------------------------------------------------


def test_qc_accept_positive_sends_to_dinsos(cast, make_proposal):
    (a,) = _assigned(cast, make_proposal)
    _visit(cast, a)
    result = verivali.qc_accept(by=cast["operator_kecamatan"], assignment=a, note="Lengkap")
    assert result.proposal.status == Status.DIPERIKSA_DINSOS
    assert result.deactivation is None
    a.refresh_from_db()
    assert (a.state, a.qc_by, a.qc_note) == (
        Assignment.State.DITERIMA,
        cast["operator_kecamatan"],
        "Lengkap",
    )
    event = ProposalEvent.objects.get(proposal=a.proposal, action="verivali_positive")
    assert "Selesai diverivali" in event.note


def test_qc_accept_negative_on_a_new_household_closes_it(cast, make_proposal):
    (a,) = _assigned(cast, make_proposal)
    _visit(cast, a, VisitResult.GANDA, photos=[])
    result = verivali.qc_accept(by=cast["verifikator_kabkota"], assignment=a)
    assert result.proposal.status == Status.HASIL_NEGATIF
    assert result.deactivation is None and result.deactivation_refused == []
    assert not Proposal.objects.filter(kind=Kind.NONAKTIF).exists()


def test_qc_negative_on_an_existing_record_proposes_its_deactivation(
    cast, make_proposal, registry_household
):
    person = registry_household.members.order_by("member_no").first()
    p = make_proposal(
        Kind.NONAKTIF,
        Status.DISEPAKATI,
        target_type="person",
        person=person,
        household=registry_household,
        family=person.family,
        reason_code="pindah",
        reason="Dilaporkan pindah",
    )
    verivali.assign(
        by=cast["operator_kecamatan"], proposal_ids=[p.pk], enumerator=cast["enumerator"]
    )
    a = Assignment.objects.get(proposal=p)
    _visit(cast, a, VisitResult.TIDAK_DITEMUKAN, latitude="", longitude="", notes="Rumah kosong")

    result = verivali.qc_accept(by=cast["verifikator_kabkota"], assignment=a)

    assert result.proposal.status == Status.HASIL_NEGATIF
    new = result.deactivation
    assert new is not None
    assert (new.kind, new.status, new.reason_code) == (
        Kind.NONAKTIF,
        Status.DRAFT,
        "tidak_ditemukan",
    )
    assert new.person_id == person.pk and new.created_by == cast["verifikator_kabkota"]
    assert f"#{p.pk}" in new.reason and "Rumah kosong" in new.reason
    assert ProposalEvent.objects.filter(proposal=new, action="create").exists()


def test_qc_negative_on_an_inactive_record_reports_why_no_deactivation(
    cast, make_proposal, registry_household
):
    person = registry_household.members.order_by("member_no").first()
    Person.objects.filter(pk=person.pk).update(status="nonaktif", nonaktif_reason="pindah")
    p = make_proposal(
        Kind.REAKTIVASI,
        Status.DISEPAKATI,
        target_type="person",
        person=person,
        household=registry_household,
    )
    verivali.assign(
        by=cast["operator_kecamatan"], proposal_ids=[p.pk], enumerator=cast["enumerator"]
    )
    a = Assignment.objects.get(proposal=p)
    _visit(cast, a, VisitResult.PINDAH, latitude="", longitude="", photos=[])
    result = verivali.qc_accept(by=cast["verifikator_kabkota"], assignment=a)
    assert result.proposal.status == Status.HASIL_NEGATIF  # the verdict stands
    assert result.deactivation is None
    assert result.deactivation_refused  # e.g. "already inactive"


def test_qc_return_loop(cast, make_proposal):
    (a,) = _assigned(cast, make_proposal)
    _visit(cast, a)
    with pytest.raises(VerivaliError) as exc:
        verivali.qc_return(by=cast["operator_kecamatan"], assignment=a, note=" ")
    assert exc.value.code == "note_required"
    verivali.qc_return(by=cast["operator_kecamatan"], assignment=a, note="Foto buram")
    a.refresh_from_db()
    assert (a.state, a.qc_note) == (Assignment.State.DIKEMBALIKAN, "Foto buram")
    assert Proposal.objects.get(pk=a.proposal_id).status == Status.VERIVALI
    assert ProposalEvent.objects.get(action="qc_return").note == "Foto buram"
    assert a in verivali.assignments_for_enumerator(cast["enumerator"])

    _visit(cast, a)  # the revisit
    a.refresh_from_db()
    assert a.visits.count() == 2
    result = verivali.qc_accept(by=cast["operator_kecamatan"], assignment=a)
    assert result.proposal.status == Status.DIPERIKSA_DINSOS


def test_qc_is_for_supervisors_of_the_area(cast, make_proposal):
    (a,) = _assigned(cast, make_proposal)
    _visit(cast, a)
    for who in ("outsider_kab", "operator_desa", "enumerator", "operator_provinsi"):
        with pytest.raises(PermissionDenied):
            verivali.qc_accept(by=cast[who], assignment=a)
    verivali.qc_accept(by=cast["admin_kabkota"], assignment=a)
    with pytest.raises(VerivaliError) as exc:  # nothing waits for a check any more
        verivali.qc_accept(by=cast["admin_kabkota"], assignment=a)
    assert exc.value.code == "not_submitted"


def test_enumerator_sees_only_own_assignments(cast, make_proposal, make_user):
    (mine,) = _assigned(cast, make_proposal)
    other = make_user("enumerator", "1371011001")
    theirs = make_proposal(Kind.BARU, Status.DISEPAKATI)
    verivali.assign(by=cast["operator_kecamatan"], proposal_ids=[theirs.pk], enumerator=other)
    make_proposal(Kind.BARU, Status.DISEPAKATI)  # not assigned at all
    assert list(proposals_for_user(cast["enumerator"])) == [mine.proposal]
    assert list(verivali.assignments_for_enumerator(cast["enumerator"])) == [mine]


# --- HTTP ------------------------------------------------------------------------------------


def test_photo_view_checks_permission_and_logs(client, cast, make_proposal, make_user):
    (a,) = _assigned(cast, make_proposal)
    photo = _visit(cast, a).photos.get()
    url = reverse("proposals:verivali_photo", args=[photo.pk])
    for who in ("outsider_kab", "outsider_desa"):
        client.force_login(cast[who])
        assert client.get(url).status_code == 404
    client.force_login(make_user("enumerator", "1371011001"))  # not assigned to it
    assert client.get(url).status_code == 404
    assert not AccessLog.objects.exists()
    for who in ("enumerator", "operator_desa", "verifikator_kabkota"):
        client.force_login(cast[who])
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == PNG
    logs = AccessLog.objects.filter(action="view_photo", entity_id=str(photo.pk))
    assert logs.count() == 3
    assert set(logs.values_list("region_code", flat=True)) == {"1371011001"}


def test_http_round_trip(client, cast, make_proposal):
    p = make_proposal(Kind.BARU, Status.DISEPAKATI)
    client.force_login(cast["operator_kecamatan"])
    url = reverse("proposals:verivali_assign")
    page = client.get(url)
    assert page.status_code == 200 and f'value="{p.pk}"' in page.content.decode()
    assert client.post(url, {"enumerator": cast["enumerator"].pk}).status_code == 422
    response = client.post(url, {"proposals": [p.pk], "enumerator": cast["enumerator"].pk})
    assert response.status_code == 302
    a = Assignment.objects.get(proposal=p)

    client.force_login(cast["enumerator"])
    tasks = client.get(reverse("proposals:verivali_tasks"))
    assert tasks.status_code == 200
    visit_url = reverse("proposals:verivali_visit", args=[a.pk])
    form = client.get(visit_url).content.decode()
    assert 'capture="environment"' in form and "geolocation.js" in form
    data = {"result": "1", "visited_on": TODAY.isoformat(), "latitude": "", "longitude": ""}
    bad = client.post(visit_url, {**data, "photo_depan": _photo()})
    assert bad.status_code == 422 and "GPS" in bad.content.decode()
    data.update(latitude="-0.95", longitude="100.35", photo_depan=_photo())
    assert client.post(visit_url, data).status_code == 302

    client.force_login(cast["verifikator_kabkota"])
    qc = client.get(reverse("proposals:verivali_qc"))
    assert qc.status_code == 200 and "verivali/foto/" in qc.content.decode()
    decide = reverse("proposals:verivali_qc_decide", args=[a.pk])
    assert client.post(decide, {"decision": "terima"}).status_code == 302
    p.refresh_from_db()
    assert p.status == Status.DIPERIKSA_DINSOS


def test_pages_refuse_the_wrong_roles(client, cast):
    client.force_login(cast["enumerator"])
    assert client.get(reverse("proposals:verivali_assign")).status_code == 403
    assert client.get(reverse("proposals:verivali_qc")).status_code == 403
    client.force_login(cast["operator_desa"])
    assert client.get(reverse("proposals:verivali_tasks")).status_code == 403
    assert client.get(reverse("proposals:verivali_qc")).status_code == 403


def _page_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_qc_and_assign_pages_cost_the_same_for_any_size(client, cast, make_proposal):
    client.force_login(cast["verifikator_kabkota"])
    qc, assign = reverse("proposals:verivali_qc"), reverse("proposals:verivali_assign")
    counts = []
    for n in (1, 4):
        for a in _assigned(cast, make_proposal, n=n):
            _visit(cast, a, photos=[("depan", _photo()), ("kk", _photo())])
        for _ in range(n):
            make_proposal(Kind.BARU, Status.DISEPAKATI)
        counts.append((_page_queries(client, qc), _page_queries(client, assign)))
    assert counts[0] == counts[1], counts


def test_qc_page_shows_gps_with_a_decimal_point_in_indonesian(client, cast, make_proposal):
    # Bug found by the browser journey: with the Indonesian locale the coordinates rendered as
    # "-0,951200, 100,354300" — the decimal comma made the pair unreadable and un-pasteable
    # into a map. GPS coordinates are always written with a decimal point.
    (a,) = _assigned(cast, make_proposal)
    _visit(cast, a, latitude="-0.9512", longitude="100.3543")
    client.force_login(cast["operator_kecamatan"])
    html = client.get(reverse("proposals:verivali_qc"), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "-0.951200, 100.354300" in html
    assert "-0,951200" not in html
