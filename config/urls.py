"""URL map: each app owns its own urls.py."""

from __future__ import annotations

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("akun/", include("terpadu.accounts.urls")),
    path("wilayah/", include("terpadu.regions.urls")),
    path("registri/", include("terpadu.registry.urls")),
    path("usulan/", include("terpadu.proposals.urls")),
    path("penetapan/", include("terpadu.editions.urls")),
    path("impor/", include("terpadu.imports.urls")),
    path("kualitas/duplikat/", include("terpadu.dedup.urls")),
    path("kualitas/", include("terpadu.quality.urls")),
    path("", include("terpadu.core.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
