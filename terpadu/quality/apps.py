from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "terpadu.quality"
    verbose_name = _("Kualitas data")

    def ready(self) -> None:
        from terpadu.core.signals import registry_bulk_changed
        from terpadu.quality.jobs import on_registry_bulk_changed

        # After an import or an edition changed the registry in bulk, re-check that region.
        registry_bulk_changed.connect(on_registry_bulk_changed, dispatch_uid="quality_bulk_run")
