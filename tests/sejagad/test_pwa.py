"""The installable app: the manifest and the service worker, served at the root under the strict policy."""

import json
import shutil

from django.conf import settings
from django.contrib.staticfiles import finders

from sejagad import pwa


def test_the_worker_is_served_at_the_root_with_its_version_and_under_the_policy(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert "no-cache" in response["Cache-Control"]  # the browser asks for a new version on every visit
    body = response.content.decode()
    config = json.loads(body.split("const CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert config["version"] == pwa.shell_version()
    assert config["form"] == "/bayi/baru/"
    assert "/static/js/offline/outbox.js" in config["shell"]
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in config["shell"]


def test_a_changed_form_script_gives_a_new_worker_version(settings, tmp_path):
    copy = tmp_path / "static"
    shutil.copytree(settings.BASE_DIR / "static", copy, ignore=shutil.ignore_patterns("*.map"))
    settings.STATICFILES_DIRS = [copy]
    pwa.shell_version.cache_clear()
    try:
        before = pwa.shell_version()
        assert pwa.shell_version() == before
        with open(copy / "js" / "birth-form.js", "a") as script:
            script.write("\n// a new field\n")
        pwa.shell_version.cache_clear()
        assert pwa.shell_version() != before
    finally:
        pwa.shell_version.cache_clear()


def test_the_manifest_opens_the_birth_form_as_an_app(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["start_url"] == "/bayi/baru/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/"))


def test_only_the_new_birth_form_links_the_manifest_and_installs_the_worker(client, district):
    from tests.factories import BidanFactory, register

    bidan = BidanFactory()
    client.force_login(bidan)
    form = client.get("/bayi/baru/").content.decode()
    assert 'rel="manifest"' in form and "js/offline/register.js" in form
    baby = register(by=bidan)
    for page in ("/bayi/", f"/bayi/{baby.pk}/", f"/bayi/{baby.pk}/ubah/"):
        html = client.get(page).content.decode()
        assert "js/offline/register.js" not in html and "js/offline/outbox.js" not in html
