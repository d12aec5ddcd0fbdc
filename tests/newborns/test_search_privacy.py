"""A NIK or KK number searched never reaches a URL or a log line; a duplicate answer names no record the
user may not see."""

import datetime
import logging
import re
import runpy
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from newborns.models import IdentityAccess, Newborn
from sejagad.models import Facility, Region
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, register

pytestmark = pytest.mark.django_db
KK = "7322030101200001"
LIST_URL = "/api/newborns/"


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def urls_in(html: str) -> list[str]:
    return re.findall(r'(?:href|action|src)="([^"]*)"', html)


@pytest.fixture
def dinkes(district):
    return UserFactory(username="dinkes", role=Role.STAF_DINKES)


@pytest.fixture
def family(district):
    """27 babies of 27 mothers on one KK number (more than one page of 25), two of them in Sabbang."""
    babies = [register(mother_nik=mother_nik(serial=i + 1), mother_name=f"Ibu {i}", kk_number=KK) for i in range(25)]
    sabbang = Region.objects.get(code="73.22.11").children.first()
    babies += [
        register(
            mother_nik=mother_nik(serial=30 + i, kecamatan="732211"),
            mother_name=f"Ibu S{i}",
            kk_number=KK,
            desa=sabbang,
        )
        for i in range(2)
    ]
    register(mother_nik=mother_nik(serial=40), mother_name="Tetangga", kk_number="7322030101200002")
    return babies


# The list page.


def test_the_list_search_form_posts_with_a_csrf_token(client, dinkes):
    client.force_login(dinkes)
    page = client.get(reverse("newborns:list")).text
    form = re.search(r'<form method="post"[^>]*role="search">(.*?)</form>', page, re.S)

    assert form and 'name="csrfmiddlewaretoken"' in form.group(1) and 'name="q"' in form.group(1)


def test_a_number_search_puts_the_number_in_no_url_on_any_page(client, dinkes, family):
    client.force_login(dinkes)
    dotted = f"{KK[:4]}.{KK[4:8]}.{KK[8:12]} {KK[12:]}"  # as people copy it from the card

    first = client.post(reverse("newborns:list"), {"q": dotted}, follow=True)

    assert len(first.context["page"].object_list) == 25 and first.context["page"].paginator.count == 27
    visited = [url for url, _status in first.redirect_chain]
    next_link = next(url for url in urls_in(first.text) if "page=2" in url).replace("&amp;", "&")
    second = client.get(reverse("newborns:list") + next_link)
    assert len(second.context["page"].object_list) == 2  # the search holds across pages
    for url in visited + urls_in(first.text) + urls_in(second.text) + [next_link]:
        assert KK not in url and KK[:8] not in url.replace(".", "").replace("+", "")
    assert f'value="{dotted}"' in first.text  # shown back in the box, in the page body only


def test_the_other_filters_ride_in_the_url_beside_the_search_key(client, dinkes, family):
    client.force_login(dinkes)

    response = client.post(reverse("newborns:list"), {"q": KK, "kecamatan": "73.22.11", "status": ""})

    assert response.status_code == 302
    assert "kecamatan=73.22.11" in response.url and "cari=" in response.url and "status" not in response.url
    assert KK not in response.url
    assert len(client.get(response.url).context["page"].object_list) == 2


def test_a_number_put_in_the_list_url_by_hand_is_not_searched(client, dinkes, family):
    client.force_login(dinkes)
    page = client.get(reverse("newborns:list"), {"q": KK})

    assert page.context["page"].paginator.count == 28  # everyone: the URL's q is never read
    assert not IdentityAccess.objects.exists()


def test_a_search_key_from_another_session_finds_nothing_of_it(client, dinkes, family):
    client.force_login(dinkes)
    url = client.post(reverse("newborns:list"), {"q": KK}).url
    other = UserFactory(username="lain", role=Role.STAF_DINKES)
    client.force_login(other)  # a new session

    assert client.get(url).context["page"].paginator.count == 28


def test_no_log_line_of_a_search_holds_the_number(client, dinkes, family, caplog):
    client.force_login(dinkes)
    with caplog.at_level(logging.DEBUG):
        client.post(reverse("newborns:list"), {"q": KK}, follow=True)
        api_for(dinkes).get(LIST_URL, {"q": KK})
        api_for(dinkes).post(f"{LIST_URL}search/", {"q": KK}, format="json")

    assert caplog.records and KK not in caplog.text


# The API.


def test_the_api_refuses_a_number_in_the_query_string_in_indonesian(dinkes, family):
    for written in (KK, f"{KK[:6]}.{KK[6:]}", mother_nik(serial=1)):
        response = api_for(dinkes).get(LIST_URL, {"q": written})
        assert response.status_code == 400
        assert "tidak boleh dikirim di alamat" in response.json()["q"][0]
        assert "POST /api/newborns/search/" in response.json()["q"][0]


def test_the_api_still_searches_names_in_the_query_string(dinkes, family):
    response = api_for(dinkes).get(LIST_URL, {"q": "tetangga"})
    assert response.status_code == 200 and response.json()["count"] == 1


def test_the_api_searches_numbers_from_a_post_body_with_the_other_filters(dinkes, family):
    client = api_for(dinkes)

    every = client.post(f"{LIST_URL}search/", {"q": KK}, format="json").json()
    sabbang = client.post(f"{LIST_URL}search/", {"q": KK, "kecamatan": "73.22.11"}, format="json").json()
    refused = client.post(f"{LIST_URL}search/", {"kecamatan": "73.22.11"}, format="json")

    assert every["count"] == 27 and all(KK not in str(row) for row in every["results"])  # masked like the list
    assert sabbang["count"] == 2
    assert refused.status_code == 400 and "q" in refused.json()


@pytest.mark.parametrize("body", [[KK], KK, None])
def test_the_search_endpoint_answers_400_to_a_body_that_is_not_an_object(dinkes, body):
    assert api_for(dinkes).post(f"{LIST_URL}search/", body, format="json").status_code == 400


def test_the_search_endpoint_keeps_the_caller_in_scope(district, family):
    bidan = BidanFactory(username="bidan-sabbang", facility=Facility.objects.get(code="PKM-732211"))
    assert api_for(bidan).post(f"{LIST_URL}search/", {"q": KK}, format="json").json()["count"] == 0


# What the server writes about a request.


def test_gunicorn_logs_paths_without_query_strings_or_referers():
    config = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))
    access = config["access_log_format"]

    assert "%(U)s" in access
    for leaking in ("%(r)s", "%(q)s", "%(f)s", "%({"):
        assert leaking not in access
    # Every way the web server starts runs from the folder holding that file.
    assert "WORKDIR /app" in (Path(settings.BASE_DIR) / "Dockerfile").read_text()


# A duplicate birth.


def birth_form(**overrides) -> dict:
    data = {
        "submission_key": str(uuid.uuid4()),
        "mother_nik": mother_nik(),
        "mother_name": "Siti Aminah",
        "kk_number": KK,
        "kecamatan": "73.22.03",
        "desa": "73.22.03.2004",
        "birth_date": (timezone.localdate() - datetime.timedelta(days=10)).isoformat(),
        "sex": "P",
        "birth_order": "1",
        "weight_grams": "3100",
    }
    return data | overrides


def api_birth() -> dict:
    data = birth_form()
    return {k: data[k] for k in ("mother_nik", "mother_name", "kk_number", "desa", "birth_date", "sex")} | {
        "weight_grams": 3100
    }


@pytest.fixture
def existing(district):
    """Born at Puskesmas Masamba."""
    return register(mother_name="Siti Aminah")


@pytest.fixture
def elsewhere(district):
    """A bidan of Puskesmas Sabbang: the Masamba baby is outside her scope."""
    return BidanFactory(username="bidan-sabbang", facility=Facility.objects.get(code="PKM-732211"))


def test_a_duplicate_outside_the_users_scope_is_told_without_id_name_or_link(client, existing, elsewhere):
    assert not Newborn.objects.in_scope_of(elsewhere).filter(pk=existing.pk).exists()

    answer = api_for(elsewhere).post(LIST_URL, api_birth(), format="json")
    client.force_login(elsewhere)
    page = client.post(reverse("newborns:create"), birth_form())

    assert answer.status_code == 409
    assert answer.json() == {
        "detail": "Kelahiran ini sudah tercatat di fasilitas lain; hubungi Dinkes.",
        "existing_id": None,
        "existing_url": None,
    }
    assert "Kelahiran ini sudah tercatat di fasilitas lain; hubungi Dinkes." in page.text
    assert reverse("newborns:detail", args=[existing.pk]) not in page.text
    assert existing.temporary_name not in page.text


def test_a_duplicate_within_scope_keeps_its_link(client, existing):
    masamba = BidanFactory(username="bidan-masamba")

    answer = api_for(masamba).post(LIST_URL, api_birth(), format="json").json()
    client.force_login(masamba)
    page = client.post(reverse("newborns:create"), birth_form())

    assert answer["existing_id"] == existing.pk and existing.temporary_name in answer["detail"]
    assert answer["existing_url"].endswith(reverse("newborns:detail", args=[existing.pk]))
    assert reverse("newborns:detail", args=[existing.pk]) in page.text
