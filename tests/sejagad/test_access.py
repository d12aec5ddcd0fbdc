import pytest
from django.conf import settings
from django.urls import reverse

from sejagad.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo_users
from sejagad.landing import own_list_url
from sejagad.roles import CAPABILITIES, Capability, Role, can
from tests.factories import BidanFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_speaks_indonesian(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Masuk ke SEJAGAD SEHAT" in response.text
    assert 'lang="id"' in response.text


def test_login_page_is_available_in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the footer's language switch
    response = client.get(reverse("login"))
    assert "Sign in to SEJAGAD SEHAT" in response.text
    assert 'lang="en"' in response.text


def test_wrong_password_gets_an_indonesian_message(client, district):
    UserFactory(username="dinkes")
    response = client.post(reverse("login"), {"username": "dinkes", "password": "salah"})
    assert response.status_code == 200
    assert "sandi yang benar" in response.text


def test_every_demo_user_can_log_in_and_sees_the_district(client, district):
    seed_demo_users()
    for username, *_ in DEMO_USERS:
        client.logout()
        response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD}, follow=True)
        assert response.wsgi_request.user.username == username
        if own_list_url(response.wsgi_request.user):  # BPJS, Dukcapil, Dinsos: their own list
            assert response.redirect_chain[-1][0] == own_list_url(response.wsgi_request.user)
            assert "Dasbor Kabupaten Luwu Utara" not in response.text
        elif can(response.wsgi_request.user, Capability.VIEW_DASHBOARD):
            assert "Dasbor Kabupaten Luwu Utara" in response.text
        else:  # the bidan: her own landing, no district figures
            assert "Dasbor" not in response.text
            assert f"Selamat datang, {response.wsgi_request.user.get_full_name()}" in response.text


def test_home_tells_a_fresh_install_to_load_regions(client, db):
    from sejagad.models import User

    client.force_login(User.objects.create(username="baru", role=Role.STAF_DINKES))
    response = client.get(reverse("home"))
    assert "Data wilayah belum dimuat" in response.text
    assert "load_regions" in response.text


def test_bidan_cannot_open_the_admin(client, district):
    client.force_login(BidanFactory())
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response.url


def test_staf_dinkes_cannot_open_the_admin(client, district):
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    assert client.get(reverse("admin:index")).status_code == 302


def test_admin_dinkes_manages_users_and_facilities(client, district):
    client.force_login(UserFactory(role=Role.ADMIN_DINKES, is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:index")).status_code == 200
    response = client.get(reverse("admin:sejagad_facility_changelist"))
    assert "RSUD Andi Djemma Masamba" in response.text


def test_navigation_shows_admin_only_to_admins(client, district):
    client.force_login(BidanFactory())
    assert "/admin/" not in client.get(reverse("home")).text
    client.force_login(UserFactory(role=Role.ADMIN_DINKES, is_superuser=True))
    assert "/admin/" in client.get(reverse("home")).text


@pytest.mark.parametrize(
    ("role", "capability", "allowed"),
    [
        (Role.BIDAN, Capability.REGISTER_BIRTHS, True),
        (Role.BIDAN, Capability.EXPORT_WORKLISTS, False),
        (Role.BIDAN, Capability.MANAGE_SYSTEM, False),
        (Role.PETUGAS_BPJS, Capability.EXPORT_WORKLISTS, True),
        (Role.PETUGAS_BPJS, Capability.REGISTER_BIRTHS, False),
        (Role.PETUGAS_DUKCAPIL, Capability.UPDATE_DOCUMENTS, True),
        (Role.PETUGAS_DUKCAPIL, Capability.EXPORT_WORKLISTS, False),
        (Role.PETUGAS_DINSOS, Capability.PROPOSE_PBI, True),
        (Role.PETUGAS_DINSOS, Capability.VIEW_IDENTITY_NUMBERS, False),
        (Role.STAF_DINKES, Capability.VIEW_DASHBOARD, True),
        (Role.STAF_DINKES, Capability.MANAGE_SYSTEM, False),
    ],
)
def test_role_capabilities(district, role, capability, allowed):
    assert can(UserFactory(role=role), capability) is allowed


def test_every_role_has_capabilities_and_admin_has_all():
    assert set(CAPABILITIES) == set(Role.values)
    assert CAPABILITIES[Role.ADMIN_DINKES] == frozenset(Capability.values)


def test_inactive_user_can_do_nothing(district):
    assert not can(UserFactory(role=Role.ADMIN_DINKES, is_active=False), Capability.VIEW_NEWBORNS)


def test_bidan_without_a_facility_is_invalid(district):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="fasilitas kesehatan"):
        UserFactory.build(role=Role.BIDAN, facility=None, region=None).clean()


def test_healthz_answers_when_the_database_does(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
