from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EditionsConfig(AppConfig):
    name = "terpadu.editions"
    verbose_name = _("Penetapan DTKS")
