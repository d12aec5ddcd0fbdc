"""Text from outside (forms, API, uploaded files) made safe before any check or any write.

Three hazards, each with one answer here:
- digits in other scripts (full-width ０-９, Arabic-Indic, Devanagari, ...) pass ``str.isdigit()`` and
  regex ``\\d``, so a NIK typed with them slips past the checks and is stored as a different string:
  they become ASCII before any check; a digit that is not decimal (superscript ``²``) stays and is refused;
- control characters: PostgreSQL refuses NUL in text and JSON (a 500, or an import left half done), and
  the XLSX exports refuse the other C0 controls: they are refused with a message;
- length: a message that echoes what a file holds is capped, so a 40 MB cell never becomes a stored
  message.
"""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

MAX_MESSAGE_CHARS = 300
MAX_SHOWN_VALUE_CHARS = 60
ELLIPSIS = "…"

# C0 controls and DEL, without the tab and line breaks a text area or a CSV cell may hold.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# What people put between the digits of a NIK, KK or card number: spaces, dots, dashes (also full-width).
NUMBER_SEPARATORS = str.maketrans("", "", ".-\uff0e\uff0d")
ASCII_DIGITS_RE = re.compile(r"[0-9]+", re.ASCII)


class _DigitTable(dict):
    """A ``str.translate`` table from every Unicode decimal digit to its ASCII digit, filled as characters
    are met (a full table would mean scanning all of Unicode at start-up)."""

    def __missing__(self, codepoint: int) -> int:
        char = chr(codepoint)
        mapped = ord(str(unicodedata.decimal(char))) if char.isdecimal() else codepoint
        self[codepoint] = mapped
        return mapped


DIGITS_TO_ASCII = _DigitTable()


def ascii_digits(value: str) -> str:
    """Every decimal digit as ASCII (``７３２２`` -> ``7322``); everything else unchanged."""
    return value if value.isascii() else value.translate(DIGITS_TO_ASCII)


def clean_number(value) -> str:
    """An identity number as people type or paste it: ASCII digits, without spaces, dots or dashes.

    The result may still hold other characters (letters, ``²``, NUL); the caller's check refuses them."""
    return "".join(ascii_digits(str(value or "")).translate(NUMBER_SEPARATORS).split())


def is_ascii_number(value: str) -> bool:
    return ASCII_DIGITS_RE.fullmatch(value) is not None


def control_character(value: str) -> str:
    """The first control character in ``value`` as people can read it (``NUL``, ``U+0007``), or ""."""
    found = CONTROL_RE.search(value)
    if not found:
        return ""
    return "NUL" if found.group() == "\x00" else f"U+{ord(found.group()):04X}"


def refuse_control_characters(value) -> None:
    """A validator for every free-text field of a form or serializer: control characters are refused.

    NUL is left to Django's and DRF's own validator on every CharField, so it is refused once, not twice."""
    if isinstance(value, str) and (char := control_character(value.replace("\x00", ""))):
        raise ValidationError(
            _("Berisi karakter tidak sah (%(char)s); ketik ulang isinya.") % {"char": char},
            code="control_character",
        )


def cap(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """A message cut to ``limit`` characters, ending in "…" when cut."""
    message = str(message)
    return message if len(message) <= limit else message[: limit - 1] + ELLIPSIS


def shown(value, limit: int = MAX_SHOWN_VALUE_CHARS) -> str:
    """A value from a file as a message may quote it: control characters made visible, cut short."""
    text = CONTROL_RE.sub("\N{REPLACEMENT CHARACTER}", str(value))
    return cap(text, limit)


def shown_list(values, *, limit: int = 20) -> str:
    """Column names (or any values) as one short, readable list: the first ``limit``, and how many more."""
    values = [shown(v, 40) for v in values]
    listed = ", ".join(values[:limit]) or "-"
    if len(values) > limit:
        listed += " " + _("(dan %(n)s lainnya)") % {"n": len(values) - limit}
    return listed


def guard_text_fields(fields) -> None:
    """Add ``refuse_control_characters`` to every text field of a form's or serializer's ``fields``."""
    for field in fields.values():
        if isinstance(field, forms.CharField | serializers.CharField) and not getattr(field, "read_only", False):
            field.validators.append(refuse_control_characters)


class GuardedTextFormMixin:
    """A form whose text fields refuse control characters (see ``guard_text_fields``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        guard_text_fields(self.fields)


class GuardedTextSerializerMixin:
    """A serializer whose text fields refuse control characters (see ``guard_text_fields``)."""

    def get_fields(self):
        fields = super().get_fields()
        guard_text_fields(fields)
        return fields
