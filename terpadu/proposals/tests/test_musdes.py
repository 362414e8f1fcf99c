from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from terpadu.proposals import musdes
from terpadu.proposals.models import Kind, Musdes, ProposalEvent, Status
from terpadu.proposals.musdes import MusdesError
from terpadu.regions.models import Kind as RegionKind

pytestmark = pytest.mark.django_db

QUORUM = [("Andi Saputra", "Lurah"), ("Budi", "Ketua RT 01"), ("Citra", "Tokoh masyarakat")]
PDF = b"%PDF-1.4\n%scan\n"
PAYLOAD_NIK = "1371015705800001"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def desa(regions):
    return regions["1371011001"]


@pytest.fixture
def agenda_items(make_proposal, registry_household):
    """Two proposals waiting for the musdes (one new family, one deactivation) plus noise."""
    person = registry_household.members.order_by("member_no").first()
    new = make_proposal(
        Kind.BARU,
        Status.MENUNGGU_MUSDES,
        payload={
            "household_fields": {"address": "Jl. Baru 3", "rt": "002", "rw": "001"},
            "families": [
                {
                    "no_kk": "1371010106150009",
                    "members": [{"name": "Dewi Lestari", "nik": PAYLOAD_NIK, "relation_ruta": 1}],
                }
            ],
        },
    )
    off = make_proposal(
        Kind.NONAKTIF,
        Status.MENUNGGU_MUSDES,
        person=person,
        household=registry_household,
        target_type="person",
        reason_code="pindah",
    )
    make_proposal(Kind.BARU, Status.DRAFT)  # not submitted yet: not on the agenda
    make_proposal(Kind.BARU, Status.MENUNGGU_MUSDES, desa="1371011002")  # other desa
    return new, off, person


def _meeting(cast, desa, **kw):
    return musdes.plan_musdes(
        by=kw.get("by", cast["operator_desa"]),
        region=desa,
        held_on=dt.date(2026, 11, 23),
        place="Balai Kelurahan",
        chair="Andi Saputra",
    )


def _decided(cast, desa, agenda_items):
    new, off, _ = agenda_items
    meeting = _meeting(cast, desa)
    musdes.record_attendance(by=cast["operator_desa"], musdes=meeting, attendees=QUORUM)
    musdes.record_decisions(
        by=cast["operator_desa"],
        musdes=meeting,
        decisions={new.pk: (True, ""), off.pk: (False, "Masih tinggal di RT 01")},
    )
    return meeting


def test_agenda_is_the_desas_waiting_proposals(cast, desa, agenda_items):
    new, off, _ = agenda_items
    meeting = _meeting(cast, desa)
    assert list(musdes.agenda(meeting)) == [new, off]


def test_who_may_plan(cast, desa):
    for role in ("operator_desa", "operator_kecamatan", "verifikator_kabkota", "admin_kabkota"):
        meeting = _meeting(cast, desa, by=cast[role])
        Musdes.objects.filter(pk=meeting.pk).update(state=Musdes.State.SELESAI)
    for role in ("outsider_desa", "outsider_kab", "enumerator", "operator_provinsi", "pusat"):
        with pytest.raises(PermissionDenied):
            _meeting(cast, desa, by=cast[role])


def test_one_open_meeting_per_desa(cast, desa):
    _meeting(cast, desa)
    with pytest.raises(MusdesError) as exc:
        _meeting(cast, desa)
    assert exc.value.code == "open_exists"


@pytest.mark.parametrize(
    ("attendees", "ok"),
    [
        (QUORUM, True),
        ([("A", "Kepala Desa"), ("B", "BPD"), ("C", "PKK")], True),
        ([("A", "Plt. Lurah"), ("B", ""), ("C", "")], True),
        ([("A", "Lurah"), ("B", "Ketua RW")], False),  # only one other
        ([("A", "Sekretaris Kelurahan"), ("B", "BPD"), ("C", "PKK")], False),  # no head
    ],
)
def test_quorum_rule(attendees, ok):
    assert musdes.quorum_met(attendees) is ok


def test_decisions_need_quorum_and_every_item(cast, desa, agenda_items):
    new, off, _ = agenda_items
    meeting = _meeting(cast, desa)
    musdes.record_attendance(by=cast["operator_desa"], musdes=meeting, attendees=QUORUM[:2])
    with pytest.raises(MusdesError) as exc:
        musdes.record_decisions(
            by=cast["operator_desa"], musdes=meeting, decisions={new.pk: (True, "")}
        )
    assert exc.value.code == "no_quorum"
    musdes.record_attendance(by=cast["operator_desa"], musdes=meeting, attendees=QUORUM)
    assert meeting.attendees.count() == 3  # replaced, not appended
    with pytest.raises(MusdesError) as exc:
        musdes.record_decisions(
            by=cast["operator_desa"], musdes=meeting, decisions={new.pk: (True, "")}
        )
    assert exc.value.code == "missing_decision"
    assert f"#{off.pk}" in exc.value.message_id
    assert not meeting.decisions.exists()


def test_the_gate_nothing_moves_before_the_signed_scan(cast, desa, agenda_items):
    new, off, _ = agenda_items
    meeting = _decided(cast, desa, agenda_items)
    musdes.generate_minutes(meeting)
    new.refresh_from_db()
    off.refresh_from_db()
    assert (new.status, off.status) == (Status.MENUNGGU_MUSDES, Status.MENUNGGU_MUSDES)
    assert not ProposalEvent.objects.filter(action__startswith="musdes_").exists()
    assert meeting.state == Musdes.State.DIPUTUSKAN

    result = musdes.upload_signed_minutes(
        by=cast["operator_desa"],
        musdes=meeting,
        file=SimpleUploadedFile("ba.pdf", PDF, "application/pdf"),
    )

    assert (result.agreed, result.rejected) == (1, 1)
    new.refresh_from_db()
    off.refresh_from_db()
    assert new.status == Status.DISEPAKATI
    assert off.status == Status.DITOLAK_MUSDES
    events = dict(
        ProposalEvent.objects.filter(action__startswith="musdes_").values_list(
            "proposal_id", "action"
        )
    )
    assert events == {new.pk: "musdes_agree", off.pk: "musdes_reject"}
    meeting.refresh_from_db()
    assert meeting.state == Musdes.State.SELESAI
    assert meeting.signed_scan.name.endswith(".pdf")
    assert list(musdes.agenda(meeting)) == [new, off]  # what it decided, now closed
    with pytest.raises(MusdesError):
        musdes.record_attendance(by=cast["operator_desa"], musdes=meeting, attendees=QUORUM)


def test_upload_needs_generated_minutes(cast, desa, agenda_items):
    meeting = _decided(cast, desa, agenda_items)
    with pytest.raises(MusdesError) as exc:
        musdes.upload_signed_minutes(
            by=cast["operator_desa"],
            musdes=meeting,
            file=SimpleUploadedFile("ba.pdf", PDF),
        )
    assert exc.value.code == "no_minutes"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"MZ\x90\x00 not a scan", "bad_type"),
        (b"", "bad_type"),
        (b"<html>%PDF-</html>", "bad_type"),
        (PDF + b"\0" * (10 * 1024 * 1024), "too_large"),
    ],
)
def test_upload_checks_type_and_size(cast, desa, agenda_items, content, code):
    new, _, _ = agenda_items
    meeting = _decided(cast, desa, agenda_items)
    musdes.generate_minutes(meeting)
    with pytest.raises(MusdesError) as exc:
        musdes.upload_signed_minutes(
            by=cast["operator_desa"],
            musdes=meeting,
            file=SimpleUploadedFile("ba.pdf", content, "application/pdf"),
        )
    assert exc.value.code == code
    new.refresh_from_db()
    assert new.status == Status.MENUNGGU_MUSDES
    assert Musdes.objects.get(pk=meeting.pk).state == Musdes.State.DIPUTUSKAN


@pytest.mark.parametrize(
    "head", [b"\xff\xd8\xff\xe0JFIF", b"\x89PNG\r\n\x1a\n\0\0"], ids=["jpeg", "png"]
)
def test_upload_accepts_image_scans(cast, desa, agenda_items, head):
    meeting = _decided(cast, desa, agenda_items)
    musdes.generate_minutes(meeting)
    result = musdes.upload_signed_minutes(
        by=cast["operator_desa"], musdes=meeting, file=SimpleUploadedFile("ba", head + b"x" * 64)
    )
    assert result.agreed == 1


def test_outsider_cannot_upload(cast, desa, agenda_items):
    meeting = _decided(cast, desa, agenda_items)
    musdes.generate_minutes(meeting)
    with pytest.raises(PermissionDenied):
        musdes.upload_signed_minutes(
            by=cast["outsider_kab"], musdes=meeting, file=SimpleUploadedFile("ba.pdf", PDF)
        )


def test_minutes_pdf_and_no_nik(cast, desa, agenda_items):
    _, _, person = agenda_items
    meeting = _decided(cast, desa, agenda_items)
    stored = musdes.generate_minutes(meeting)
    with stored.open("rb") as fh:
        assert fh.read(4) == b"%PDF"

    html = musdes.minutes_html(meeting)
    assert "BERITA ACARA MUSYAWARAH KELURAHAN" in html
    assert "Bungus Barat" in html and "Bungus Teluk Kabung" in html and "Kota Padang" in html
    assert "hari Senin tanggal dua puluh tiga bulan November tahun dua ribu dua puluh enam" in html
    assert "Dewi Lestari" in html and "002/001" in html  # agreed: name, RT/RW
    assert person.name in html and "Masih tinggal di RT 01" in html  # rejected with reason
    assert "Andi Saputra" in html and "Ketua RT 01" in html
    # Data minimisation (domain.md §10.2): no NIK, no No KK anywhere in the BA.
    assert PAYLOAD_NIK not in html
    assert person.nik not in html
    assert person.family.no_kk not in html
    assert "1371010106150009" not in html


def test_desa_gets_musdes_wording(cast, desa, agenda_items):
    desa.kind = RegionKind.DESA
    desa.save()
    meeting = _decided(cast, desa, agenda_items)
    html = musdes.minutes_html(meeting)
    assert "BERITA ACARA MUSYAWARAH DESA" in html
    assert "Kepala Desa Bungus Barat" in html


def test_changing_attendance_drops_a_stale_minutes(cast, desa, agenda_items):
    meeting = _decided(cast, desa, agenda_items)
    musdes.generate_minutes(meeting)
    musdes.record_attendance(
        by=cast["operator_desa"], musdes=meeting, attendees=[*QUORUM, ("Eko", "PKK")]
    )
    meeting.refresh_from_db()
    assert not meeting.minutes_pdf
    with pytest.raises(MusdesError):
        musdes.upload_signed_minutes(
            by=cast["operator_desa"], musdes=meeting, file=SimpleUploadedFile("ba.pdf", PDF)
        )


# --- HTTP ------------------------------------------------------------------------------------


def test_http_round_trip(client, cast, desa, agenda_items):
    new, off, _ = agenda_items
    client.force_login(cast["operator_desa"])
    assert client.get(reverse("proposals:musdes_list")).status_code == 200
    response = client.post(
        reverse("proposals:musdes_plan"),
        {"desa": desa.digits, "held_on": "2026-11-23", "place": "Balai", "chair": "Andi"},
    )
    meeting = Musdes.objects.get()
    assert response.status_code == 302
    detail = reverse("proposals:musdes_detail", args=[meeting.pk])
    page = client.get(detail)
    assert page.status_code == 200
    assert "Dewi Lestari" in page.content.decode()
    assert PAYLOAD_NIK not in page.content.decode()

    data = {"hadir-TOTAL_FORMS": "4", "hadir-INITIAL_FORMS": "0"}
    for i, (name, position) in enumerate(QUORUM):
        data[f"hadir-{i}-name"], data[f"hadir-{i}-position"] = name, position
    url = reverse("proposals:musdes_attendance", args=[meeting.pk])
    assert client.post(url, data).status_code == 302

    url = reverse("proposals:musdes_decisions", args=[meeting.pk])
    assert client.post(url, {f"d_{new.pk}": "setuju"}).status_code == 422  # one missing
    response = client.post(url, {f"d_{new.pk}": "setuju", f"d_{off.pk}": "tolak"})
    assert response.status_code == 302

    response = client.post(reverse("proposals:musdes_minutes", args=[meeting.pk]))
    assert response.status_code == 302
    pdf = client.get(response["Location"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")

    url = reverse("proposals:musdes_upload", args=[meeting.pk])
    bad = client.post(url, {"file": SimpleUploadedFile("ba.pdf", b"GIF89a")})
    assert bad.status_code == 422
    assert "PDF, JPEG atau PNG" in bad.content.decode()
    assert client.post(url, {"file": SimpleUploadedFile("ba.pdf", PDF)}).status_code == 302
    new.refresh_from_db()
    assert new.status == Status.DISEPAKATI
    signed = client.get(reverse("proposals:musdes_signed", args=[meeting.pk]))
    assert signed.status_code == 200


def test_outsiders_get_404_and_viewers_cannot_record(client, cast, desa):
    meeting = _meeting(cast, desa)
    detail = reverse("proposals:musdes_detail", args=[meeting.pk])
    client.force_login(cast["outsider_kab"])
    assert client.get(detail).status_code == 404
    client.force_login(cast["enumerator"])
    assert client.get(detail).status_code == 404
    client.force_login(cast["operator_provinsi"])  # may view, not record
    assert client.get(detail).status_code == 200
    url = reverse("proposals:musdes_attendance", args=[meeting.pk])
    assert client.post(url, {"hadir-TOTAL_FORMS": "0", "hadir-INITIAL_FORMS": "0"}).status_code == (
        403
    )
    assert client.get(reverse("proposals:musdes_plan")).status_code == 403


def test_list_page_query_count_is_constant(client, cast, regions):
    client.force_login(cast["verifikator_kabkota"])
    counts = []
    for digits in ("1371011001", "1371011002", "1371021001"):
        musdes.plan_musdes(
            by=cast["verifikator_kabkota"],
            region=regions[digits],
            held_on=dt.date(2026, 11, 2),
            place="Balai",
            chair="Lurah",
        )
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("proposals:musdes_list")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[-1], counts
