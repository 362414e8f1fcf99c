from __future__ import annotations

from django.urls import path

from terpadu.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.search, name="search"),
    path("ruta/<int:pk>/", views.household_detail, name="household"),
    path("individu/<int:pk>/", views.person_detail, name="person"),
]
