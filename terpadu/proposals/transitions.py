"""The proposal state machine as data (domain.md §3.8), walked exhaustively by the tests.

Each action names the statuses it leaves from, the status it goes to, the roles that may take
it and the route it must come through (`via`): most actions are taken on one proposal from its
page, but some only happen as part of a larger act — the musdes decision, the supervisor's QC
of a visit, the ratification of a kab/kota batch, pusat's integrity test, the determination —
so the generic action endpoint cannot shortcut those gates.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from terpadu.accounts.models import Role
from terpadu.proposals.models import Kind, Status

# Kinds a village must agree in musdes/muskel, and kinds that need a home visit (verivali).
NEEDS_MUSDES = frozenset({Kind.BARU, Kind.NONAKTIF, Kind.REAKTIVASI})
NEEDS_VERIVALI = frozenset({Kind.BARU, Kind.REAKTIVASI})

# Who may propose: village operators, kecamatan operators (assisting), and Dinsos kab/kota.
PROPOSER_ROLES = frozenset(
    {Role.OPERATOR_DESA, Role.OPERATOR_KECAMATAN, Role.VERIFIKATOR_KABKOTA, Role.ADMIN_KABKOTA}
)
KABKOTA_ROLES = frozenset({Role.VERIFIKATOR_KABKOTA, Role.ADMIN_KABKOTA})
SUPERVISOR_ROLES = frozenset(
    {Role.OPERATOR_KECAMATAN, Role.VERIFIKATOR_KABKOTA, Role.ADMIN_KABKOTA}
)
PROVINSI_ROLES = frozenset({Role.OPERATOR_PROVINSI, Role.ADMIN_PROVINSI})
PUSAT_ROLES = frozenset({Role.PUSAT})

ALL_KINDS = frozenset(Kind)
# Pusat may still return or reject an item it had accepted at intake (DITERIMA_PUSAT) when the
# national processing run (Dukcapil match, cross-matching) finds a problem before determination.


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[Status]
    target: Status
    roles: frozenset[str]
    label: str
    via: str = "proposal"  # proposal | musdes | assign | qc | batch | integrity | edition
    kinds: frozenset[Kind] = ALL_KINDS
    needs_note: bool = False


def _t(
    action: str,
    sources: set[Status],
    target: Status,
    roles: frozenset[str],
    label: str,
    **kw,  # type: ignore[no-untyped-def]
) -> tuple[str, Transition]:
    return action, Transition(action, frozenset(sources), target, roles, label, **kw)


S = Status
TRANSITIONS: dict[str, Transition] = dict(
    [
        _t(
            "submit",
            {S.DRAFT},
            S.MENUNGGU_MUSDES,
            PROPOSER_ROLES,
            _("Ajukan ke musdes"),
            kinds=NEEDS_MUSDES,
        ),
        _t(
            "submit_direct",
            {S.DRAFT},
            S.DIPERIKSA_DINSOS,
            PROPOSER_ROLES,
            _("Kirim ke Dinsos kab/kota"),
            kinds=ALL_KINDS - NEEDS_MUSDES,
        ),
        _t(
            "cancel",
            {S.DRAFT, S.MENUNGGU_MUSDES, S.DIKEMBALIKAN_KE_DESA},
            S.DIBATALKAN,
            PROPOSER_ROLES,
            _("Batalkan usulan"),
            needs_note=True,
        ),
        _t(
            "musdes_agree",
            {S.MENUNGGU_MUSDES},
            S.DISEPAKATI,
            PROPOSER_ROLES,
            _("Disepakati musdes"),
            via="musdes",
        ),
        _t(
            "musdes_reject",
            {S.MENUNGGU_MUSDES},
            S.DITOLAK_MUSDES,
            PROPOSER_ROLES,
            _("Ditolak musdes"),
            via="musdes",
        ),
        _t(
            "assign",
            {S.DISEPAKATI},
            S.VERIVALI,
            SUPERVISOR_ROLES | {Role.OPERATOR_DESA},
            _("Tugaskan verivali"),
            via="assign",
        ),
        _t(
            "send_to_dinsos",
            {S.DISEPAKATI},
            S.DIPERIKSA_DINSOS,
            PROPOSER_ROLES,
            _("Kirim ke Dinsos kab/kota"),
            kinds=ALL_KINDS - NEEDS_VERIVALI,
        ),
        _t(
            "verivali_positive",
            {S.VERIVALI},
            S.DIPERIKSA_DINSOS,
            SUPERVISOR_ROLES,
            _("Verivali diterima"),
            via="qc",
        ),
        _t(
            "verivali_negative",
            {S.VERIVALI},
            S.HASIL_NEGATIF,
            SUPERVISOR_ROLES,
            _("Verivali negatif"),
            via="qc",
        ),
        _t(
            "return_to_desa",
            {S.DIPERIKSA_DINSOS},
            S.DIKEMBALIKAN_KE_DESA,
            KABKOTA_ROLES,
            _("Kembalikan ke desa"),
            needs_note=True,
        ),
        _t(
            "resubmit",
            {S.DIKEMBALIKAN_KE_DESA},
            S.DIPERIKSA_DINSOS,
            PROPOSER_ROLES,
            _("Kirim ulang ke Dinsos"),
        ),
        _t(
            "approve",
            {S.DIPERIKSA_DINSOS},
            S.FINAL_KABKOTA,
            KABKOTA_ROLES,
            _("Setujui (final kab/kota)"),
        ),
        _t(
            "reject_kabkota",
            {S.DIPERIKSA_DINSOS},
            S.DITOLAK_KABKOTA,
            KABKOTA_ROLES,
            _("Tolak"),
            needs_note=True,
        ),
        _t(
            "ratify",
            {S.FINAL_KABKOTA},
            S.DISAHKAN,
            frozenset({Role.ADMIN_KABKOTA}),
            _("Disahkan bupati/wali kota"),
            via="batch",
        ),
        _t(
            "send_to_province",
            {S.DISAHKAN},
            S.DIKIRIM_PROVINSI,
            frozenset({Role.ADMIN_KABKOTA}),
            _("Kirim ke provinsi"),
            via="batch",
        ),
        _t(
            "forward",
            {S.DIKIRIM_PROVINSI},
            S.DIKIRIM_PUSAT,
            PROVINSI_ROLES,
            _("Teruskan ke pusat"),
            via="batch",
        ),
        _t(
            "receive",
            {S.DIKIRIM_PUSAT},
            S.PROSES_PUSAT,
            PUSAT_ROLES,
            _("Terima di pusat"),
            via="batch",
        ),
        _t(
            "accept",
            {S.PROSES_PUSAT},
            S.DITERIMA_PUSAT,
            PUSAT_ROLES,
            _("Terima (menunggu penetapan)"),
            via="integrity",
        ),
        _t(
            "return_to_kabkota",
            {S.PROSES_PUSAT, S.DITERIMA_PUSAT},
            S.DIKEMBALIKAN_KE_KABKOTA,
            PUSAT_ROLES,
            _("Kembalikan ke kab/kota"),
            needs_note=True,
        ),
        _t(
            "reject_pusat",
            {S.PROSES_PUSAT, S.DITERIMA_PUSAT},
            S.DITOLAK_PUSAT,
            PUSAT_ROLES,
            _("Tolak (pusat)"),
            needs_note=True,
        ),
        _t(
            "fix_kabkota",
            {S.DIKEMBALIKAN_KE_KABKOTA},
            S.DIPERIKSA_DINSOS,
            KABKOTA_ROLES,
            _("Perbaiki dan periksa ulang"),
        ),
        _t(
            "determine", {S.DITERIMA_PUSAT}, S.DITETAPKAN, PUSAT_ROLES, _("Tetapkan"), via="edition"
        ),
    ]
)


def actions_from(status: str, kind: str) -> list[Transition]:
    """Transitions that leave `status` for a proposal of `kind` (any role, any route)."""
    return [t for t in TRANSITIONS.values() if status in t.sources and kind in t.kinds]
