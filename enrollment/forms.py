from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from enrollment import summary
from enrollment.models import EnrollmentStatus, FlagLevel
from newborns import validators
from newborns.forms import DATE_INPUT
from newborns.models import Segment, as_identity_number
from sejagad.forms import (
    AreaPeriodFilterMixin,
    BootstrapFormMixin,
    ListedModelChoiceField,
    RegionChoiceField,
    limit_regions_to_work_area,
)
from sejagad.models import Facility, Region
from sejagad.text import GuardedTextFormMixin

# Each list's name: its tab, its page title and heading (the export's file name is in exports.FILE_NAMES).
WORKLIST_CHOICES = [
    ("risiko", _("Bayi berisiko")),
    ("aktivasi", _("Perlu aktivasi ulang")),
    ("bpjs", _("NIK terbit, belum di BPJS")),
    ("dinsos", _("Calon PBI (Dinsos)")),
]
WORKLIST_TITLES = dict(WORKLIST_CHOICES)


class WorklistFilterForm(BootstrapFormMixin, AreaPeriodFilterMixin, forms.Form):
    """The worklist filters; the export takes the very same ones, so it holds exactly the rows on screen."""

    # Each list has its own address and menu entry; the field carries it to the export's link.
    kind = forms.ChoiceField(label=_("Daftar"), choices=WORKLIST_CHOICES, required=False, widget=forms.HiddenInput)
    q = forms.CharField(
        label=_("Cari"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Nama, NIK, nomor KK atau nomor JKN"), "type": "search"}),
    )
    kecamatan = RegionChoiceField(
        label=_("Kecamatan"), queryset=Region.objects.none(), required=False, empty_label=_("Semua kecamatan")
    )
    desa = RegionChoiceField(
        label=_("Desa/kelurahan"), queryset=Region.objects.none(), required=False, empty_label=_("Semua desa")
    )
    facility = ListedModelChoiceField(
        label=_("Fasilitas"), queryset=Facility.objects.none(), required=False, empty_label=_("Semua fasilitas")
    )
    segment = forms.ChoiceField(label=_("Segmen"), choices=[("", _("Semua segmen"))] + Segment.choices, required=False)
    level = forms.TypedChoiceField(
        label=_("Tingkat"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=[("", _("Semua tingkat"))] + [(c.value, c.label) for c in FlagLevel if c >= FlagLevel.PERHATIAN],
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Semua status"))] + EnrollmentStatus.choices, required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        area = limit_regions_to_work_area(self, user)
        self.fields["facility"].queryset = Facility.objects.filter(region__in=area, is_active=True)

    def read_pickers_once_per_version(self, today) -> None:
        """The kecamatan, desa and facility options shown, from the cache of the summary's version: a write to a
        region or a facility makes a new one (migration 0020). A Dinkes officer's page read its 212 options in
        three queries, 3 ms of its 20. What is submitted is still checked against the database."""
        pickers = ("kecamatan", "desa", "facility")
        key = ("worklist_pickers", get_language(), self.user.region_id, self.data.get("kecamatan", ""))

        def options():
            return {name: [(str(value), str(label)) for value, label in self.fields[name].choices] for name in pickers}

        for name, choices in summary.cached_under_version(today, key, options).items():
            self.fields[name].choices = choices

    def filters(self) -> dict:
        """The cleaned filters for ``selectors.worklist`` (an invalid form filters nothing out of scope)."""
        if not self.is_valid():
            return {"kind": "risiko"}
        data = self.given_filters()
        data.setdefault("kind", "risiko")
        return data

    def as_log(self) -> dict:
        """The filters as plain values, for the export log; a search only as its kind (the text may be a NIK)."""
        plain = {k: getattr(v, "pk", v) for k, v in self.filters().items()}
        if text := plain.pop("q", ""):
            plain["q"] = "(nomor)" if as_identity_number(text) else "(nama)"
        return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in plain.items()}


class EnrollmentForm(GuardedTextFormMixin, BootstrapFormMixin, forms.Form):
    segment = forms.ChoiceField(
        label=_("Segmen"), choices=[("", _("Belum diketahui"))] + Segment.choices, required=False
    )
    jkn_number = forms.CharField(
        label=_("Nomor kartu JKN bayi"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    status = forms.ChoiceField(label=_("Status kepesertaan"), choices=EnrollmentStatus.choices)
    registered_on = forms.DateField(label=_("Tanggal terdaftar"), required=False, widget=DATE_INPUT)
    nik_updated_on = forms.DateField(label=_("Tanggal NIK diperbarui di BPJS"), required=False, widget=DATE_INPUT)
    deactivated_on = forms.DateField(label=_("Tanggal nonaktif"), required=False, widget=DATE_INPUT)

    def clean_jkn_number(self):
        # ASCII digits before the service compares it with the recorded number.
        value = self.cleaned_data["jkn_number"]
        return validators.validate_jkn_number(value) if value else value


class ReconciliationUploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Berkas dari BPJS (CSV atau XLSX, paling besar 10 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
