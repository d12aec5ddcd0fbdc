"""Signing in: failed attempts lock a user name and a client address for a while (login page, admin, API
token); API tokens expire and can be revoked; the API schema and docs need a signed-in user."""

import datetime
from pathlib import Path

import pytest
import yaml
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sejagad.roles import Role
from tests.factories import UserFactory
from tests.sejagad.test_settings import run_python

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/masuk/"
ADMIN_LOGIN = "/admin/login/"
TOKEN = "/api/auth/token/"
PASSWORD = "rahasia-uji-123"
LIMIT = 5


@pytest.fixture
def rahma(district):
    return UserFactory(username="rahma", role=Role.STAF_DINKES)


def sign_in(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def fail(client, username, times, **extra):
    return [sign_in(client, username, "salah-sekali", **extra) for _ in range(times)]


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def age_attempts(minutes: int):
    """Move every recorded failure this many minutes into the past."""
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=minutes))


# --- Login page --------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_login_page_even_for_the_right_password(client, rahma):
    answers = fail(client, "rahma", LIMIT)
    assert [a.status_code for a in answers[:-1]] == [200] * (LIMIT - 1)
    locked = answers[-1]
    assert locked.status_code == 429
    assert "registration/lockout.html" in [t.name for t in locked.templates]
    assert "Terlalu banyak percobaan masuk yang gagal" in locked.text
    assert "15 menit" in locked.text

    right = sign_in(client, "rahma", PASSWORD)
    assert right.status_code == 429
    assert "Masuk dikunci sementara" in right.text
    assert not signed_in(client)


def test_the_lock_lifts_after_the_cool_off(client, rahma):
    fail(client, "rahma", LIMIT)
    age_attempts(settings.LOGIN_COOLOFF_MINUTES - 1)
    assert sign_in(client, "rahma", PASSWORD).status_code == 429

    age_attempts(settings.LOGIN_COOLOFF_MINUTES + 1)
    answer = sign_in(client, "rahma", PASSWORD)
    assert answer.status_code == 302 and answer.url == reverse("home")
    assert signed_in(client)


def test_a_successful_sign_in_resets_the_count(client, rahma):
    fail(client, "rahma", LIMIT - 1)
    assert sign_in(client, "rahma", PASSWORD).status_code == 302
    client.logout()

    # Without the reset these would make eight failures and lock her out.
    answers = fail(client, "rahma", LIMIT - 1)
    assert {a.status_code for a in answers} == {200}
    assert sign_in(client, "rahma", PASSWORD).status_code == 302


def test_one_address_is_locked_across_user_names(client, rahma):
    for n in range(LIMIT):
        fail(client, f"tebakan{n}", 1, REMOTE_ADDR="203.0.113.7")

    assert sign_in(client, "rahma", PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 429
    # Her own name has no failures: from another address she gets in.
    assert sign_in(client, "rahma", PASSWORD, REMOTE_ADDR="198.51.100.2").status_code == 302


def test_one_user_name_is_locked_across_addresses(client, rahma):
    for n in range(LIMIT):
        fail(client, "rahma", 1, REMOTE_ADDR=f"203.0.113.{n + 1}")

    assert sign_in(client, "rahma", PASSWORD, REMOTE_ADDR="198.51.100.2").status_code == 429


# --- Client address behind the proxy -------------------------------------------------------------


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client, rahma, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    # A client rotating a forged header is still one address.
    for n in range(LIMIT):
        fail(client, f"tebakan{n}", 1, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    assert (
        sign_in(client, "rahma", PASSWORD, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.99").status_code
        == 429
    )


def test_behind_one_trusted_proxy_the_address_it_saw_is_the_client(client, rahma, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    nginx = {"REMOTE_ADDR": "172.18.0.5"}
    # nginx appends the address it saw; what the client wrote to the left of it proves nothing.
    for n in range(LIMIT):
        fail(client, f"tebakan{n}", 1, **nginx, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.7")

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    assert sign_in(client, "rahma", PASSWORD, **nginx, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # Another office behind the same proxy is not locked out with the attacker.
    assert sign_in(client, "rahma", PASSWORD, **nginx, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302


def test_production_trusts_one_proxy_and_the_embedded_default_none(tmp_path):
    embedded = run_python(
        "import django; django.setup(); from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)",
        {"SEJAGAD_VAR_DIR": str(tmp_path)},
    )
    assert embedded.stdout.split()[-1] == "0"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert str(compose["services"]["web"]["environment"]["TRUSTED_PROXY_COUNT"]).endswith("1}")
    assert "TRUSTED_PROXY_COUNT=1" in (ROOT / ".env.example").read_text().splitlines()


# --- Admin and API token -------------------------------------------------------------------------


def test_the_admin_login_locks_too(client, district):
    UserFactory(username="admin", role=Role.ADMIN_DINKES, is_staff=True, is_superuser=True)
    form = {"username": "admin", "password": "salah-sekali", "next": "/admin/"}
    answers = [client.post(ADMIN_LOGIN, form) for _ in range(LIMIT)]
    assert answers[-1].status_code == 429 and "Terlalu banyak percobaan" in answers[-1].text

    right = client.post(ADMIN_LOGIN, form | {"password": PASSWORD})
    assert right.status_code == 429
    assert not signed_in(client)


def test_the_token_endpoint_locks_and_answers_in_indonesian(rahma):
    api = APIClient()
    answers = [api.post(TOKEN, {"username": "rahma", "password": "salah-sekali"}) for _ in range(LIMIT)]
    assert [a.status_code for a in answers[:-1]] == [400] * (LIMIT - 1)
    assert answers[-1].status_code == 429
    assert "Terlalu banyak percobaan masuk yang gagal" in answers[-1].json()["detail"]

    right = api.post(TOKEN, {"username": "rahma", "password": PASSWORD}, format="json")
    assert right.status_code == 429
    assert right["Retry-After"] == str(settings.LOGIN_COOLOFF_MINUTES * 60)
    assert not Token.objects.exists()


def test_failures_on_the_page_and_the_api_count_together(client, rahma):
    fail(client, "rahma", LIMIT - 2)
    api = APIClient()
    api.post(TOKEN, {"username": "rahma", "password": "salah-sekali"})
    assert api.post(TOKEN, {"username": "rahma", "password": "salah-sekali"}).status_code == 429
    assert sign_in(client, "rahma", PASSWORD).status_code == 429


def test_a_token_sign_in_resets_the_count(rahma):
    api = APIClient()
    for _ in range(LIMIT - 1):
        api.post(TOKEN, {"username": "rahma", "password": "salah-sekali"})
    assert api.post(TOKEN, {"username": "rahma", "password": PASSWORD}).status_code == 200
    assert not AccessAttempt.objects.exists()


# --- Tokens expire and can be revoked -------------------------------------------------------------


def obtain(api, username="rahma") -> dict:
    answer = api.post(TOKEN, {"username": username, "password": PASSWORD}, format="json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def expire(key: str):
    Token.objects.filter(key=key).update(
        created=timezone.now() - datetime.timedelta(hours=settings.API_TOKEN_TTL_HOURS, minutes=1)
    )


def test_a_fresh_token_works_and_says_when_it_expires(rahma):
    api = APIClient()
    issued = obtain(api)
    expected = timezone.now() + datetime.timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    assert abs(datetime.datetime.fromisoformat(issued["expires_at"]) - expected) < datetime.timedelta(minutes=1)
    api.credentials(HTTP_AUTHORIZATION=f"Token {issued['token']}")
    assert api.get("/api/newborns/").status_code == 200


def test_an_expired_token_is_refused_with_an_indonesian_message(rahma):
    api = APIClient()
    key = obtain(api)["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    Token.objects.filter(key=key).update(
        created=timezone.now() - datetime.timedelta(hours=settings.API_TOKEN_TTL_HOURS, minutes=-1)
    )
    assert api.get("/api/newborns/").status_code == 200  # a minute before the end

    expire(key)
    answer = api.get("/api/newborns/")
    assert answer.status_code == 401
    assert "Token sudah kedaluwarsa" in answer.json()["detail"]


def test_signing_in_again_after_expiry_issues_a_new_token(rahma):
    api = APIClient()
    old = obtain(api)["token"]
    expire(old)
    # The client still sends its old, expired token along: the sign-in ignores it.
    api.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    new = obtain(api)["token"]
    assert new != old
    assert not Token.objects.filter(key=old).exists()

    api.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert api.get("/api/newborns/").status_code == 200


def test_a_revoked_token_is_refused(rahma):
    api = APIClient()
    key = obtain(api)["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert api.delete(TOKEN).status_code == 204
    assert api.get("/api/newborns/").status_code == 401
    assert not Token.objects.exists()


def test_revoking_needs_the_token(rahma):
    assert APIClient().delete(TOKEN).status_code == 401


# --- API schema and docs -------------------------------------------------------------------------


def test_the_api_schema_and_docs_need_a_signed_in_user(client, rahma):
    assert client.get("/api/schema/").status_code == 401
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs.url.startswith(f"{LOGIN}?next=")
    assert client.get("/api/docs/", {"script": ""}).status_code == 302

    client.force_login(rahma)
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
