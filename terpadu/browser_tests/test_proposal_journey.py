"""The proposal journeys of issue 4, clicked through as the users would in Chromium.

1. A new family from the village travels the whole path: operator desa → musdes (attendance,
   decision, berita acara, signed scan) → verivali assignment → enumerator's visit → QC →
   verifikator kab/kota (bulk approve) → admin kab/kota's batch and signed letter → province →
   pusat (receipt + integrity test) → accepted, waiting for determination.
2. The return-for-revision loop: a correction goes to Dinsos, comes back with a note, is
   edited by the village and approved.

Fixtures only create the region tree, the users and (for the loop) one registry household;
every step of the journeys is done through the pages.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone

from terpadu.browser_tests.proposal_steps import (
    download_pdf,
    proposal_id_from,
    switch_user,
    tiny_pdf,
    tiny_png,
)
from terpadu.lib.nik import compose_nik, compose_no_kk
from terpadu.registry import records

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

REGION6 = "137101"  # Kec. Bungus Teluk Kabung, Kota Padang
NEW_FAMILY = [
    # name, sex, birth date, relation to the household head / family head, marital status
    ("Rudi Hartono", 1, dt.date(1980, 3, 14), 1, 2),
    ("Yeni Marlina", 2, dt.date(1983, 7, 2), 2, 2),
    ("Fajar Hartono", 1, dt.date(2010, 11, 20), 3, 1),
]


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    """The cast of the journeys, with names as on their ID cards."""
    return {
        "desa": make_user("operator_desa", username="siti", first_name="Siti", last_name="Rahma"),
        "enum": make_user("enumerator", username="eko", first_name="Eko", last_name="Saputra"),
        "kec": make_user(
            "operator_kecamatan", username="kurnia", first_name="Kurnia", last_name="Sari"
        ),
        "verif": make_user(
            "verifikator_kabkota", username="vera", first_name="Vera", last_name="Anggraini"
        ),
        "admin": make_user("admin_kabkota", username="andi", first_name="Andi", last_name="Putra"),
        "prov": make_user(
            "operator_provinsi", username="putri", first_name="Putri", last_name="Ayu"
        ),
        "pusat": make_user("pusat", username="hendra", first_name="Hendra", last_name="Wijaya"),
    }


@pytest.fixture
def shot(request: pytest.FixtureRequest, page: Page):  # type: ignore[no-untyped-def]
    """shot("03-musdes") saves the whole page as test-results/journey-03-musdes.png."""
    out = Path(request.config.rootpath) / "test-results"
    out.mkdir(exist_ok=True)

    def take(step: str) -> Path:
        path = out / f"journey-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def _status(page: Page):  # type: ignore[no-untyped-def]
    """The status badge next to a proposal's heading."""
    return page.locator(".pagehead .badge").first


def _message(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("ul.messages")


def _no_template_noise(page: Page) -> None:
    """No raw template syntax, debug page or unrendered placeholders on the page."""
    body = page.locator("body").inner_text()
    for noise in ("{{", "{%", "Traceback", "TemplateSyntaxError", "None None"):
        assert noise not in body, f"{noise!r} on {page.url}"


def test_new_family_travels_from_village_to_ministry(
    page: Page,
    people,  # type: ignore[no-untyped-def]
    shot,  # type: ignore[no-untyped-def]
    settings,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    # Pusat's integrity test is a background task; run it in-process (the live server thread
    # reads the same settings object).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm questions
    png = tiny_png(tmp_path / "depan.png")
    signed_ba = tiny_pdf(tmp_path / "ba-ttd.pdf", "Berita acara ditandatangani")
    signed_letter = tiny_pdf(tmp_path / "surat-ttd.pdf", "Surat pengesahan ditandatangani")
    today = timezone.localdate()  # the app's "today" (Asia/Jakarta)

    # 1. Operator desa proposes a new household with one family of three ------------------------
    switch_user(page, "siti")
    page.locator(".mainnav").get_by_role("link", name="Usulan", exact=True).click()
    page.get_by_role("link", name="Buat usulan").click()
    page.get_by_role("link", name=re.compile("Usulan baru")).click()
    expect(page.locator("h1")).to_have_text("Usulan baru: rumah tangga")
    # The desa is the operator's own, already chosen.
    expect(page.locator("select[name=desa]").last).to_have_value("1371011001")
    add = page.get_by_role("button", name="+ Tambah anggota")
    add.click()
    add.click()
    expect(page.locator("fieldset.member")).to_have_count(3)

    page.fill("#id_address", "Jl. Raya Bungus No. 12")
    page.fill("#id_rt", "002")
    page.fill("#id_rw", "001")
    page.fill("#id_no_kk", compose_no_kk(REGION6, dt.date(2012, 1, 5), 7))
    for i, (name, sex, born, relation, marital) in enumerate(NEW_FAMILY):
        page.fill(f"#id_art-{i}-name", name)
        page.fill(f"#id_art-{i}-nik", compose_nik(REGION6, born, sex, 101 + i))
        page.select_option(f"#id_art-{i}-sex", str(sex))
        page.fill(f"#id_art-{i}-birth_place", "Padang")
        page.fill(f"#id_art-{i}-birth_date", born.isoformat())
        page.select_option(f"#id_art-{i}-relation_ruta", str(relation))
        page.select_option(f"#id_art-{i}-relation_kk", str(relation))
        page.select_option(f"#id_art-{i}-marital_status", str(marital))
    page.fill("#id_reason", "Keluarga nelayan, rumah semi permanen; dilaporkan ketua RT 002.")
    shot("01-form")
    page.get_by_role("button", name="Simpan sebagai draf").click()

    expect(page).to_have_url(re.compile(r"/usulan/\d+/$"))
    pk = proposal_id_from(page)
    expect(_message(page)).to_contain_text(f"Usulan #{pk} disimpan sebagai draf.")
    expect(_status(page)).to_have_text("Draf")
    members = page.locator("table.data").first.locator("tbody tr")
    expect(members).to_have_count(3)
    expect(members.first).to_contain_text("Rudi Hartono")
    page.get_by_role("button", name="Ajukan ke musdes").click()
    expect(_status(page)).to_have_text("Menunggu musdes/muskel")
    _no_template_noise(page)
    shot("02-submitted")

    # 2. Musdes: plan, attendance, decision, berita acara, signed scan --------------------------
    page.locator(".mainnav").get_by_role("link", name="Musdes").click()
    waiting = page.locator("section.card", has_text="menunggu musyawarah")
    expect(waiting).to_contain_text("Bungus Barat")
    waiting.get_by_role("link", name="Rencanakan").click()
    page.fill("#id_held_on", today.isoformat())
    page.fill("#id_place", "Kantor Lurah Bungus Barat")
    page.fill("#id_chair", "H. Darmawan")
    page.get_by_role("button", name="Simpan").click()
    expect(_message(page)).to_contain_text("Musyawarah direncanakan.")
    agenda = page.locator("#agenda")
    expect(agenda).to_contain_text("Rudi Hartono")
    expect(page.locator(".warnings")).to_contain_text("Kuorum belum terpenuhi")

    for i, (name, position) in enumerate(
        [("H. Darmawan", "Lurah"), ("Rina Wati", "Ketua RT 002"), ("Yusuf", "Tokoh masyarakat")]
    ):
        page.fill(f"#id_hadir-{i}-name", name)
        page.fill(f"#id_hadir-{i}-position", position)
    page.get_by_role("button", name="Simpan daftar hadir").click()
    expect(page.locator(".warnings")).to_contain_text("Kuorum terpenuhi")

    agenda.locator(f"input[name=d_{pk}][value=setuju]").check()
    agenda.locator(f"input[name=n_{pk}]").fill("Layak diusulkan")
    agenda.get_by_role("button", name="Simpan keputusan").click()
    expect(page.locator("h1 .badge")).to_have_text("Keputusan dicatat")

    name, data = download_pdf(page, page.get_by_role("button", name="Buat berita acara"), tmp_path)
    assert name.startswith("berita-acara-1371011001") and len(data) > 1000
    page.reload()
    expect(page.get_by_role("link", name="Unduh draf berita acara (PDF)")).to_be_visible()
    download_pdf(page, page.get_by_role("link", name="Unduh draf berita acara (PDF)"), tmp_path)
    page.locator("#berita-acara input[type=file]").set_input_files(str(signed_ba))
    shot("03-musdes")
    page.get_by_role("button", name="Unggah dan berlakukan keputusan").click()
    expect(_message(page)).to_contain_text("1 usulan disepakati, 0 ditolak")
    expect(page.locator("h1 .badge")).to_contain_text("Selesai")
    page.goto(f"/usulan/{pk}/")
    expect(_status(page)).to_have_text("Disepakati musdes")

    # 3. Operator kecamatan assigns the visit to the enumerator ---------------------------------
    switch_user(page, "kurnia")
    page.locator(".mainnav").get_by_role("link", name="Verivali").click()
    page.locator(f"#p{pk}").check()
    page.select_option("#id_enumerator", label="Eko Saputra (Bungus Barat)")
    page.fill("#id_due_on", (today + dt.timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Tugaskan usulan terpilih").click()
    expect(_message(page)).to_contain_text("1 usulan ditugaskan.")
    page.goto(f"/usulan/{pk}/")
    expect(_status(page)).to_have_text("Verivali lapangan")

    # 4. The enumerator visits: found (1), GPS typed in, front photo ----------------------------
    switch_user(page, "eko")
    page.locator(".mainnav").get_by_role("link", name="Tugas verivali").click()
    task = page.locator("article.card", has_text="Rudi Hartono")
    expect(task).to_contain_text("Bungus Barat")
    task.get_by_role("link", name="Isi hasil kunjungan").click()
    page.locator("input[name=result][value='1']").check()
    page.fill("#id_visited_on", today.isoformat())
    page.fill("#id_latitude", "-0.9512")
    page.fill("#id_longitude", "100.3543")
    page.fill("#id_respondent", "Yeni Marlina")
    page.locator("#id_photo_depan").set_input_files(str(png))
    shot("04-visit")
    page.get_by_role("button", name="Kirim hasil kunjungan").click()
    expect(page.locator(".messages li.success")).to_be_visible()
    _no_template_noise(page)

    # 5. The supervisor's QC accepts the visit ---------------------------------------------------
    switch_user(page, "kurnia")
    page.locator(".mainnav").get_by_role("link", name="Verivali").click()
    page.get_by_role("link", name="Antrean QC").click()
    visit = page.locator("article.card", has_text="Rudi Hartono")
    expect(visit).to_contain_text("-0.951200, 100.354300")  # GPS with a decimal point
    expect(visit.locator("img")).to_have_count(1)
    shot("05-qc")
    visit.get_by_role("button", name="Terima", exact=True).click()
    expect(page.locator(".messages li.success")).to_be_visible()
    page.goto(f"/usulan/{pk}/")
    expect(_status(page)).to_have_text("Diperiksa Dinsos kab/kota")

    # 6. Verifikator kab/kota approves in the review queue (bulk checkboxes) --------------------
    switch_user(page, "vera")
    page.locator(".mainnav").get_by_role("link", name="Pemeriksaan").click()
    current_tab = page.locator(".tabs a[aria-current=page]")
    expect(current_tab).to_have_text("Perlu diperiksa")
    expect(current_tab).not_to_have_css("color", "rgb(255, 255, 255)")  # readable on white
    row = page.locator("#queue tbody tr", has_text=f"#{pk}")
    expect(row).to_contain_text("Bungus Barat")
    row.get_by_label(f"Pilih usulan #{pk}").check()
    shot("06-queue")
    page.get_by_role("button", name="Setujui").click()
    expect(_message(page)).to_contain_text("1 disetujui, 0 dilewati")
    expect(page.locator("#queue")).not_to_contain_text(f"#{pk}")
    page.goto(f"/usulan/{pk}/")
    expect(_status(page)).to_have_text("Final kab/kota")

    # 7. Admin kab/kota finalises the batch, gets the letter signed and sends it on -------------
    switch_user(page, "andi")
    page.locator(".mainnav").get_by_role("link", name="Paket").click()
    page.get_by_role("link", name="Finalisasi paket bulan ini").click()
    expect(page.get_by_test_id("final-count")).to_have_text("1")
    page.locator("#id_confirm").check()
    page.get_by_role("button", name="Finalisasi dan buat surat pengesahan").click()
    expect(page).to_have_url(re.compile(r"/usulan/paket/\d+/$"))
    batch_url = page.url
    name, _ = download_pdf(
        page, page.get_by_role("link", name="Unduh draf surat pengesahan"), tmp_path
    )
    assert name.startswith("surat-pengesahan-1371-")
    page.fill("#id_letter_number", "400.9/123/Dinsos-2025")
    page.fill("#id_signatory", "Fadly Amran")
    page.locator("#id_file").set_input_files(str(signed_letter))
    page.get_by_role("button", name="Unggah dan sahkan").click()
    expect(_message(page)).to_contain_text("Surat pengesahan bertanda tangan tersimpan.")
    expect(page.get_by_test_id("batch-status")).to_have_text(re.compile("Disahkan", re.I))
    page.get_by_role("button", name="Kirim ke provinsi").click()
    expect(_message(page)).to_contain_text("Paket dikirim ke provinsi.")
    shot("07-batch")

    # 8. The province sees the batch, annotates and forwards it ---------------------------------
    switch_user(page, "putri")
    page.locator(".mainnav").get_by_role("link", name="Provinsi").click()
    batch_row = page.locator("section[aria-labelledby=batches-h] tbody tr", has_text="Kota Padang")
    expect(batch_row).to_have_count(1)
    batch_row.get_by_role("link").first.click()
    expect(page).to_have_url(batch_url)
    page.fill("#id_note", "Lengkap; surat pengesahan sesuai.")
    page.get_by_role("button", name="Simpan catatan").click()
    expect(page.locator("dl.facts")).to_contain_text("Lengkap; surat pengesahan sesuai.")
    page.get_by_role("button", name="Teruskan ke pusat").click()
    expect(page.locator(".messages li.success")).to_be_visible()
    shot("08-province")

    # 9. Pusat receives; the integrity test accepts the family -----------------------------------
    switch_user(page, "hendra")
    page.locator(".mainnav").get_by_role("link", name="Pusat").click()
    incoming = page.locator("section[aria-labelledby=in-h] tbody tr", has_text="Kota Padang")
    incoming.get_by_role("button", name="Terima").click()
    expect(_message(page)).to_contain_text("uji integritas berjalan")
    results = page.locator("section[aria-labelledby=res-h] tbody tr", has_text="Kota Padang")
    expect(results.locator("td.num").first).to_have_text("1")  # accepted
    expect(results.locator("td.num").nth(1)).to_have_text("0")  # returned
    shot("09-pusat")
    page.goto(f"/usulan/{pk}/")
    expect(_status(page)).to_have_text("Diterima pusat (menunggu penetapan)")

    # The village operator sees it in her inbox and on the proposal.
    switch_user(page, "siti")
    expect(page.get_by_test_id("unread-badge")).to_be_visible()
    page.locator(".mainnav").get_by_role("link", name=re.compile("Kotak masuk")).click()
    notes = page.locator("ul.notifications")
    expect(notes).to_contain_text("1 usulan diterima pusat dan menunggu penetapan.")
    notes.get_by_role("link", name=re.compile("diterima pusat")).click()
    listed = page.locator("table.data tbody tr", has_text="Rudi Hartono")
    expect(listed).to_contain_text("Diterima pusat (menunggu penetapan)")
    listed.get_by_role("link", name=str(pk), exact=True).click()
    expect(_status(page)).to_have_text("Diterima pusat (menunggu penetapan)")
    timeline = page.locator("section.card", has_text="Riwayat")
    for step in ("Disepakati musdes", "Verivali diterima", "Setujui (final kab/kota)"):
        expect(timeline).to_contain_text(step)
    _no_template_noise(page)
    shot("10-accepted")


@pytest.fixture
def registry_household(people):  # type: ignore[no-untyped-def]
    """One active household in Bungus Barat whose head's birth place has a typo ("Padng")."""
    from terpadu.regions.models import Region

    born = dt.date(1975, 8, 9)
    head = {
        "name": "Budi Chaniago",
        "sex": 1,
        "birth_place": "Padng",
        "birth_date": born,
        "relation_kk": 1,
        "relation_ruta": 1,
        "nik": compose_nik(REGION6, born, 1, 55),
    }
    return records.create_household(
        by=people["admin"],
        region=Region.objects.get(digits="1371011001", valid_to__isnull=True),
        household_fields={"address": "Jl. Teluk Kabung 3", "rt": "001", "rw": "002"},
        families=[{"no_kk": compose_no_kk(REGION6, dt.date(2016, 2, 1), 55), "members": [head]}],
        reason="Data awal",
    )


def test_returned_correction_is_revised_by_the_village_and_approved(
    page: Page,
    people,  # type: ignore[no-untyped-def]
    registry_household,  # type: ignore[no-untyped-def]
    shot,  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import expect

    page.on("dialog", lambda dialog: dialog.accept())
    return_note = "Tempat lahir di KK terbaru tertulis Padang Pariaman, bukan Padang."

    # The village proposes a correction of the head's birth place and sends it to Dinsos.
    switch_user(page, "siti")
    page.locator(".mainnav").get_by_role("link", name="Usulan", exact=True).click()
    page.get_by_role("link", name="Buat usulan").click()
    page.fill("#id_q", "chaniago")
    page.get_by_role("button", name="Cari").click()
    found = page.locator("table.data tbody tr", has_text="Budi Chaniago")
    found.get_by_role("link", name="Perbaikan individu").click()
    expect(page.locator("#id_birth_place")).to_have_value("Padng")  # prefilled from registry
    page.fill("#id_birth_place", "Padang")
    page.fill("#id_reason", "Salah ketik; sesuai KK.")
    page.get_by_role("button", name="Simpan sebagai draf").click()
    pk = proposal_id_from(page)
    expect(_status(page)).to_have_text("Draf")
    diff = page.locator("section.card", has_text="Perbandingan dengan data registri")
    expect(diff.locator("tbody tr", has_text="Tempat lahir")).to_contain_text("Padng")
    expect(diff.locator("tbody tr", has_text="Tempat lahir")).to_contain_text("Padang")
    page.get_by_role("button", name="Kirim ke Dinsos kab/kota").click()
    expect(_status(page)).to_have_text("Diperiksa Dinsos kab/kota")
    shot("revision-01-sent")

    # The verifikator opens it from the queue and returns it with a note.
    switch_user(page, "vera")
    page.locator(".mainnav").get_by_role("link", name="Pemeriksaan").click()
    page.locator("#queue").get_by_role("link", name=f"#{pk}", exact=True).click()
    page.fill("#note-return_to_desa", return_note)
    page.get_by_role("button", name="Kembalikan ke desa").click()
    expect(_message(page)).to_contain_text(f"Usulan #{pk}: Kembalikan ke desa.")
    expect(_status(page)).to_have_text("Dikembalikan ke desa")

    # The village operator is told, finds the note and revises the proposed value.
    switch_user(page, "siti")
    expect(page.get_by_test_id("unread-badge")).to_have_text("1")
    page.locator(".mainnav").get_by_role("link", name=re.compile("Kotak masuk")).click()
    notes = page.locator("ul.notifications")
    expect(notes).to_contain_text("1 usulan Anda dikembalikan oleh Dinsos kab/kota")
    shot("revision-02-inbox")
    notes.get_by_role("link").first.click()
    returned = page.locator("table.data tbody tr", has_text="Budi Chaniago")
    expect(returned).to_contain_text("Dikembalikan ke desa")
    returned.get_by_role("link", name=str(pk), exact=True).click()
    timeline = page.locator("section.card", has_text="Riwayat")
    expect(timeline.locator("tbody tr").last).to_contain_text(return_note)
    expect(timeline.locator("tbody tr").last).to_contain_text("Vera Anggraini")
    shot("revision-03-returned")
    page.get_by_role("link", name="Ubah isi usulan").click()
    notice = page.get_by_test_id("returned-notice")
    expect(notice).to_contain_text("dikembalikan untuk diperbaiki")
    expect(notice).to_contain_text(return_note)
    expect(page.locator("#id_birth_place")).to_have_value("Padang")  # the proposed value
    page.fill("#id_birth_place", "Padang Pariaman")
    page.fill("#id_note", "Sudah disesuaikan dengan KK terbaru.")
    page.get_by_role("button", name="Simpan perubahan").click()
    expect(_message(page)).to_contain_text("Perubahan usulan disimpan.")
    expect(diff.locator("tbody tr", has_text="Tempat lahir")).to_contain_text("Padang Pariaman")
    thread = page.locator("#komentar article.comment").last
    expect(thread).to_contain_text("Sudah disesuaikan dengan KK terbaru.")
    expect(thread).to_contain_text("Siti Rahma Operator desa/kelurahan")  # role name, not code
    page.get_by_role("button", name="Kirim ulang ke Dinsos").click()
    expect(_status(page)).to_have_text("Diperiksa Dinsos kab/kota")
    _no_template_noise(page)
    shot("revision-04-resubmitted")

    # The verifikator approves the revised correction.
    switch_user(page, "vera")
    page.locator(".mainnav").get_by_role("link", name="Pemeriksaan").click()
    page.locator("#queue").get_by_label(f"Pilih usulan #{pk}").check()
    page.get_by_role("button", name="Setujui").click()
    expect(_message(page)).to_contain_text("1 disetujui, 0 dilewati")
    page.goto(f"/usulan/{pk}/")
    expect(_status(page)).to_have_text("Final kab/kota")
    expect(page.locator("section.card", has_text="Riwayat")).to_contain_text(
        "Kirim ulang ke Dinsos"
    )
    shot("revision-05-approved")
