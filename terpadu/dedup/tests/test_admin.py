"""Dedup in the admin: read-only, scoped like the review queue, no N+1 on the pair list."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from terpadu.dedup import decisions
from terpadu.dedup.models import CandidatePair, DecisionEvent, DedupModel, DedupRun
from terpadu.dedup.tests.test_decisions import make_pairs

pytestmark = pytest.mark.django_db

MODELS = (DedupModel, DedupRun, CandidatePair, DecisionEvent)


def staff_client(user: Any) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    c = Client()
    c.force_login(user)
    return c


def _url(model: Any, view: str, *args: Any) -> str:
    return reverse(f"admin:dedup_{model._meta.model_name}_{view}", args=args)


def test_every_dedup_model_is_read_only(rf: Any, cast: Any, admin_user: Any) -> None:
    for user in (cast["verifikator_kabkota"], admin_user):
        request = rf.get("/")
        request.user = user
        for model in MODELS:
            model_admin = admin.site._registry[model]
            assert model_admin.has_view_permission(request)
            assert not model_admin.has_add_permission(request)
            assert not model_admin.has_change_permission(request)
            assert not model_admin.has_delete_permission(request)


def test_pair_list_is_scoped_on_both_persons_with_fixed_queries(
    cast: Any, regions: Any, django_assert_num_queries: Any
) -> None:
    padang = make_pairs(cast, regions, 3)
    solok = make_pairs(cast, regions, 2, desa="1372011001")
    # One person in Padang, the other in Solok: the Padang verifikator must not see it.
    mixed = CandidatePair.objects.create(
        person_a_id=padang[0].person_a_id,
        person_b_id=solok[0].person_b_id,
        region_code="1371011001",
        region_code_b="1372011001",
        probability=0.9,
        match_weight=5.0,
    )
    c = staff_client(cast["verifikator_kabkota"])
    url = _url(CandidatePair, "changelist")
    r = c.get(url)
    assert r.status_code == 200
    assert {p.pk for p in r.context["cl"].result_list} == {p.pk for p in padang}
    make_pairs(cast, regions, 3)
    with django_assert_num_queries(7):
        r = c.get(url)
    assert len(r.context["cl"].result_list) == 6
    # Outside the scope: 404-like redirect from the admin (the row does not exist for them).
    r = c.get(_url(CandidatePair, "change", mixed.pk))
    assert r.status_code == 302
    r = c.get(_url(CandidatePair, "change", padang[0].pk))
    assert r.status_code == 200 and b'name="_save"' not in r.content
    assert c.post(_url(CandidatePair, "change", padang[0].pk), {}).status_code == 403
    assert c.get(_url(CandidatePair, "add")).status_code == 403
    assert c.get(_url(CandidatePair, "delete", padang[0].pk)).status_code == 403


def test_decisions_runs_and_models_visible_in_scope(cast: Any, regions: Any) -> None:
    [pair] = make_pairs(cast, regions, 1)
    [solok_pair] = make_pairs(cast, regions, 1, desa="1372011001")
    decisions.decide_different(by=cast["verifikator_kabkota"], pair=pair, note="beda")
    decisions.decide_different(by=cast["outsider_kab"], pair=solok_pair, note="beda")
    model = DedupModel.objects.create(version=1, params={}, scope="")
    for user, scope in ((cast["verifikator_kabkota"], "1371"), (cast["outsider_kab"], "1372")):
        DedupRun.objects.create(scope=scope, region=regions[scope], started_by=user, model=model)
    c = staff_client(cast["verifikator_kabkota"])
    r = c.get(_url(DecisionEvent, "changelist"))
    assert [e.pair_id for e in r.context["cl"].result_list] == [pair.pk]
    r = c.get(_url(DedupRun, "changelist"))
    assert [run.scope for run in r.context["cl"].result_list] == ["1371"]
    r = c.get(_url(DedupModel, "changelist"))
    assert [m.version for m in r.context["cl"].result_list] == [1]


@pytest.mark.parametrize("role", ["operator_desa", "operator_kecamatan", "enumerator"])
def test_roles_without_the_queue_do_not_see_dedup_in_admin(cast: Any, role: str) -> None:
    c = staff_client(cast[role])
    for model in MODELS:
        assert c.get(_url(model, "changelist")).status_code == 403
    r = c.get(reverse("admin:index"))
    assert b"/admin/dedup/" not in r.content
