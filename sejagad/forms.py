from django import forms
from django.core.exceptions import ValidationError

from sejagad.selectors import work_area


class BootstrapFormMixin:
    """Bootstrap classes on every widget, and ``is-invalid`` on the fields that failed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] += " is-invalid"
                widget.attrs["aria-invalid"] = "true"


class RegionChoiceField(forms.ModelChoiceField):
    """A region picked by its name; the dotted code is the submitted value."""

    def label_from_instance(self, obj):
        return obj.name


def limit_regions_to_work_area(form: forms.Form, user):
    """Kecamatan and desa pickers hold the user's work area; the desa list follows the chosen kecamatan.
    Returns the area's regions for further pickers."""
    area = work_area(user)
    form.fields["kecamatan"].queryset = area.kecamatan()
    desa = area.desa()
    if kecamatan := form.data.get("kecamatan"):
        desa = desa.filter(parent_id=kecamatan)
    form.fields["desa"].queryset = desa
    return area


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal shown on the form: beside its field when the form has one, else at the top."""
    by_field = error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
    for field, messages in by_field:
        form.add_error(field if field in form.fields else None, messages)
