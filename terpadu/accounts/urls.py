from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from terpadu.accounts import views

app_name = "accounts"
urlpatterns = [
    path("masuk/", views.LoginView.as_view(), name="login"),
    # Django's LogoutView accepts POST only (the logout button in base.html is a form).
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("sandi/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "sandi/selesai/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("profil/", views.profile, name="profile"),
    path("pengguna/", views.user_list, name="user_list"),
    path("pengguna/baru/", views.user_create, name="user_create"),
    path("pengguna/<int:pk>/", views.user_detail, name="user_detail"),
    path("pengguna/<int:pk>/ubah/", views.user_edit, name="user_edit"),
    path("pengguna/<int:pk>/status/", views.user_set_active, name="user_set_active"),
    path("pengguna/<int:pk>/sandi/", views.user_reset_password, name="user_reset_password"),
]
