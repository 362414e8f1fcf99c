"""URLs of the quality app (mounted at /kualitas/)."""

from __future__ import annotations

from django.urls import path

from terpadu.quality import views, views_pack

app_name = "quality"
urlpatterns = [
    path("", views.home, name="home"),
    path("proses/", views.run_start, name="run_start"),
    path("proses/<int:pk>/", views.run_progress, name="run"),
    path("nik-ganda/", views.group_list, name="groups"),
    path("nik-ganda/<int:pk>/", views.group_detail, name="group"),
    path("tanda/", views.flag_list, name="flags"),
    path("tanda/<int:pk>/", views.flag_detail, name="flag"),
    path("daftar-rujukan/", views.reflist_list, name="reflists"),
    path("daftar-rujukan/<int:pk>/status/", views.reflist_toggle, name="reflist_toggle"),
    path("ringkasan/", views.summary, name="summary"),
    path("paket-provinsi/", views_pack.pack_page, name="pack"),
    path("paket-provinsi/xlsx/", views_pack.pack_xlsx, name="pack_xlsx"),
    path("paket-provinsi/kirim/", views_pack.pack_send, name="pack_send"),
    path("tugas/", views_pack.task_list, name="tasks"),
    path("tugas/<int:pk>/", views_pack.task_detail, name="task"),
]
