"""Response headers: a Content-Security-Policy with no inline script on every page, and nothing a signed-in
user sees (a whole NIK or KK) kept by the browser or a proxy."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from coverage import services as coverage_services
from coverage.demo import seed_demo_coverage
from coverage.models import CoverageImport, ImportKind, ImportStatus
from sejagad.roles import Role
from tests.coverage.files import POPULATION_HEADER, csv_upload
from tests.factories import UserFactory, register

TEMPLATES = Path(settings.BASE_DIR) / "templates"
NO_STORE = "no-store, private"


@pytest.fixture
def admin(district):
    return UserFactory(username="admin", role=Role.ADMIN_DINKES, is_staff=True, is_superuser=True)


@pytest.fixture
def pages(admin, settings, tmp_path) -> list[str]:
    """Every main page, with data enough that its charts, forms and progress bar are drawn."""
    settings.MEDIA_ROOT = tmp_path
    seed_demo_coverage()
    baby = register(by=admin)
    record = coverage_services.start_import(
        kind=ImportKind.POPULATION,
        uploaded=csv_upload(POPULATION_HEADER, [["73.22", "Luwu Utara", "2021-S2", "329.934", "", ""]]),
        by=admin,
    )
    CoverageImport.objects.filter(pk=record.pk).update(status=ImportStatus.VALIDATING, progress=40)
    return [
        reverse("home"),
        reverse("newborns:list"),
        reverse("newborns:create"),
        reverse("newborns:nik_worklist"),
        reverse("newborns:detail", args=[baby.pk]),
        reverse("newborns:edit", args=[baby.pk]),
        reverse("newborns:documents", args=[baby.pk]),
        reverse("enrollment:worklist"),
        reverse("enrollment:notifications"),
        reverse("enrollment:reconciliation_upload"),
        reverse("coverage:table"),
        reverse("coverage:trend") + "?wilayah=73.22",
        reverse("coverage:imports"),
        reverse("coverage:import_detail", args=[record.pk]),
        reverse("admin:index"),
    ]


class InlineCode(HTMLParser):
    """Collects what the policy would block: inline scripts, on* handlers, style attributes, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._in_script = "src" not in attrs and attrs.get("type") != "application/json"
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name == "style":
                self.found.append(f"<{tag} style=...>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline <script>: {data.strip()[:60]}")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_every_page_carries_the_policy_and_no_inline_script(client, admin, pages):
    client.force_login(admin)
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        policy = page["Content-Security-Policy"]
        assert policy == settings.CONTENT_SECURITY_POLICY, url
        assert inline_code(page.text) == [], url


def test_the_policy_forbids_inline_script_and_framing():
    directives = dict(d.strip().split(" ", 1) for d in settings.CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def test_the_import_progress_fragment_has_no_style_attribute(client, admin, pages):
    client.force_login(admin)
    record = CoverageImport.objects.get()
    fragment = client.get(reverse("coverage:import_progress", args=[record.pk]), headers={"HX-Request": "true"})
    assert '<progress class="import-progress" max="100" value="40"' in fragment.text
    assert inline_code(fragment.text) == []


def test_signed_out_pages_carry_the_policy_too(client, district):
    login = client.get(reverse("login"))
    assert login["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert inline_code(login.text) == []
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked = client.post(reverse("login"), {"username": "siapa", "password": "salah"})
    assert locked.status_code == 429
    assert locked["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert inline_code(locked.text) == []


def test_no_template_holds_inline_script_or_handlers():
    offenders = []
    script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for pattern in (script, handler, re.compile(r"\sstyle\s*=", re.IGNORECASE), re.compile("javascript:")):
            if pattern.search(text):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {pattern.pattern}")
    assert offenders == []


def test_htmx_adds_no_inline_style_and_never_evaluates_code(client, admin, pages):
    client.force_login(admin)
    home = client.get(reverse("home"))
    assert "htmx.min.js" in home.text
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false}'>""" in home.text


def test_the_api_docs_alone_allow_inline_styles(client, admin):
    client.force_login(admin)
    docs = client.get("/api/docs/")
    policy = docs["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy
    # Swagger's start-up script is a file, not inline.
    assert [c for c in inline_code(docs.text) if c.startswith("inline <script>")] == []


def test_signed_in_pages_and_api_answers_are_never_stored(client, admin, district):
    baby = register(by=admin)
    client.force_login(admin)
    detail = client.get(reverse("newborns:detail", args=[baby.pk]))
    assert detail.status_code == 200
    assert detail["Cache-Control"] == NO_STORE

    api = APIClient()
    token = api.post("/api/auth/token/", {"username": "admin", "password": "rahasia-uji-123"}).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    answer = api.get(f"/api/newborns/{baby.pk}/")
    assert answer.status_code == 200
    assert answer["Cache-Control"] == NO_STORE
