"""URLs of the probabilistic duplicate detection app (mounted at /kualitas/duplikat/)."""

from __future__ import annotations

app_name = "dedup"
urlpatterns: list = []
