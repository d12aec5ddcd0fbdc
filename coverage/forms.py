from django import forms
from django.utils.translation import gettext_lazy as _

from coverage.imports import max_upload_bytes
from coverage.models import ImportKind, validate_period
from sejagad.forms import BootstrapFormMixin


class ImportForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Jenis data"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("Berkas CSV atau XLSX"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    period = forms.CharField(
        label=_("Periode bawaan"),
        required=False,
        max_length=7,
        validators=[validate_period],
        help_text=_("Mis. 2024-S2. Wajib bila berkas tidak memiliki kolom periode."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = max_upload_bytes() // 1024 // 1024
        self.fields["file"].help_text = _("Paling besar %(limit)s MB. Format kolom: lihat berkas contoh.") % {
            "limit": limit
        }

    def clean_period(self):
        return self.cleaned_data["period"].strip().upper()
