"""Every write to an account goes through here and leaves a `UserEvent` row (style.md §2).

Views, the admin and the CLI call these functions; none of them saves a `User` directly.
Errors are `ValidationError`s with Indonesian source text (translated to English through the
.po catalogue) and a stable `code`, so forms can show them next to the right field.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from terpadu.accounts.access import can_edit_user, can_manage_user, region_fits_role
from terpadu.accounts.models import Role, User, UserEvent
from terpadu.regions.models import Level, Region, to_display

# Fields an admin may change, in the order they appear in a change record.
EDITABLE_FIELDS = ("first_name", "email", "phone", "psks_number", "role", "region")
# Admin roles get into /admin/ (scoped by ScopedAdminMixin); field roles do not need it.
STAFF_ROLES = frozenset({Role.ADMIN_KABKOTA, Role.ADMIN_PROVINSI, Role.PUSAT})
# No 0/O, 1/l/I: initial passwords are read aloud over the phone to village operators.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105


def generate_password(groups: int = 3, size: int = 4) -> str:
    """A random initial password such as ``k7Qm-9xTa-Hf3p`` (about 70 bits)."""
    return "-".join(
        "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(size)) for _ in range(groups)
    )


def change_value(field: str, value: Any) -> Any:
    """A JSON-safe, human-readable value for the change record."""
    if field == "region":
        return value.code if value is not None else None
    return value


def _check_role_region(role: str, region: Region | None) -> None:
    if role not in Role.values:
        raise ValidationError(_("Peran tidak dikenal: %(role)s.") % {"role": role}, code="role")
    if not region_fits_role(role, region):
        raise ValidationError(
            _("Peran %(role)s tidak sesuai dengan tingkat wilayah %(region)s.")
            % {"role": Role(role).label, "region": region or _("nasional")},
            code="region_level",
        )


def _ensure_can_assign(by: User, role: str, region: Region | None) -> None:
    _check_role_region(role, region)
    if not can_manage_user(by, role, region):
        raise ValidationError(
            _("Anda tidak berwenang memberi peran %(role)s di wilayah %(region)s.")
            % {"role": Role(role).label, "region": region or _("nasional")},
            code="not_allowed",
        )


def _ensure_can_edit(by: User, user: User) -> None:
    if by.pk == user.pk:
        raise ValidationError(
            _("Akun sendiri tidak dapat diubah di sini; gunakan halaman profil."), code="self"
        )
    if not can_edit_user(by, user):
        raise ValidationError(_("Anda tidak berwenang mengelola akun ini."), code="not_allowed")


def _insert_user(
    *,
    by: User | None,
    username: str,
    role: str,
    region: Region | None,
    password: str,
    fields: dict[str, Any],
    note: str = "",
) -> User:
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            _("Nama pengguna %(username)s sudah dipakai.") % {"username": username},
            code="username_taken",
        )
    user = User(username=username, role=role, region=region, created_by=by, **fields)
    user.set_password(password)
    user.save()
    changes = {f: [None, change_value(f, getattr(user, f))] for f in EDITABLE_FIELDS}
    changes = {f: v for f, v in changes.items() if v[1] not in (None, "")}
    UserEvent.objects.create(
        user=user, actor=by, kind=UserEvent.Kind.CREATED, changes=changes, note=note
    )
    return user


def create_user(
    *,
    by: User,
    username: str,
    role: str,
    region: Region | None,
    full_name: str = "",
    email: str = "",
    phone: str = "",
    psks_number: str = "",
    password: str | None = None,
) -> tuple[User, str]:
    """Create an account for a named person; return it with its initial password (shown once).

    Raises ValidationError unless `by` may hand out `role` in `region` (`can_manage_user`)
    and `region` is at the level the role requires (`ROLE_LEVELS`).
    """
    _ensure_can_assign(by, role, region)
    password = password or generate_password()
    is_staff = role in STAFF_ROLES
    fields = {
        "first_name": full_name.strip(),
        "email": email.strip(),
        "phone": phone.strip(),
        "psks_number": psks_number.strip(),
        "is_staff": is_staff,
    }
    with transaction.atomic():
        user = _insert_user(
            by=by, username=username, role=role, region=region, password=password, fields=fields
        )
    return user, password


def update_user(*, by: User, user: User, note: str = "", **changes: Any) -> User:
    """Change profile fields, role or region of `user`; records before → after.

    Accepts the keys in EDITABLE_FIELDS (`full_name` is an alias of `first_name`). A role or
    region change must itself pass `can_manage_user`.
    """
    if "full_name" in changes:
        changes["first_name"] = changes.pop("full_name")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    _ensure_can_edit(by, user)
    new_role = changes.get("role", user.role)
    new_region = changes.get("region", user.region)
    if new_role != user.role or new_region != user.region:
        _ensure_can_assign(by, new_role, new_region)
    diff: dict[str, list[Any]] = {}
    for field, value in changes.items():
        if isinstance(value, str):
            value = value.strip()
        before = getattr(user, field)
        if before != value:
            diff[field] = [change_value(field, before), change_value(field, value)]
            setattr(user, field, value)
    if not diff:
        return user
    with transaction.atomic():
        user.save()
        UserEvent.objects.create(
            user=user, actor=by, kind=UserEvent.Kind.UPDATED, changes=diff, note=note
        )
    return user


def set_user_active(*, by: User, user: User, active: bool, note: str = "") -> User:
    """Deactivate or reactivate an account. Accounts are never deleted: their id stays on every
    history row they wrote (audit trail)."""
    _ensure_can_edit(by, user)
    if user.is_active == active:
        return user
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        UserEvent.objects.create(
            user=user,
            actor=by,
            kind=UserEvent.Kind.REACTIVATED if active else UserEvent.Kind.DEACTIVATED,
            changes={"is_active": [not active, active]},
            note=note,
        )
    return user


def reset_password(*, by: User, user: User) -> str:
    """Give `user` a new random password (returned, to be shown once) and log that it happened."""
    _ensure_can_edit(by, user)
    password = generate_password()
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        UserEvent.objects.create(user=user, actor=by, kind=UserEvent.Kind.PASSWORD_RESET)
    return password


def record_own_password_change(*, user: User) -> None:
    """Log that a user changed their own password (the change itself is Django's form)."""
    UserEvent.objects.create(user=user, actor=user, kind=UserEvent.Kind.PASSWORD_CHANGED)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str  # "" for the superuser
    full_name: str
    level: Level | None  # where in the demo kab/kota's tree the account sits; None = national
    psks_number: str = ""


DEMO_ACCOUNTS = (
    DemoAccount("operator_desa", Role.OPERATOR_DESA, "Rina Operator Desa", Level.DESA),
    DemoAccount("enumerator", Role.ENUMERATOR, "Eko Enumerator", Level.DESA, "TKSK-{kab}-0001"),
    DemoAccount(
        "operator_kecamatan", Role.OPERATOR_KECAMATAN, "Kiki Operator Kecamatan", Level.KECAMATAN
    ),
    DemoAccount("verifikator_kabkota", Role.VERIFIKATOR_KABKOTA, "Vina Verifikator", Level.KABKOTA),
    DemoAccount("admin_kabkota", Role.ADMIN_KABKOTA, "Andi Admin Kab/Kota", Level.KABKOTA),
    DemoAccount(
        "operator_provinsi", Role.OPERATOR_PROVINSI, "Puti Operator Provinsi", Level.PROVINSI
    ),
    DemoAccount("admin_provinsi", Role.ADMIN_PROVINSI, "Budi Admin Provinsi", Level.PROVINSI),
    DemoAccount("pusat", Role.PUSAT, "Sari Pusdatin", None),
    DemoAccount("auditor", Role.AUDITOR, "Ahmad Auditor", None),
    DemoAccount("admin", "", "Administrator", None),
)


def demo_password(username: str) -> str:
    """The documented demo password: ``demo-<username>-2026``. Demo installations only."""
    return f"demo-{username}-2026"


def _demo_regions(kabkota_digits: str) -> dict[Level | None, Region]:
    current = Region.objects.current()
    try:
        kab = current.get(digits=kabkota_digits, level=Level.KABKOTA)
    except Region.DoesNotExist as exc:
        raise ValidationError(
            _("Kab/kota %(code)s tidak ada di data wilayah; muat data wilayah dulu.")
            % {"code": to_display(kabkota_digits)},
            code="no_region",
        ) from exc
    kec = current.within(kab.digits).filter(level=Level.KECAMATAN).order_by("digits").first()
    desa = (
        current.within(kec.digits).filter(level=Level.DESA).order_by("digits").first()
        if kec
        else None
    )
    prov = current.get(digits=kab.digits[:2], level=Level.PROVINSI)
    if kec is None or desa is None:
        raise ValidationError(
            _("Kab/kota %(code)s belum punya kecamatan dan desa/kelurahan.") % {"code": kab.code},
            code="no_region",
        )
    return {Level.DESA: desa, Level.KECAMATAN: kec, Level.KABKOTA: kab, Level.PROVINSI: prov}


def create_demo_accounts(*, kabkota_digits: str = "1371") -> list[tuple[str, str, str, str | None]]:
    """One demo account per role around one kab/kota (default Kota Padang), plus superuser `admin`.

    Returns (username, role, region code, password); the password is None for accounts that
    already existed, which are left untouched (so re-running never resets a changed password).
    """
    regions = _demo_regions(kabkota_digits)
    out: list[tuple[str, str, str, str | None]] = []
    with transaction.atomic():
        for spec in DEMO_ACCOUNTS:
            region = regions.get(spec.level) if spec.level else None
            existing = User.objects.filter(username=spec.username).first()
            if existing is not None:
                out.append(
                    (
                        spec.username,
                        existing.role,
                        existing.region.code if existing.region else "",
                        None,
                    )
                )
                continue
            password = demo_password(spec.username)
            _insert_user(
                by=None,
                username=spec.username,
                role=spec.role,
                region=region,
                password=password,
                note="demo",
                fields={
                    "first_name": spec.full_name,
                    "psks_number": spec.psks_number.format(kab=kabkota_digits),
                    "is_staff": spec.role
                    in ("", Role.ADMIN_KABKOTA, Role.ADMIN_PROVINSI, Role.PUSAT),
                    "is_superuser": spec.role == "",
                },
            )
            out.append((spec.username, spec.role, region.code if region else "", password))
    return out
