"""Input shapes for the desa/operator proposal pages. The rules live in creation.py and the
registry's validators; these forms only parse, and show the validators' messages in place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from terpadu.lib.fields import NIKField, NoKKField, recheck_nik
from terpadu.proposals.models import Kind, Status
from terpadu.regions.forms import RegionField
from terpadu.regions.models import Level
from terpadu.registry.codelists import DEFAULT_CODELIST, FIELD_VARIABLE, choices
from terpadu.registry.forms import region_options
from terpadu.registry.models import Family, Household, NonaktifReason, Person
from terpadu.registry.records import RecordIssue

BLANK = ("", "—")


def code_field(
    label: Any, codelist: str, variable: str, *, required: bool = False
) -> forms.TypedChoiceField:
    """A select over one code list variable (``3 – Anak``), cleaned to int or None."""
    options = [(code, f"{code} – {text}") for code, text in choices(codelist, variable)]
    return forms.TypedChoiceField(
        label=label,
        choices=[BLANK, *options],
        coerce=int,
        empty_value=None,
        required=required,
    )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)


class ProposalFilterForm(forms.Form):
    """List filters; every value optional, unknown values simply ignored (a shared link)."""

    q = forms.CharField(
        label=_("Cari"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("ringkasan, NIK, atau #nomor")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Semua status")), *Status.choices]
    )
    kind = forms.ChoiceField(
        label=_("Jenis"), required=False, choices=[("", _("Semua jenis")), *Kind.choices]
    )
    wilayah = forms.ChoiceField(label=_("Wilayah"), required=False, choices=[])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = region_options(user)
        if options:
            self.fields["wilayah"].choices = [("", _("Seluruh wilayah Anda")), *options]
        else:
            del self.fields["wilayah"]


# --- usulan baru -------------------------------------------------------------------------


class NewHouseholdForm(forms.Form):
    """Blok I of a new household plus its one family's No KK."""

    desa = RegionField(label=_("Desa/kelurahan"), level=Level.DESA)
    address = forms.CharField(label=_("Alamat"), max_length=255)
    rt = forms.CharField(label=_("RT"), max_length=4, required=False)
    rw = forms.CharField(label=_("RW"), max_length=4, required=False)
    sls_name = forms.CharField(label=_("Nama SLS/dusun"), max_length=80, required=False)
    no_kk = NoKKField(label=_("No KK"), required=False)
    active_registration = forms.BooleanField(
        label=_("Pendaftaran aktif (ditemukan oleh desa/musdes)"), required=False
    )
    reason = forms.CharField(
        label=_("Keterangan usulan"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Mengapa rumah tangga ini diusulkan (mis. hasil musdes, laporan warga)."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["desa"].limit_to_user(user)
        if getattr(user, "region", None) is not None and user.region.level == Level.DESA:
            self.fields["desa"].initial = user.region

    def household_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {k: data[k] for k in ("address", "rt", "rw", "sls_name") if data.get(k)}


class MemberForm(forms.Form):
    """One household member (Blok IV), fields named as the registry's Person columns."""

    name = forms.CharField(label=_("Nama"), max_length=120)
    nik = NIKField(label=_("NIK"), required=False)
    sex = forms.TypedChoiceField(
        label=_("Jenis kelamin"),
        choices=[BLANK, *choices(DEFAULT_CODELIST, "sex")],
        coerce=int,
        empty_value=None,
    )
    birth_place = forms.CharField(label=_("Tempat lahir"), max_length=80, required=False)
    birth_date = forms.DateField(label=_("Tanggal lahir"), required=False, widget=DateInput())
    relation_ruta = code_field(_("Hubungan dengan KRT"), DEFAULT_CODELIST, "relation")
    relation_kk = code_field(_("Hubungan dengan kepala keluarga"), DEFAULT_CODELIST, "relation")
    mother_name = forms.CharField(label=_("Nama ibu kandung"), max_length=120, required=False)
    marital_status = code_field(_("Status perkawinan"), DEFAULT_CODELIST, "marital_status")
    education_level = code_field(_("Jenjang pendidikan"), DEFAULT_CODELIST, "education_level")
    work_sector = code_field(_("Lapangan usaha"), DEFAULT_CODELIST, "work_sector")
    employment_status = code_field(
        _("Status kedudukan pekerjaan"), DEFAULT_CODELIST, "employment_status"
    )
    disability = code_field(_("Disabilitas"), DEFAULT_CODELIST, "disability")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        recheck_nik(self)  # sex/birth-date mismatch: warnings only
        return data

    def member_fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "DELETE" and v is not None}


class BaseMemberFormSet(forms.BaseFormSet):
    def kept_forms(self) -> list[MemberForm]:
        """Forms that make a member: filled in and not marked for deletion."""
        return [
            f
            for f in self.forms
            if f.has_changed() and not (self.can_delete and self._should_delete_form(f))
        ]


MemberFormSet = forms.formset_factory(
    MemberForm,
    formset=BaseMemberFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=30,
    validate_max=True,
    can_delete=True,
)
MEMBER_PREFIX = "art"


def add_member_data(data: Any) -> dict[str, Any]:
    """The posted data with one more (empty) member row: the no-JS "tambah anggota"."""
    copy = data.copy()
    key = f"{MEMBER_PREFIX}-TOTAL_FORMS"
    try:
        total = int(copy.get(key, "1"))
    except ValueError:
        total = 1
    copy[key] = str(min(total + 1, 30))
    return copy


def place_issues(
    issues: Iterable[RecordIssue],
    *,
    household_form: forms.Form,
    member_forms: list[MemberForm],
) -> list[str]:
    """Put each validator issue next to its field (member row by index); return the rest.

    Paths come from records: ``household.address``, ``families[0].no_kk``,
    ``families[0].members[2].nik``, ``families[0].members`` (whole-family problems).
    """
    rest: list[str] = []
    for issue in issues:
        if issue.severity != "error":
            continue
        path = issue.path
        if path.startswith("families[0].members[") and "]." in path:
            idx_text, field = path.removeprefix("families[0].members[").split("].", 1)
            idx = int(idx_text)
            if idx < len(member_forms) and field in member_forms[idx].fields:
                member_forms[idx].add_error(field, issue.message)
                continue
        field = path.rsplit(".", 1)[-1]
        if path.startswith(("household.", "families[0].")) and field in household_form.fields:
            household_form.add_error(field, issue.message)
            continue
        if path == "region":
            household_form.add_error("desa", issue.message)
            continue
        rest.append(issue.message)
    return rest


# --- perbaikan -----------------------------------------------------------------------------

CORRECTION_FIELDS: dict[type[models.Model], list[str]] = {
    Person: [
        "nik",
        "name",
        "sex",
        "birth_place",
        "birth_date",
        "relation_ruta",
        "relation_kk",
        "mother_name",
        "marital_status",
        "education_level",
        "work_sector",
        "employment_status",
        "occupation",
        "disability",
    ],
    Family: ["no_kk", "nuk"],
    Household: [
        "address",
        "rt",
        "rw",
        "sls_name",
        "building_tenure",
        "floor_area",
        "floor_type",
        "wall_type",
        "roof_type",
        "water_source",
        "lighting",
        "cooking_fuel",
        "toilet_use",
    ],
}


class CorrectionForm(forms.Form):
    """The correctable fields of one registry row, prefilled with its current values;
    `changes()` returns only what the user changed."""

    reason = forms.CharField(
        label=_("Alasan perbaikan"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sebutkan dokumen dasar perbaikan (mis. KK/KTP terbaru)."),
    )

    def __init__(self, *args: Any, target: models.Model, **kwargs: Any) -> None:
        self.target = target
        codelist = getattr(target, "codelist", "") or DEFAULT_CODELIST
        names = CORRECTION_FIELDS[type(target)]
        kwargs.setdefault("initial", {})
        for name in names:
            kwargs["initial"].setdefault(
                name, getattr(target, target._meta.get_field(name).attname)
            )
        super().__init__(*args, **kwargs)
        reason = self.fields.pop("reason")
        for name in names:
            self.fields[name] = self._field_for(name, codelist)
        self.fields["reason"] = reason
        self.field_names = names

    def _field_for(self, name: str, codelist: str) -> forms.Field:
        model_field = self.target._meta.get_field(name)
        label = model_field.verbose_name
        if name == "nik":
            return NIKField(label=label, required=False)
        if name == "no_kk":
            return NoKKField(label=label, required=False)
        variable = FIELD_VARIABLE.get(name)
        if variable and choices(codelist, variable):
            return code_field(label, codelist, variable, required=not model_field.null)
        field = model_field.formfield()
        if isinstance(model_field, models.DateField):
            field.widget = DateInput()
        field.required = False if model_field.blank else field.required
        return field

    def changes(self) -> dict[str, Any]:
        """{field: new value} for the fields the user changed (blank = cleared)."""
        return {
            name: self.cleaned_data.get(name)
            for name in self.field_names
            if name in self.changed_data
        }


def correction_initial(proposal_payload: dict[str, Any]) -> dict[str, Any]:
    """Initial values for editing a correction: the proposed values over the current ones."""
    return dict(proposal_payload.get("changes", {}))


# --- nonaktif / reaktivasi / pindah -------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (possibly empty)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf"})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class DeactivationForm(forms.Form):
    reason_code = forms.ChoiceField(
        label=_("Alasan nonaktif"), choices=[BLANK, *NonaktifReason.choices]
    )
    reason = forms.CharField(label=_("Keterangan"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = MultipleFileField(
        label=_("Bukti (PDF/JPG/PNG, maks. 5 MB per berkas)"),
        help_text=_("Wajib untuk alasan meninggal dan pindah."),
    )


class ReactivationForm(forms.Form):
    reason = forms.CharField(
        label=_("Alasan pengaktifan kembali"), widget=forms.Textarea(attrs={"rows": 3})
    )


class MoveForm(forms.Form):
    # Any current desa: the household may move to another kab/kota or province; the
    # destination's own operators answer the consent request.
    destination = RegionField(label=_("Desa/kelurahan tujuan"), level=Level.DESA)
    reason = forms.CharField(label=_("Alasan pemindahan"), widget=forms.Textarea(attrs={"rows": 3}))


class RevisionNoteForm(forms.Form):
    """The answer to a return note, kept on the timeline and in the comments thread."""

    note = forms.CharField(
        label=_("Tanggapan/catatan perubahan"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- on the proposal page -------------------------------------------------------------------


class ActionForm(forms.Form):
    note = forms.CharField(
        label=_("Catatan"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Komentar"), widget=forms.Textarea(attrs={"rows": 3}))


class ConsentForm(forms.Form):
    agreed = forms.TypedChoiceField(
        label=_("Keputusan wilayah tujuan"),
        choices=[("1", _("Setuju menerima")), ("0", _("Tidak setuju"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Catatan"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Wajib bila tidak setuju."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("agreed") is False and not (data.get("note") or "").strip():
            raise ValidationError(_("Penolakan memerlukan alasan."))
        return data
