"""A few demo proposals at different stages, so a fresh `make run` shows every queue at work.

Made through the real creation and workflow functions (never by setting a status), by the
demo accounts of Kota Padang; skipped when any proposal exists already.
"""

from __future__ import annotations

from terpadu.accounts.models import User
from terpadu.proposals import creation
from terpadu.proposals.models import Proposal
from terpadu.proposals.workflow import transition
from terpadu.registry.models import NonaktifReason, Person, RecordStatus


def seed_demo_proposals() -> int:
    """Create the demo proposals; returns how many (0 when proposals or demo users are missing)."""
    if Proposal.objects.exists():
        return 0
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["operator_desa", "verifikator_kabkota"])
    }
    desa_op, verifikator = users.get("operator_desa"), users.get("verifikator_kabkota")
    if desa_op is None or verifikator is None:
        return 0
    people = list(
        Person.objects.filter(region_code=desa_op.scope, status=RecordStatus.AKTIF)
        .exclude(birth_place="")
        .order_by("pk")[:5]
    )
    if len(people) < 5:
        return 0
    waiting, returned, approved, draft, to_musdes = people

    def correct(person: Person, reason: str) -> Proposal:
        return creation.propose_correction(
            by=desa_op,
            target=person,
            changes={"birth_place": f"{person.birth_place} (dikoreksi)"},
            reason=reason,
        )

    p = correct(waiting, "Tempat lahir tidak sesuai KK (demo).")
    transition(p, "submit_direct", by=desa_op)  # waits for the verifikator

    p = correct(returned, "Perbaikan tempat lahir (demo).")
    transition(p, "submit_direct", by=desa_op)
    transition(
        p,
        "return_to_desa",
        by=verifikator,
        note="Mohon lampirkan scan KK terbaru sebagai bukti (demo).",
    )  # back at the desa, with a notification

    p = correct(approved, "Tempat lahir salah ketik (demo).")
    transition(p, "submit_direct", by=desa_op)
    transition(p, "approve", by=verifikator)  # ready for the admin's monthly batch

    correct(draft, "Draf perbaikan (demo).")  # still a draft

    p = creation.propose_deactivation(
        by=desa_op,
        target=to_musdes,
        reason_code=NonaktifReason.TIDAK_LAYAK,
        reason="Keluarga sudah mampu: memiliki usaha dengan omzet besar (demo).",
    )
    transition(p, "submit", by=desa_op)  # on the next musdes agenda
    return 5
