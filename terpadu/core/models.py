"""In-app notifications (returns, decisions), shown in the inbox and the top bar."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    message_id = models.CharField(_("pesan"), max_length=255)
    message_en = models.CharField(_("pesan (Inggris)"), max_length=255)
    link = models.CharField(_("tautan"), max_length=200, blank=True)
    at = models.DateTimeField(_("waktu"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("dibaca"), null=True, blank=True)

    class Meta:
        verbose_name = _("notifikasi")
        verbose_name_plural = _("notifikasi")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    @property
    def message(self) -> str:
        return self.message_en if (get_language() or "id").startswith("en") else self.message_id
