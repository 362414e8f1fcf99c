"""A region picker for any form: `RegionField` + cascading-select `RegionPickerWidget`.

Usage::

    class HouseholdForm(forms.Form):
        desa = RegionField(label=_("Desa/kelurahan"), level=Level.DESA)

        def __init__(self, *args, user, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["desa"].limit_to_user(user)

The widget renders one <select> per level (provinsi → kab/kota → kecamatan → desa), all
named after the field, plus a search box. The deepest chosen select wins (see
`value_from_datadict`), so the form needs no hidden field and works with the levels the
server pre-filled even without JavaScript. region-picker.js loads the next level from
``/wilayah/<kode>/anak`` and search results from ``/wilayah/cari`` (htmx fragments).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from terpadu.regions.models import DIGITS_BY_LEVEL, Level, Region, level_of, to_digits
from terpadu.regions.queries import children_of, narrower_prefix

# A region code typed as digits: provinsi, kab/kota, kecamatan or desa (no dots).
DIGITS_VALIDATOR = RegexValidator(
    r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{4})?)?)?$",
    _("Kode wilayah berupa 2, 4, 6 atau 10 angka tanpa titik."),
)

LEVEL_PLACEHOLDER = {
    Level.PROVINSI: _("— pilih provinsi —"),
    Level.KABKOTA: _("— pilih kabupaten/kota —"),
    Level.KECAMATAN: _("— pilih kecamatan —"),
    Level.DESA: _("— pilih desa/kelurahan —"),
}


def _width(level: int) -> int:
    return DIGITS_BY_LEVEL[Level(level)] if level else 0


class RegionPickerWidget(forms.Widget):
    """Cascading selects down to `max_level`, levels above `root` fixed to the root's path."""

    template_name = "regions/widgets/region_picker.html"

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        max_level: int = Level.DESA,
        root: str = "",
        required: bool = True,
    ) -> None:
        super().__init__(attrs)
        self.max_level = max_level
        self.root = root
        self.required = required

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str:
        # Every level's <select> carries the field name; the deepest chosen code is the value.
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        codes = [to_digits(str(v)) for v in values if v not in (None, "")]
        return max(codes, key=len, default="")

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def format_value(self, value: Any) -> str:
        if isinstance(value, Region):
            return value.digits
        if isinstance(value, int):
            return Region.objects.filter(pk=value).values_list("digits", flat=True).first() or ""
        return to_digits(str(value)) if value else ""

    def _fixed_levels(self) -> int:
        return sum(1 for level in Level if _width(level) <= len(self.root))

    def id_for_label(self, id_: str) -> str:
        first_open = min(self._fixed_levels() + 1, self.max_level)
        return f"{id_}_l{first_open}" if id_ else id_

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        selected = self.format_value(value)
        if selected and not selected.startswith(self.root):
            selected = ""  # a value outside the subtree is an error; show the subtree
        # Levels above the root are fixed: show them chosen even when the field is optional.
        path = selected or self.root
        fixed = {r.digits: r for r in _path_regions(self.root)}
        levels = []
        for level in Level:
            if level > self.max_level:
                break
            width = _width(level)
            if width <= len(self.root):
                options = [fixed[self.root[:width]]] if self.root[:width] in fixed else []
                enabled = True
            elif len(path) >= _width(level - 1):
                options = list(children_of(path[: _width(level - 1)]).within(self.root))
                enabled = True
            else:
                options, enabled = [], False
            levels.append(
                {
                    "level": int(level),
                    "label": level.label,
                    "placeholder": LEVEL_PLACEHOLDER[level],
                    "options": options,
                    "selected": path[:width] if len(path) >= width else "",
                    "fixed": width <= len(self.root),
                    "blank": not (width <= len(self.root) and self.required),
                    "enabled": enabled,
                    "id": f"{context['widget']['attrs'].get('id', name)}_l{int(level)}",
                }
            )
        context["widget"].update(
            {
                "levels": levels,
                "root": self.root,
                "max_level": self.max_level,
                "search_url": reverse("regions:search"),
                "children_url": reverse("regions:children", args=["00"]),
            }
        )
        return context

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        # The project's template engine (templates/regions/…), not the form renderer's,
        # which does not search the project templates directory by default.
        html = render_to_string(self.template_name, self.get_context(name, value, attrs))
        return mark_safe(html)  # noqa: S308 (rendered by the autoescaping template engine)


def _path_regions(digits: str) -> list[Region]:
    prefixes = [digits[: _width(level)] for level in Level if _width(level) <= len(digits)]
    return list(Region.objects.current().filter(digits__in=prefixes)) if prefixes else []


class RegionField(forms.Field):
    """A current `Region`, chosen with the picker or given by id (int) or code (str).

    `level` requires a region of that level; `within` restricts to a subtree (digits
    prefix); `limit_to_user(user)` further restricts to the user's scope. All three are
    checked here, server-side, whatever the browser sent.
    """

    widget = RegionPickerWidget
    default_error_messages = {
        "invalid": _("Kode wilayah tidak dikenal."),
        "retired": _("Wilayah %(region)s sudah tidak berlaku sejak %(date)s."),
        "level": _("Pilih %(level)s; %(region)s adalah %(kind)s."),
        "outside": _("Wilayah %(region)s tidak berada di %(root)s."),
        "outside_scope": _("Wilayah %(region)s berada di luar wilayah tugas Anda (%(root)s)."),
    }

    def __init__(
        self, *, level: int | None = None, within: str = "", scope: str = "", **kwargs: Any
    ) -> None:
        self.level = level
        self.within = to_digits(within)
        self.scope = scope
        super().__init__(**kwargs)
        self._sync_widget()

    def limit_to_user(self, user: Any) -> None:
        """Only regions inside `user`'s scope (empty scope = national)."""
        self.scope = getattr(user, "scope", "") or ""
        self._sync_widget()

    @property
    def root(self) -> str:
        # Disjoint within/scope leaves nothing to choose; fall back to `within` so the widget
        # shows the subtree and validation reports the scope clash.
        return narrower_prefix(self.within, self.scope) or self.within

    def _sync_widget(self) -> None:
        if isinstance(self.widget, RegionPickerWidget):
            self.widget.root = self.root
            self.widget.max_level = self.level or Level.DESA
            self.widget.required = self.required

    def __deepcopy__(self, memo: dict[int, Any]) -> RegionField:
        result = super().__deepcopy__(memo)
        result._sync_widget()
        return result  # type: ignore[return-value]

    def prepare_value(self, value: Any) -> Any:
        return value.digits if isinstance(value, Region) else value

    def to_python(self, value: Any) -> Region | None:
        if value in self.empty_values:
            return None
        if isinstance(value, Region):
            return value
        if isinstance(value, int):
            region = Region.objects.filter(pk=value).first()
        else:
            digits = to_digits(str(value))
            if level_of(digits) is None:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            # Prefer the current version; fall back to the latest retired one for a clear message.
            region = (
                Region.objects.filter(digits=digits)
                .order_by(F("valid_to").desc(nulls_first=True))
                .first()
            )
        if region is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return region

    def validate(self, value: Region | None) -> None:
        super().validate(value)
        if value is None:
            return
        label = f"{value.code} {value.name}"
        if value.valid_to is not None:
            raise ValidationError(
                self.error_messages["retired"],
                code="retired",
                params={"region": label, "date": value.valid_to.isoformat()},
            )
        if self.level is not None and value.level != self.level:
            raise ValidationError(
                self.error_messages["level"],
                code="level",
                params={
                    "level": Level(self.level).label,
                    "region": label,
                    "kind": value.get_kind_display(),
                },
            )
        if self.within and not value.digits.startswith(self.within):
            raise ValidationError(
                self.error_messages["outside"],
                code="outside",
                params={"region": label, "root": _root_label(self.within)},
            )
        if self.scope and not value.digits.startswith(self.scope):
            raise ValidationError(
                self.error_messages["outside_scope"],
                code="outside_scope",
                params={"region": label, "root": _root_label(self.scope)},
            )

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.widget.format_value(initial) != self.widget.format_value(data)


def _root_label(digits: str) -> str:
    region = Region.objects.current().filter(digits=digits).first()
    return region.full_name if region else digits
