from __future__ import annotations

app_name = "regions"
urlpatterns: list = []
