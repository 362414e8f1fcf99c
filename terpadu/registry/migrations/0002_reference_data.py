"""Seed the 26 PPKS types, 12 PSKS types (Permensos 8/2012, domain.md §5) and the national
programme catalogue. Re-runnable: rows are matched on `code` and brought up to date."""

from __future__ import annotations

from django.db import migrations

PPKS = [
    ("PPKS-01", "Anak Balita Terlantar", "ABT", "Neglected child under five"),
    ("PPKS-02", "Anak Terlantar", "AT", "Neglected child"),
    ("PPKS-03", "Anak Berhadapan dengan Hukum", "ABH", "Child in conflict with the law"),
    ("PPKS-04", "Anak Jalanan", "AJ", "Street child"),
    ("PPKS-05", "Anak dengan Kedisabilitasan", "ADK", "Child with disability"),
    (
        "PPKS-06",
        "Anak yang Menjadi Korban Tindak Kekerasan atau Diperlakukan Salah",
        "AKTK",
        "Child victim of violence/abuse",
    ),
    (
        "PPKS-07",
        "Anak yang Memerlukan Perlindungan Khusus",
        "AMPK",
        "Child needing special protection",
    ),
    ("PPKS-08", "Lanjut Usia Terlantar", "LUT", "Neglected elderly"),
    ("PPKS-09", "Penyandang Disabilitas", "PD", "Person with disability"),
    ("PPKS-10", "Tuna Susila", "TS", "Sex worker"),
    ("PPKS-11", "Gelandangan", "GLD", "Homeless person"),
    ("PPKS-12", "Pengemis", "PGM", "Beggar"),
    ("PPKS-13", "Pemulung", "PML", "Scavenger"),
    ("PPKS-14", "Kelompok Minoritas", "KM", "Minority group"),
    ("PPKS-15", "Bekas Warga Binaan Lembaga Pemasyarakatan", "BWBLP", "Ex-prisoner"),
    ("PPKS-16", "Orang dengan HIV/AIDS", "ODHA", "Person living with HIV/AIDS"),
    ("PPKS-17", "Korban Penyalahgunaan NAPZA", "NAPZA", "Victim of drug abuse"),
    ("PPKS-18", "Korban Trafficking", "KTR", "Trafficking victim"),
    ("PPKS-19", "Korban Tindak Kekerasan", "KTK", "Victim of violence"),
    ("PPKS-20", "Pekerja Migran Bermasalah Sosial", "PMBS", "Migrant worker with social problems"),
    ("PPKS-21", "Korban Bencana Alam", "KBA", "Natural-disaster victim"),
    ("PPKS-22", "Korban Bencana Sosial", "KBS", "Social-disaster (conflict) victim"),
    ("PPKS-23", "Perempuan Rawan Sosial Ekonomi", "PRSE", "Socio-economically vulnerable woman"),
    ("PPKS-24", "Fakir Miskin (Keluarga Fakir Miskin)", "FM/KFM", "Poor (family)"),
    (
        "PPKS-25",
        "Keluarga Bermasalah Sosial Psikologis",
        "KBSP",
        "Family with psychosocial problems",
    ),
    ("PPKS-26", "Komunitas Adat Terpencil", "KAT", "Remote indigenous community"),
]

PSKS = [
    ("PSKS-01", "Pekerja Sosial Profesional", "Certified professional social worker", "person"),
    ("PSKS-02", "Pekerja Sosial Masyarakat (PSM)", "Community social worker (volunteer)", "person"),
    ("PSKS-03", "Taruna Siaga Bencana (Tagana)", "Disaster-response volunteer (18–40 y)", "person"),
    ("PSKS-04", "Lembaga Kesejahteraan Sosial (LKS)", "Social-welfare organisation", "institution"),
    ("PSKS-05", "Karang Taruna", "Village youth organisation", "institution"),
    (
        "PSKS-06",
        "Lembaga Konsultasi Kesejahteraan Keluarga (LK3)",
        "Family-welfare counselling centre",
        "institution",
    ),
    ("PSKS-07", "Keluarga Pioner", "Pioneer family", "family"),
    (
        "PSKS-08",
        "Wahana Kesejahteraan Sosial Berbasis Masyarakat (WKSBM)",
        "Community-based welfare network",
        "institution",
    ),
    ("PSKS-09", "Wanita Pemimpin Kesejahteraan Sosial", "Women social-welfare leader", "person"),
    ("PSKS-10", "Penyuluh Sosial (fungsional & masyarakat)", "Social extension worker", "person"),
    (
        "PSKS-11",
        "Tenaga Kesejahteraan Sosial Kecamatan (TKSK)",
        "Sub-district social-welfare worker",
        "person",
    ),
    (
        "PSKS-12",
        "Dunia Usaha (yang melakukan UKS)",
        "Businesses doing social-welfare work (CSR)",
        "institution",
    ),
]

# National programmes (domain.md §1.5); regional ones are added per region by their admins.
PROGRAMS = [
    (
        "PKH",
        "Program Keluarga Harapan",
        "Family Hope Programme (conditional cash transfer)",
        "family",
    ),
    ("BPNT", "BPNT/Program Sembako", "Non-cash food assistance (Sembako)", "family"),
    (
        "PBI-JK",
        "Penerima Bantuan Iuran Jaminan Kesehatan (KIS)",
        "Health-insurance contribution assistance (JKN-KIS)",
        "person",
    ),
    ("BST", "Bantuan Sosial Tunai", "Social cash assistance", "family"),
    ("PIP", "Program Indonesia Pintar (KIP)", "Smart Indonesia Programme (school aid)", "person"),
    ("KKS", "Kartu Keluarga Sejahtera", "Family Welfare Card", "family"),
    ("RASTRA", "Beras Sejahtera (Raskin/Rastra)", "Subsidised rice", "family"),
    ("BPUM", "Banpres Produktif Usaha Mikro", "Micro-business presidential assistance", "person"),
    ("PRAKERJA", "Kartu Prakerja", "Pre-employment card", "person"),
    ("BLT-DD", "BLT Dana Desa", "Village-fund direct cash assistance", "family"),
]


def seed(apps, schema_editor):
    PPKSType = apps.get_model("registry", "PPKSType")
    PSKSType = apps.get_model("registry", "PSKSType")
    Program = apps.get_model("registry", "Program")
    for code, name, abbrev, name_en in PPKS:
        PPKSType.objects.update_or_create(
            code=code, defaults={"name": name, "abbrev": abbrev, "name_en": name_en}
        )
    for code, name, name_en, unit in PSKS:
        PSKSType.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "unit": unit}
        )
    for code, name, name_en, target in PROGRAMS:
        Program.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "target": target}
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    # Reversing keeps the rows: memberships may already point at them (PROTECT).
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
