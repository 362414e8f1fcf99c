from __future__ import annotations

from django.urls import path, re_path

from terpadu.regions import views

app_name = "regions"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("cari", views.search, name="search"),
    # Only provinsi, kab/kota and kecamatan codes have children.
    re_path(r"^(?P<digits>\d{2}|\d{4}|\d{6})/anak$", views.children, name="children"),
    re_path(r"^(?P<digits>\d{2}|\d{4}|\d{6}|\d{10})/$", views.browse, name="region"),
]
