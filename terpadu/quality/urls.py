"""URLs of the quality app (mounted at /kualitas/)."""

from __future__ import annotations

app_name = "quality"
urlpatterns: list = []
