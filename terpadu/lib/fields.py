"""Form fields for NIK and No KK, running the same checks as imports (terpadu.lib.nik).

Errors become a ValidationError per broken rule (code = the rule's code), worded in the
active language. Warnings never block a save; after ``form.is_valid()`` they sit on the
field instance, ``form.fields["nik"].warnings`` (a list of :class:`~terpadu.lib.nik.Issue`),
and :func:`form_warnings` collects them as messages for a template. Django deep-copies
``base_fields`` for every form instance, so these lists are per form, not shared.

A field cannot see its siblings, so comparing the NIK with the recorded sex and birth date
is the form's job: call :func:`recheck_nik` from ``Form.clean()``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language

from terpadu.lib.nik import IdCheck, Issue, check_nik, check_no_kk

KnownPrefixes = Collection[str] | Callable[[], Collection[str]] | None


class _IdentityNumberField(forms.CharField):
    label_text: ClassVar[str]

    def __init__(self, *, known_prefixes: KnownPrefixes = None, **kwargs: Any) -> None:
        # An unknown NIK is legitimate (design §1a: nullable, never ''), so empty -> None.
        kwargs.setdefault("empty_value", None)
        kwargs.setdefault("label", self.label_text)
        super().__init__(**kwargs)
        # A callable lets a form load the region table lazily, once per request, not at import.
        self.known_prefixes = known_prefixes
        self.warnings: list[Issue] = []

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        # No maxlength: "3201 0101 9000 0001" is accepted and normalised.
        attrs.setdefault("inputmode", "numeric")
        attrs.setdefault("autocomplete", "off")
        attrs.setdefault("spellcheck", "false")
        return attrs

    def prefixes(self) -> Collection[str] | None:
        """The region codes to check against, resolving a lazy callable."""
        known = self.known_prefixes
        return known() if callable(known) else known

    def run_check(self, value: str) -> IdCheck:
        raise NotImplementedError

    def clean(self, value: Any) -> str | None:
        """Normalised 16-digit text, or None when empty and not required."""
        self.warnings = []
        value = self.to_python(value)
        self.validate(value)
        if value in self.empty_values:
            return self.empty_value
        result = self.run_check(value)
        self.warnings = result.warnings
        if not result.ok:
            language = get_language()
            raise ValidationError(
                [
                    ValidationError(issue.message(language), code=issue.code)
                    for issue in result.errors
                ]
            )
        self.run_validators(result.value)
        return result.value


class NIKField(_IdentityNumberField):
    """A NIK (domain.md §2.1)."""

    label_text = "NIK"

    def run_check(self, value: str) -> IdCheck:
        return check_nik(value, known_prefixes=self.prefixes())


class NoKKField(_IdentityNumberField):
    """A No KK (domain.md §2.2)."""

    label_text = "No KK"

    def run_check(self, value: str) -> IdCheck:
        return check_no_kk(value, known_prefixes=self.prefixes())


def recheck_nik(
    form: forms.BaseForm,
    *,
    nik_field: str = "nik",
    sex_field: str = "sex",
    birth_date_field: str = "birth_date",
) -> None:
    """From ``Form.clean()``: add sex/birth-date mismatch warnings to the NIK field.

    Mismatches stay warnings (a NIK is not re-issued when a birth date is corrected).
    Does nothing if the NIK is missing or already invalid.
    """
    nik = form.cleaned_data.get(nik_field)
    field = form.fields.get(nik_field)
    if not nik or not isinstance(field, NIKField):
        return
    sex = form.cleaned_data.get(sex_field)
    result = check_nik(
        nik,
        sex=int(sex) if sex not in (None, "") else None,
        birth_date=form.cleaned_data.get(birth_date_field),
        known_prefixes=field.prefixes(),
    )
    field.warnings = result.warnings


def form_warnings(form: forms.BaseForm) -> dict[str, list[str]]:
    """Warning messages of every NIK/No KK field, in the active language, by field name."""
    language = get_language()
    return {
        name: [issue.message(language) for issue in field.warnings]
        for name, field in form.fields.items()
        if isinstance(field, _IdentityNumberField) and field.warnings
    }
