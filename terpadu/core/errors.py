"""The one shape of a refusal that users read: a code, and the reason in Indonesian and English."""

from __future__ import annotations

from django.utils import translation


class BilingualError(Exception):
    """A refused request; `message` is the reason in the active language."""

    def __init__(self, code: str, message_id: str, message_en: str) -> None:
        super().__init__(message_id)
        self.code, self.message_id, self.message_en = code, message_id, message_en

    @property
    def message(self) -> str:
        lang = translation.get_language() or "id"
        return self.message_en if lang.startswith("en") else self.message_id
