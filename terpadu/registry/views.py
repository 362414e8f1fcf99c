"""Registry pages: search (list), household detail and person detail.

Lists show masked NIKs (Action.LIST); detail pages are full records (Action.VIEW) and
every opening is written to the access log (domain.md §10.2).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from terpadu.accounts.access import Action, can, log_access, role_allows
from terpadu.core.htmx import render_page
from terpadu.lib.nik import mask_nik
from terpadu.registry import queries
from terpadu.registry.codelists import label_for
from terpadu.registry.forms import SearchForm

PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 20

HOUSING_FIELDS = [
    "building_tenure",
    "land_tenure",
    "floor_area",
    "floor_type",
    "wall_type",
    "wall_condition",
    "roof_type",
    "roof_condition",
    "bedrooms",
    "water_source",
    "water_acquisition",
    "water_customer_id",
    "lighting",
    "power_capacity",
    "pln_customer_id",
    "cooking_fuel",
    "gas_customer_id",
    "toilet_use",
    "toilet_type",
    "sewage",
]
ASSET_FIELDS = [
    "asset_gas_cylinder",
    "asset_fridge",
    "asset_ac",
    "asset_water_heater",
    "asset_landline",
    "asset_tv",
    "asset_gold",
    "asset_computer",
    "asset_bicycle",
    "asset_motorcycle",
    "asset_car",
    "asset_boat",
    "asset_outboard",
    "asset_motorboat",
    "asset_ship",
    "asset_smartphone",
    "asset_land",
    "land_area",
    "asset_other_house",
    "livestock_cattle",
    "livestock_buffalo",
    "livestock_horse",
    "livestock_pig",
    "livestock_goat",
    "has_business",
]


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Search persons in scope by NIK, No KK or name; NIKs masked in the list."""
    if not role_allows(request.user, Action.LIST):
        raise PermissionDenied
    form = SearchForm(request.GET or None, user=request.user)
    ctx: dict[str, Any] = {"form": form, "page": None, "notes": [], "not_found": ""}
    if form.is_bound and form.is_valid() and form.has_criteria:
        data = form.cleaned_data
        parsed = queries.parse_query(data["q"])
        ctx["notes"] = parsed.notes
        if parsed.ok:
            qs = queries.search_persons(
                request.user,
                q=parsed,
                status=data["status"] or None,
                region=data["wilayah"] or None,
            )
            ctx["page"] = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("hal"))
            if parsed.kind == "id" and not ctx["page"].object_list:
                ctx["not_found"] = _("NIK/No KK %(nik)s tidak ditemukan di wilayah Anda.") % {
                    "nik": mask_nik(parsed.value)
                }
    ctx["can_view"] = role_allows(request.user, Action.VIEW)
    return render_page(request, "registry/search.html", "registry/_results.html", ctx)


def _region_chain(region: Any) -> list[Any]:
    chain = []
    while region is not None:
        chain.append(region)
        region = region.parent
    return chain[::-1]


def _display_rows(obj: Any, names: list[str]) -> list[tuple[str, Any]]:
    """(label, shown value) for each field: code labels decoded, yes/no for booleans."""
    rows = []
    for name in names:
        field = obj._meta.get_field(name)
        value = getattr(obj, name)
        if value is None or value == "":
            shown: Any = "–"
        elif isinstance(value, bool):
            shown = _("Ya") if value else _("Tidak")
        elif field.get_internal_type() == "PositiveSmallIntegerField" and not name.startswith(
            ("livestock_", "bedrooms")
        ):
            shown = label_for(obj, name) or value
        else:
            shown = value
        rows.append((field.verbose_name, shown))
    return rows


@login_required
@require_GET
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Full household record (Blok I–V, members, programmes, status, history); logged."""
    household = queries.household_for_user(request.user, pk)
    log_access(
        request,
        action=Action.VIEW,
        entity="household",
        entity_id=household.pk,
        region_code=household.region_code,
    )
    members = list(household.members.all())
    families = list(household.families.all())
    for family in families:
        family.member_list = [m for m in members if m.family_id == family.pk]
    history = Paginator(queries.household_history(household), HISTORY_PAGE_SIZE)
    return render(
        request,
        "registry/household_detail.html",
        {
            "household": household,
            "families": families,
            "members": members,
            "chain": _region_chain(household.region),
            "housing": _display_rows(household, HOUSING_FIELDS),
            "assets": _display_rows(household, ASSET_FIELDS),
            "history": history.get_page(request.GET.get("hal")),
            "show_full": can(request.user, Action.VIEW, household.region_code),
        },
    )


@login_required
@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Full person record with family-membership history and change history; logged."""
    person = queries.person_for_user(request.user, pk)
    log_access(
        request,
        action=Action.VIEW,
        entity="person",
        entity_id=person.pk,
        region_code=person.region_code,
    )
    history = Paginator(queries.history_for("person", person.pk), HISTORY_PAGE_SIZE)
    return render(
        request,
        "registry/person_detail.html",
        {
            "person": person,
            "chain": _region_chain(person.household.region),
            "history": history.get_page(request.GET.get("hal")),
            "show_full": can(request.user, Action.VIEW, person.region_code),
        },
    )
