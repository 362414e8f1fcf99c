"""Version tables mirror the registry columns and are filled by one INSERT … SELECT."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from terpadu.editions.models import PersonVersion
from terpadu.editions.versions import VERSION_OF, copy_versions, data_columns
from terpadu.registry.models import Person
from terpadu.registry.tests import conftest as registry_fixtures

# Shared fixtures from the registry and proposals tests.
make_household = registry_fixtures.make_household


@pytest.mark.parametrize("model", list(VERSION_OF))
def test_version_has_the_registry_columns(model: Any) -> None:
    registry = {f.column for f in model._meta.concrete_fields} - {"id"}
    assert set(data_columns(VERSION_OF[model])) == registry


@pytest.mark.django_db
def test_copy_is_one_statement_and_exact(make_household: Any) -> None:
    people = list(make_household(3).members.all()) + list(make_household(4).members.all())
    ids = [p.pk for p in people]
    with CaptureQueriesContext(connection) as ctx:
        assert copy_versions(Person, ids, "2026-03") == 7
    assert len(ctx.captured_queries) == 1
    copied = PersonVersion.objects.get(record=people[0])
    assert (copied.valid_from, copied.valid_to) == ("", "2026-03")
    for column in data_columns(PersonVersion):
        assert getattr(copied, column) == getattr(people[0], column), column
