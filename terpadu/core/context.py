"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def terpadu(request: HttpRequest) -> dict[str, Any]:
    return {"TERPADU_VERSION": "0.1.0", "LANGUAGES": settings.LANGUAGES}
