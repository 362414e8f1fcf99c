"""`queries.filtered_proposals`: the list page's filters, shared with the proposals export."""

from __future__ import annotations

from typing import Any

import pytest

from terpadu.proposals.models import Kind, Status
from terpadu.proposals.queries import filtered_proposals

pytestmark = pytest.mark.django_db


def test_filters_by_status_kind_region_and_text(cast: dict[str, Any], make_proposal: Any) -> None:
    user = cast["verifikator_kabkota"]
    a = make_proposal(Kind.PERBAIKAN, Status.DRAFT, desa="1371011001", summary="Ganti alamat")
    b = make_proposal(Kind.NONAKTIF, Status.DRAFT, desa="1371021001", summary="Meninggal")
    solok = make_proposal(Kind.NONAKTIF, Status.DRAFT, desa="1372011001", summary="Meninggal")

    def ids(filters: dict[str, Any] | None) -> set[int]:
        return set(filtered_proposals(user, filters).values_list("pk", flat=True))

    assert ids(None) == ids({}) == {a.pk, b.pk}  # the scope, never Kota Solok
    assert solok.pk not in ids({"q": "meninggal"})
    assert ids({"kind": Kind.NONAKTIF}) == {b.pk}
    assert ids({"wilayah": "137101"}) == {a.pk}
    assert ids({"q": "alamat"}) == {a.pk}
    assert ids({"q": f"#{b.pk}"}) == {b.pk}
    assert ids({"status": Status.MENUNGGU_MUSDES}) == set()
    assert ids({"wilayah": "", "q": "", "kind": None}) == {a.pk, b.pk}  # empty = no filter
