"""URLs of the editions app (mounted at /penetapan/)."""

from __future__ import annotations

from terpadu.editions.views import dukcapil, editions, processing

app_name = "editions"
urlpatterns = [*editions.urlpatterns, *processing.urlpatterns, *dukcapil.urlpatterns]
