"""URLs of the probabilistic duplicate detection app (mounted at /kualitas/duplikat/)."""

from __future__ import annotations

from django.urls import path

from terpadu.dedup import views

app_name = "dedup"
urlpatterns = [
    path("", views.home, name="home"),
    path("proses/<int:pk>/", views.run_detail, name="run"),
    path("antrean/", views.queue, name="queue"),
    path("antrean/massal/", views.bulk, name="bulk"),
    path("pasangan/<int:pk>/", views.pair_detail, name="pair"),
    path("pasangan/<int:pk>/sama/", views.decide_same, name="same"),
    path("pasangan/<int:pk>/berbeda/", views.decide_different, name="different"),
    path("pasangan/<int:pk>/nik/<int:person_pk>/", views.reveal_nik, name="reveal_nik"),
    path("periksa/", views.check_member, name="check_member"),
]
