from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DedupConfig(AppConfig):
    name = "terpadu.dedup"
    verbose_name = _("Deteksi duplikat probabilistik")
