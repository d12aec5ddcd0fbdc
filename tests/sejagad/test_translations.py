import re

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from sejagad.roles import Role
from tests.factories import UserFactory

CATALOGUE = settings.BASE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def test_english_catalogue_is_complete():
    problems = []
    for entry in polib.pofile(str(CATALOGUE)):
        forms = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if entry.fuzzy or not all(forms):
            problems.append(("untranslated or fuzzy", entry.msgid))
            continue
        wanted = set(PLACEHOLDER.findall(entry.msgid))
        if any(set(PLACEHOLDER.findall(form)) != wanted for form in forms):
            problems.append(("placeholders differ", entry.msgid))
    assert problems == []


@pytest.mark.django_db
def test_home_page_speaks_english_when_asked(client, district):
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    # Chosen with the footer's switch (its cookie): the browser's Accept-Language is ignored.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("home"))
    assert response.status_code == 200
    for english in ("Home", "Sign out", "Record a birth", "Baby records", "JKN deadlines"):
        assert english in response.text
    for indonesian in ("Keluar", "Beranda", "Catat kelahiran", "Tenggat JKN"):
        assert indonesian not in response.text
