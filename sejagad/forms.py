import datetime

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from sejagad.models import Region
from sejagad.selectors import work_area


class QuickSelect(forms.Select):
    """``forms.Select`` writing its options in Python, to the same HTML: Django renders every ``<option>``
    through a template, and builds a dict of attributes for each, which for a worklist's 230 options cost
    more than the rest of the page."""

    def render(self, name, value, attrs=None, renderer=None):
        wanted, chosen = set(self.format_value(value)), False
        out = [format_html('<select name="{}"{}>', name, flatatt(self.build_attrs(self.attrs, attrs)))]
        for group, label in self.choices:
            options = label if isinstance(label, list | tuple) else [(group, label)]
            if options is label:
                out.append(format_html('<optgroup label="{}">', group))
            for option, text in options:
                option = "" if option is None else str(option)
                # As Django's: only the first option of the value is selected.
                selected = not chosen and option in wanted
                chosen |= selected
                out.append(f'<option value="{escape(option)}"{" selected" if selected else ""}>{escape(text)}</option>')
            if options is label:
                out.append("</optgroup>")
        out.append("</select>")
        return mark_safe("".join(out))


class ListedChoices(ModelChoiceIterator):
    """A model field's choices read in one query: Django's ``iterator()`` opens a server-side cursor, three round
    trips on PostgreSQL for a few hundred rows."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField):
    iterator = ListedChoices


class BootstrapFormMixin:
    """Bootstrap classes on every widget, and ``is-invalid`` on the fields that failed. A plain ``Select``
    becomes a ``QuickSelect`` (the same widget, rendered faster)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
                if type(widget) is forms.Select:
                    widget.__class__ = QuickSelect  # its state (choices, attrs, required) as it is
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


class RegionChoices(ListedChoices):
    """Code and name, read as plain pairs: a kabupaten's few hundred desa are not built as model instances."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.queryset.values_list("pk", "name")


class RegionChoiceField(ListedModelChoiceField):
    """A region picked by its name; the dotted code is the submitted value."""

    iterator = RegionChoices

    def label_from_instance(self, obj):
        return obj.name


def parse_month(value: str) -> datetime.date:
    """``YYYY-MM`` (as ``<input type=month>`` sends it) as the month's first day; ValueError otherwise."""
    year, month = (int(p) for p in value.split("-"))
    return datetime.date(year, month, 1)


class MonthField(forms.CharField):
    """A birth month written YYYY-MM (as ``<input type=month>`` sends it), cleaned to its first day."""

    widget = forms.TextInput(attrs={"type": "month"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return parse_month(value)
        except ValueError:
            raise ValidationError(_("Bulan ditulis TTTT-BB, mis. 2026-08."), code="month") from None


class AreaPeriodFilterMixin(forms.Form):
    """The region (any level, as the dashboard links it) and birth-month range every list shares with the
    dashboard, so a figure and the list it opens filter the very same babies."""

    wilayah = RegionChoiceField(queryset=Region.objects.none(), required=False, widget=forms.HiddenInput)
    dari = MonthField(label=_("Lahir dari"), required=False)
    sampai = MonthField(label=_("Lahir sampai"), required=False)

    def given_filters(self) -> dict:
        """The filters filled in (valid cleaned data), with the area and months as the selectors take them:
        ``region``, ``born_from`` and ``born_to`` (the last day of the ``sampai`` month)."""
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        until = data.pop("sampai", None)
        area = {
            "region": data.pop("wilayah", None),
            "born_from": data.pop("dari", None),
            "born_to": until + relativedelta(months=1, days=-1) if until else None,
        }
        return data | {k: v for k, v in area.items() if v}


def limit_regions_to_work_area(form: forms.Form, user):
    """Kecamatan and desa pickers hold the user's work area; the desa list follows the chosen kecamatan.
    Returns the area's regions for further pickers."""
    area = work_area(user)
    if "wilayah" in form.fields:
        form.fields["wilayah"].queryset = area
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


class LoginForm(auth_forms.AuthenticationForm):
    """Django's sign-in form with our own wording: Django's Indonesian catalogue puts the field's name into
    its message ("nama pengguna nama pengguna")."""

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": _(
            "Masukkan nama pengguna dan kata sandi yang benar. Perhatikan huruf besar dan kecil pada keduanya."
        ),
        "inactive": _("Akun ini tidak aktif. Hubungi admin Dinas Kesehatan."),
    }


# "Kata sandi", as on the login page (Django's Indonesian says "Sandi").
PASSWORD_LABELS = {
    "old_password": _("Kata sandi lama"),
    "new_password1": _("Kata sandi baru"),
    "new_password2": _("Ulangi kata sandi baru"),
}


class PasswordLabelsMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in PASSWORD_LABELS.items():
            if name in self.fields:
                self.fields[name].label = label


class SetPasswordForm(PasswordLabelsMixin, BootstrapFormMixin, auth_forms.SetPasswordForm):
    pass


class PasswordChangeForm(PasswordLabelsMixin, BootstrapFormMixin, auth_forms.PasswordChangeForm):
    error_messages = {
        **auth_forms.PasswordChangeForm.error_messages,
        "password_incorrect": _("Kata sandi lama salah. Masukkan lagi."),
    }


class PasswordResetForm(BootstrapFormMixin, auth_forms.PasswordResetForm):
    pass
