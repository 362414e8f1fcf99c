from __future__ import annotations

import pytest
from django.contrib import admin
from django.forms.models import model_to_dict

from terpadu.registry.models import Change, Person, PPKSType

pytestmark = pytest.mark.django_db


def _form(rf, user, person, **changes):  # type: ignore[no-untyped-def]
    model_admin = admin.site._registry[Person]
    request = rf.post("/")
    request.user = user
    form_class = model_admin.get_form(request, person, change=True)
    data = {
        k: ("" if v is None else v)
        for k, v in model_to_dict(person, fields=list(form_class.base_fields)).items()
    }
    data.update(changes)
    return model_admin, request, form_class(data, instance=person)


def test_admin_save_writes_history_with_reason(rf, admin_user, make_household):
    person = Person.objects.filter(household=make_household()).first()
    model_admin, request, form = _form(
        rf, admin_user, person, name="Budi Santoso", reason="Koreksi dari admin"
    )
    assert form.is_valid(), form.errors
    model_admin.save_model(request, form.save(commit=False), form, change=True)
    change = Change.objects.get(entity="person", entity_id=person.pk, action="update")
    assert change.diff["name"][1] == "Budi Santoso"
    assert change.changeset.source == "admin"
    assert change.changeset.reason == "Koreksi dari admin"
    assert Person.objects.get(pk=person.pk).name_norm == "BUDI SANTOSO"


def test_admin_requires_reason_and_valid_nik(rf, admin_user, make_household):
    person = Person.objects.filter(household=make_household()).first()
    _, _, form = _form(rf, admin_user, person, nik="12345", reason="")
    assert not form.is_valid()
    assert "reason" in form.errors and "nik" in form.errors


def test_reference_tables_only_pusat_edits(rf, cast):
    model_admin = admin.site._registry[PPKSType]
    request = rf.get("/")
    request.user = cast["admin_kabkota"]
    assert not model_admin.has_change_permission(request)
    request.user = cast["pusat"]
    assert model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_admin_queryset_is_scoped(rf, cast, make_household):
    make_household(2)
    make_household(1, desa="1372011001")
    request = rf.get("/")
    request.user = cast["admin_kabkota"]
    qs = admin.site._registry[Person].get_queryset(request)
    assert set(qs.values_list("region_code", flat=True)) == {"1371011001"}


def test_only_superusers_correct_registry_rows_in_admin(rf, cast, admin_user, make_household):
    """Issue 4 §9: the registry changes through determined proposals; the admin form is an
    audited superuser correction path only."""
    from django.contrib import admin as django_admin

    from terpadu.registry.models import Person

    hh = make_household(1)
    person = Person.objects.get(household=hh)
    model_admin = django_admin.site._registry[Person]
    request = rf.get("/")
    request.user = cast["admin_kabkota"]
    assert model_admin.has_view_permission(request, person)
    assert not model_admin.has_change_permission(request, person)
    request.user = admin_user
    assert model_admin.has_change_permission(request, person)
