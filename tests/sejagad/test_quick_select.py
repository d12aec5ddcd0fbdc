"""The filter forms' selects are written in Python (``QuickSelect``): the same HTML as Django's template-rendered
``Select``, selected option, groups, escaping and attributes included."""

from django import forms
from django.test.html import parse_html

from sejagad.forms import BootstrapFormMixin, QuickSelect

CHOICES = [
    ("", "Semua"),
    ("a", "Satu & <dua>"),
    ("Kelompok", [("b", "Tiga"), ("c", 'Empat "kutip"')]),
    (2, "Angka"),
    ("a", "Satu lagi (sama nilainya)"),
]


def both(value, attrs=None):
    plain = forms.Select(choices=CHOICES, attrs={"class": "form-select", **(attrs or {})})
    quick = QuickSelect(choices=CHOICES, attrs={"class": "form-select", **(attrs or {})})
    return plain.render("pilih", value, {"id": "id_pilih"}), quick.render("pilih", value, {"id": "id_pilih"})


def test_quick_select_writes_what_django_writes():
    for value in ("", "a", "c", 2, "2", None, "tidak ada"):
        plain, quick = both(value, {"aria-invalid": "true", "required": True})
        assert parse_html(quick) == parse_html(plain)
    assert "&lt;dua&gt;" in both("a")[1] and 'value="c" selected' in both("c")[1]


def test_bootstrap_forms_use_it_for_plain_selects_only():
    class Form(BootstrapFormMixin, forms.Form):
        one = forms.ChoiceField(choices=CHOICES)
        many = forms.MultipleChoiceField(choices=CHOICES[:2])

    form = Form()
    assert type(form.fields["one"].widget) is QuickSelect
    assert type(form.fields["many"].widget) is forms.SelectMultiple
    assert 'class="form-select"' in str(form["one"]) and "required" in str(form["one"])
