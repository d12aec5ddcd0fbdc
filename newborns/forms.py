import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newborns import validators
from newborns.models import DocumentStatus, Newborn, Segment, Sex, working_in
from newborns.services import MOTHER_NAME_DIFFERS
from sejagad import selectors as core
from sejagad.forms import (
    AreaPeriodFilterMixin,
    BootstrapFormMixin,
    RegionChoiceField,
    add_service_errors,
    limit_regions_to_work_area,
)
from sejagad.models import Facility, Region, User
from sejagad.roles import Role
from sejagad.text import GuardedTextFormMixin

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class BirthForm(GuardedTextFormMixin, BootstrapFormMixin, forms.Form):
    confirm_numbers = forms.BooleanField(
        label=_("Saya sudah memeriksa: nomor ini memang tertulis demikian di dokumen"), required=False
    )
    mother_nik = forms.CharField(
        label=_("NIK ibu"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
    )
    mother_name = forms.CharField(label=_("Nama ibu"), max_length=100, help_text=_("Sesuai KTP"))
    kk_number = forms.CharField(
        label=_("Nomor KK"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Nomor HP keluarga"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    reminder_consent = forms.BooleanField(
        label=_("Ibu setuju menerima pengingat batas JKN lewat WhatsApp/SMS ke nomor ini"),
        required=False,
        help_text=_("Keluarga dapat berhenti kapan saja dengan membalas STOP."),
    )
    kecamatan = RegionChoiceField(label=_("Kecamatan domisili"), queryset=Region.objects.none(), required=False)
    desa = RegionChoiceField(label=_("Desa/kelurahan domisili"), queryset=Region.objects.none())
    birth_date = forms.DateField(label=_("Tanggal lahir"), widget=DATE_INPUT)
    birth_time = forms.TimeField(label=_("Jam lahir"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    sex = forms.ChoiceField(label=_("Jenis kelamin"), choices=Sex.choices, widget=forms.RadioSelect)
    birth_order = forms.IntegerField(
        label=_("Urutan kelahiran"),
        min_value=1,
        max_value=9,
        initial=1,
        help_text=_("1 untuk kelahiran tunggal; kembar: 1, 2, ..."),
    )
    weight_grams = forms.IntegerField(
        label=_("Berat lahir (gram)"), widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    length_cm = forms.DecimalField(
        label=_("Panjang lahir (cm)"), required=False, max_digits=4, decimal_places=1, min_value=20, max_value=70
    )
    facility = forms.ModelChoiceField(
        label=_("Tempat lahir"),
        queryset=Facility.objects.none(),
        required=False,
        empty_label=_("Di rumah (bukan di fasilitas)"),
    )
    mother_jkn_number = forms.CharField(
        label=_("Nomor kartu JKN ibu"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    mother_jkn_segment = forms.ChoiceField(
        label=_("Segmen JKN ibu"), required=False, choices=[("", _("Belum/tidak tahu"))] + Segment.choices
    )
    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    confirm_mother_name = forms.BooleanField(
        label=_("Benar, nama ibu ini yang sesuai KTP: ubah nama ibu untuk semua bayinya"), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.needs_confirmation = False
        self.needs_name_confirmation = False
        area = core.work_area(user)
        self.fields["kecamatan"].queryset = area.kecamatan()
        self.fields["desa"].queryset = area.desa().select_related("parent").order_by("parent__name", "name")
        if user.role == Role.BIDAN:
            self.fields["facility"].queryset = Facility.objects.filter(pk=user.facility_id)
        else:
            facilities = Facility.objects.filter(is_active=True)
            self.fields["facility"].queryset = facilities.filter(region__in=area)
        self.fields["facility"].initial = user.facility_id
        self.fields["birth_date"].initial = timezone.localdate()
        self.fields["submission_key"].initial = uuid.uuid4()

    def desa_groups(self):
        """(kecamatan, [desa]) pairs for the grouped desa picker."""
        groups: dict[Region, list[Region]] = {}
        for desa in self.fields["desa"].queryset:
            groups.setdefault(desa.parent, []).append(desa)
        return sorted(groups.items(), key=lambda g: g[0].name)

    def _check_number(self, validator, value: str) -> str:
        """Run a number check; an unknown-kecamatan warning shows the confirmation box instead of failing hard."""
        try:
            return validator(value, confirmed=bool(self.cleaned_data.get("confirm_numbers")))
        except ValidationError as exc:
            if exc.code == validators.UNKNOWN_KECAMATAN:
                self.needs_confirmation = True
            raise

    def clean_mother_nik(self):
        return self._check_number(validators.validate_mother_nik, self.cleaned_data["mother_nik"])

    def clean_kk_number(self):
        value = self.cleaned_data["kk_number"]
        return self._check_number(validators.validate_kk_number, value) if value else ""

    def clean_phone(self):
        return validators.normalize_phone(self.cleaned_data["phone"])

    def clean(self):
        data = super().clean()
        if data.get("reminder_consent") and "phone" in data and not data["phone"]:
            self.add_error("phone", _("Isi nomor HP keluarga agar pengingat dapat dikirim."))
        return data

    def clean_mother_jkn_number(self):
        value = self.cleaned_data["mother_jkn_number"]
        return validators.validate_jkn_number(value) if value else ""

    def clean_birth_date(self):
        return validators.validate_birth_date(self.cleaned_data["birth_date"])

    def clean_weight_grams(self):
        return validators.validate_weight(self.cleaned_data["weight_grams"])

    def show_service_errors(self, error: ValidationError) -> None:
        """A service's refusal beside its fields, opening the confirmation box a warning asks for."""
        add_service_errors(self, error)
        codes = {e.code for errors in getattr(error, "error_dict", {}).values() for e in errors}
        self.needs_confirmation |= bool(codes & validators.CONFIRMABLE)
        self.needs_name_confirmation |= MOTHER_NAME_DIFFERS in codes

    def _service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("kecamatan")
        data["confirmed"] = data.pop("confirm_numbers")
        return data

    def registration_kwargs(self) -> dict:
        attending = self.user if self.user.role == Role.BIDAN else None
        return self._service_kwargs() | {"attending_midwife": attending}


class CorrectionForm(BirthForm):
    """The birth form for a recorded baby: what was entered wrongly, with a reason; same checks."""

    given_name = forms.CharField(
        label=_("Nama bayi"), max_length=100, required=False, help_text=_("Isi setelah keluarga memberi nama.")
    )
    reason = forms.CharField(
        label=_("Alasan perbaikan"),
        max_length=200,
        required=False,
        help_text=_("Wajib bila mengubah data lahir atau ibu, mis. salah input saat mencatat."),
    )
    NOT_CORRECTED_HERE = (
        "kk_number",
        "phone",
        "reminder_consent",
        "mother_jkn_number",
        "mother_jkn_segment",
        "submission_key",
    )

    def __init__(self, *args, user, newborn, **kwargs):
        initial = {f: getattr(newborn, f) for f in ("sex", "birth_date", "birth_time", "birth_order", "weight_grams")}
        initial |= {
            "length_cm": newborn.length_cm,
            "given_name": newborn.given_name,
            "desa": newborn.desa_id,
            "kecamatan": newborn.desa.parent_id,
            "facility": newborn.facility_id,
            "mother_nik": newborn.mother.nik,
            "mother_name": newborn.mother.name,
        }
        super().__init__(*args, user=user, initial=initial, **kwargs)
        for name in self.NOT_CORRECTED_HERE:
            del self.fields[name]
        self.fields["birth_date"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean_birth_date(self):
        # A birth recorded long ago may be corrected; the service checks the new date.
        return self.cleaned_data["birth_date"]

    def correction_kwargs(self) -> dict:
        return self._service_kwargs()


class ReasonForm(GuardedTextFormMixin, BootstrapFormMixin, forms.Form):
    """Voiding or restoring a record: the reason is kept in its history."""

    reason = forms.CharField(
        label=_("Alasan"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("mis. data uji, atau tercatat dua kali di dua fasilitas")}),
    )


class DocumentsForm(GuardedTextFormMixin, BootstrapFormMixin, forms.Form):
    needs_confirmation = False  # set by the view when the service warns of an unknown kecamatan

    kk_added_on = forms.DateField(label=_("Tanggal masuk KK"), required=False, widget=DATE_INPUT)
    akta_number = forms.CharField(label=_("Nomor akta kelahiran"), max_length=50, required=False)
    akta_issued_on = forms.DateField(label=_("Tanggal akta terbit"), required=False, widget=DATE_INPUT)
    nik = forms.CharField(
        label=_("NIK bayi"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    nik_issued_on = forms.DateField(label=_("Tanggal NIK terbit"), required=False, widget=DATE_INPUT)
    confirm_numbers = forms.BooleanField(
        label=_("Saya sudah memeriksa: nomor ini memang tertulis demikian di dokumen"), required=False
    )


class NewbornFilterForm(BootstrapFormMixin, AreaPeriodFilterMixin, forms.Form):
    q = forms.CharField(
        label=_("Cari"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Nama ibu, nama sementara atau NIK"), "type": "search"}),
    )
    kecamatan = RegionChoiceField(
        label=_("Kecamatan"), queryset=Region.objects.none(), required=False, empty_label=_("Semua kecamatan")
    )
    desa = RegionChoiceField(
        label=_("Desa/kelurahan"), queryset=Region.objects.none(), required=False, empty_label=_("Semua desa")
    )
    status = forms.ChoiceField(
        label=_("Status dokumen"), required=False, choices=[("", _("Semua status"))] + DocumentStatus.choices
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        limit_regions_to_work_area(self, user)

    def filters(self) -> dict:
        """The cleaned filters for ``selectors.search_newborns``; an invalid form filters by nothing."""
        if not (self.is_bound and self.is_valid()):
            return {}
        return self.given_filters()


class IdentityAccessFilterForm(BootstrapFormMixin, forms.Form):
    """The access log's filters: one user (picked from the admin's region) or one baby (from its page)."""

    pengguna = forms.ModelChoiceField(
        label=_("Pengguna"), queryset=User.objects.none(), required=False, empty_label=_("Semua pengguna")
    )
    bayi = forms.ModelChoiceField(queryset=Newborn.objects.none(), required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        users = User.objects.order_by("username")
        if user.region_id:
            users = users.filter(working_in(user.region_id))
        self.fields["pengguna"].queryset = users
        self.fields["pengguna"].label_from_instance = lambda u: f"{u.get_full_name() or u.username} ({u.username})"
        self.fields["bayi"].queryset = Newborn.objects.within_reach_of(user)

    def filters(self) -> dict | None:
        """The chosen user and baby; None when a choice is not one this admin may pick."""
        if not self.is_bound:
            return {}
        if not self.is_valid():
            return None
        return {"by": self.cleaned_data["pengguna"], "newborn": self.cleaned_data["bayi"]}


class ReminderContactForm(GuardedTextFormMixin, BootstrapFormMixin, forms.Form):
    """The family's number and the mother's consent, changed on the baby's page (e.g. at KN1)."""

    phone = BirthForm.base_fields["phone"]
    reminder_consent = BirthForm.base_fields["reminder_consent"]

    def clean_phone(self):
        return validators.normalize_phone(self.cleaned_data["phone"])
