"""URLs of the imports app (mounted at /impor/)."""

from __future__ import annotations

app_name = "imports"
urlpatterns: list = []
