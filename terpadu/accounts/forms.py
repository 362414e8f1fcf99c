"""Forms for login (with lockout) and account management. They check input shape only; the
rules (who may give which role where) live in access.py and services.py."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from terpadu.accounts.access import client_ip, manageable_roles
from terpadu.accounts.models import Role, User
from terpadu.accounts.throttle import locked_for, record_attempt
from terpadu.regions.models import Region, to_digits


class ThrottledLoginMixin:
    """Refuse a login while its username + IP is locked; count each outcome (throttle.py)."""

    locked_message = _(
        "Terlalu banyak percobaan masuk yang gagal. Demi keamanan, akun ini dikunci sementara "
        "dari perangkat Anda. Coba lagi dalam %(minutes)d menit atau hubungi admin Anda."
    )

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""  # type: ignore[attr-defined]
        request = self.request  # type: ignore[attr-defined]
        ip = client_ip(request) if request is not None else None
        wait = locked_for(username, ip) if username else None
        if wait is not None:
            minutes = math.ceil(wait.total_seconds() / 60)
            raise ValidationError(self.locked_message % {"minutes": minutes}, code="locked")
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except ValidationError:
            if username:
                record_attempt(username, ip, succeeded=False)
            raise
        record_attempt(username, ip, succeeded=True)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The site login form."""


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The /admin/ login form: same lockout, so the admin is no side door for guessing."""


class RegionCodeField(forms.CharField):
    """A region typed by its code (``13.71.01.1001`` or ``1371011001``); empty = national.

    A plain text input on purpose: the tree has 83 k desa, too many for a <select>.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 13)
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", _("Kode Kemendagri, mis. 13.71.01.1001. Kosongkan untuk akun nasional.")
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Region | None:  # type: ignore[override]
        raw = super().clean(value)
        if not raw:
            return None
        digits = to_digits(raw)
        region = Region.objects.current().filter(digits=digits).first()
        if region is None:
            raise ValidationError(
                _("Kode wilayah %(code)s tidak ditemukan."), code="unknown", params={"code": raw}
            )
        return region


class UserForm(forms.Form):
    """Fields an admin fills in for an account; `role` choices depend on who is asking."""

    full_name = forms.CharField(label=_("Nama lengkap"), max_length=150)
    email = forms.EmailField(label=_("Surel"), required=False)
    phone = forms.CharField(label=_("Telepon"), max_length=20, required=False)
    role = forms.ChoiceField(label=_("Peran"))
    region = RegionCodeField(label=_("Kode wilayah tugas"))
    psks_number = forms.CharField(
        label=_("Nomor PSKS"),
        max_length=40,
        required=False,
        help_text=_("Untuk enumerator: nomor registrasi TKSK/PSM/pendamping."),
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "—")] + [
            (role.value, role.label) for role in manageable_roles(actor)
        ]


class UserCreateForm(UserForm):
    username = forms.RegexField(
        label=_("Nama pengguna"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        help_text=_("Satu akun untuk satu orang; huruf, angka dan . @ + - _ saja."),
    )
    field_order = ["username", "full_name", "email", "phone", "role", "region", "psks_number"]


class UserSearchForm(forms.Form):
    q = forms.CharField(label=_("Cari"), required=False, max_length=100)
    role = forms.ChoiceField(label=_("Peran"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Semua")), ("active", _("Aktif")), ("inactive", _("Nonaktif"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("Semua peran")), *Role.choices]
