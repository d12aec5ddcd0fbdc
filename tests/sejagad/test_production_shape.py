"""The production shape, started on this machine as docker-compose would start it.

A fresh virtualenv holds only requirements.txt (so a missing runtime pin fails here), the Dockerfile's build
steps run as written, then migrate, gunicorn (the image's CMD) and a separate ``celery worker`` and ``beat``
(docker-compose's commands) run with DEBUG=False on PostgreSQL and Redis, behind a pretend TLS proxy. One birth
goes in through the API and one population file through the import page, and both are followed to the end.
"""

import datetime
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
# A Redis database of its own, so this worker and the suite's test workers never take each other's messages.
BROKER = "redis://127.0.0.1:6379/9"
HOST = "sejagad.example.go.id"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dockerfile():
    """(RUN commands, CMD argv) of the Dockerfile, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    runs = [line[4:].strip() for line in text.splitlines() if line.startswith("RUN ")]
    cmd = next(json.loads(line[4:]) for line in text.splitlines() if line.startswith("CMD "))
    return runs, cmd


def _compose_command(service: str) -> list[str]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"][service]["command"]


def _env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.startswith("#")}


class Browser:
    """Just enough of a browser behind the proxy: https forwarded, cookies kept (they are Secure), CSRF sent."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, data: bytes | None = None, headers: dict | None = None):
        headers = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.2.3", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST" and "csrftoken" in self.cookies:
            headers.setdefault("X-CSRFToken", self.cookies["csrftoken"])
            headers.setdefault("Referer", f"https://{HOST}{path}")
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            response = opener.open(req, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        for value in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(value)
            self.cookies.update({k: m.value for k, m in cookie.items()})
        return response.status, response.headers, response.read()

    def get(self, path: str):
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict, files: dict | None = None):
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, content) in (files or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n".encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(
            "POST", path, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )

    def sign_in(self, username: str) -> None:
        self.get("/masuk/")
        status, headers, _ = self.post_form("/masuk/", {"username": username, "password": "sejagad-demo"})
        assert status == 302 and headers["Location"] == "/", f"{username} could not sign in ({status})"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _run(args, env, **kwargs):
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("production")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    database = f"sejagad_production_{os.getpid()}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    port = _free_port()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp),
        "LANG": "C.UTF-8",
        **{k: v for k, v in os.environ.items() if k.startswith("PIP_")},
        **_env_example(),
        "DATABASE_URL": f"{PG_SERVER}/{database}",
        "CELERY_BROKER_URL": BROKER,
        "ALLOWED_HOSTS": HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "SEJAGAD_VAR_DIR": str(tmp / "var"),
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }
    runs, cmd = _dockerfile()
    for step in runs:
        if step.startswith("useradd"):
            continue  # the image's unprivileged user: nothing to prove outside a container
        _run(["sh", "-c", step], env, timeout=600)
    _run(_compose_command("migrate"), env, timeout=300)
    _run(["python", "manage.py", "seed_demo", "--users"], env, timeout=300)

    gunicorn = [(f"127.0.0.1:{port}" if arg == "0.0.0.0:8000" else arg) for arg in cmd]
    assert gunicorn != cmd, "the Dockerfile's CMD no longer binds 0.0.0.0:8000"
    logs = {name: open(tmp / f"{name}.log", "w+") for name in ("web", "worker", "beat")}
    beat = _compose_command("beat")
    beat[beat.index("--schedule") + 1] = str(tmp / "celerybeat-schedule")
    processes = {
        "web": subprocess.Popen(gunicorn, cwd=ROOT, env=env, stdout=logs["web"], stderr=subprocess.STDOUT),
        "worker": subprocess.Popen(
            _compose_command("worker"), cwd=ROOT, env=env, stdout=logs["worker"], stderr=subprocess.STDOUT
        ),
        "beat": subprocess.Popen(beat, cwd=ROOT, env=env, stdout=logs["beat"], stderr=subprocess.STDOUT),
    }
    browser = Browser(f"http://127.0.0.1:{port}")

    def web_ready():
        try:
            return browser.get("/healthz")[0] == 200
        except OSError:
            return False

    try:
        _wait(web_ready, 60, "gunicorn to answer /healthz")
        _wait(lambda: "ready." in (tmp / "worker.log").read_text(), 60, "the Celery worker to be ready")
        yield {"browser": browser, "processes": processes, "logs": logs, "env": env, "venv": venv}
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for name, log in logs.items():
            log.seek(0)
            sys.stdout.write(f"--- {name} log (tail) ---\n{log.read()[-2000:]}\n")
            log.close()
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_production_serves_pages_and_hashed_static_files_without_debug(production):
    browser = production["browser"]
    status, headers, body = browser.get("/masuk/")
    assert status == 200
    html = body.decode()
    assert "Traceback" not in html and "DEBUG = True" not in html
    stylesheet = re.search(r'href="(/static/css/sejagad\.[0-9a-f]{12}\.css)"', html)
    assert stylesheet, "pages must link the hashed, collected stylesheet"
    assert browser.get(stylesheet.group(1))[0] == 200
    # The proxy's https is honoured, plain http is sent to https, and an unknown host is refused.
    assert browser.request("GET", "/masuk/", headers={"X-Forwarded-Proto": "http"})[0] == 301
    assert browser.request("GET", "/masuk/", headers={"Host": "evil.example"})[0] == 400
    assert "max-age=31536000" in headers["Strict-Transport-Security"]


def test_a_birth_through_gunicorn_is_at_once_on_the_enrollment_worklist(production):
    browser = production["browser"]
    body = urllib.parse.urlencode({"username": "bidan", "password": "sejagad-demo"}).encode()
    status, _, answer = browser.request(
        "POST", "/api/auth/token/", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 200, answer
    token = json.loads(answer)["token"]
    born = datetime.datetime.now(ZoneInfo("Asia/Makassar")).date() - datetime.timedelta(days=27)
    birth = {
        "mother_nik": "7322035708950001",
        "mother_name": "Hasmawati Produksi",
        "kk_number": "7322030101209999",
        "birth_date": born.isoformat(),
        "sex": "L",
        "weight_grams": 3050,
        "desa": "73.22.03.2004",
    }
    api = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    status, _, answer = browser.request("POST", "/api/newborns/", data=json.dumps(birth).encode(), headers=api)
    assert status == 201, answer
    newborn = json.loads(answer)
    assert newborn["temporary_name"] == "By. Ny. HASMAWATI PRODUKSI"
    # No job has run: the 28-day deadline is tomorrow, so the baby is KRITIS already.
    status, _, answer = browser.request("GET", "/api/enrollments/?level=KRITIS", headers=api)
    assert status == 200, answer
    assert newborn["id"] in [row["newborn"] for row in json.loads(answer)["results"]]


def test_an_import_is_checked_and_saved_by_the_separate_worker(production):
    browser = production["browser"]
    browser.sign_in("dinkes")
    content = (ROOT / "coverage/samples/penduduk_kecamatan.xlsx").read_bytes()
    status, headers, _ = browser.post_form(
        "/cakupan/impor/", {"kind": "population", "period": "2025-S1"}, {"file": ("penduduk.xlsx", content)}
    )
    assert status == 302, "the upload should be kept and the page should move to its progress"
    detail = headers["Location"]

    def page_says(text):
        return lambda: text in browser.get(detail)[2].decode()

    _wait(page_says("Siap disimpan"), 60, "the worker to check the file")
    status, _, _ = browser.post_form(detail + "simpan/", {})
    assert status == 302
    _wait(page_says("Tersimpan"), 60, "the worker to save the file")
    worker = production["processes"]["worker"]
    assert worker.poll() is None, "the worker process must still be running"
    log = production["logs"]["worker"]

    def succeeded(task):
        # The page may say "Tersimpan" before the worker has logged the end of the task that saved it.
        return lambda: (log.seek(0), re.search(rf"coverage\.tasks\.{task}\[[0-9a-f-]+\] succeeded", log.read()))[1]

    for task in ("preview_import", "commit_import", "compute_coverage"):
        # The check and the save of an XLSX, then the roll-up, all ran in the worker process.
        _wait(succeeded(task), 60, f"{task} to succeed in the worker")


def test_beat_starts_with_the_schedule(production):
    beat = production["processes"]["beat"]
    assert beat.poll() is None
    log = production["logs"]["beat"]
    _wait(lambda: (log.seek(0), "beat: Starting" in log.read())[1], 30, "beat to start")


def test_gunicorn_command_is_the_one_docker_compose_runs():
    _, cmd = _dockerfile()
    assert shlex.join(_compose_command("web")) == shlex.join(cmd)


def _name(requirement: str) -> str:
    return re.split(r"[=\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_installed_package_is_pinned_in_requirements(production):
    """The Dockerfile's install holds nothing requirements.txt does not pin, at the pinned version."""
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    pins = {_name(line): line.split("==")[1] for line in lines if line}
    assert all("==" in line for line in lines if line), "every requirement is pinned with =="
    freeze = _run([str(production["venv"] / "bin" / "pip"), "freeze"], production["env"]).stdout.split()
    installed = {_name(line): line.split("==")[1] for line in freeze}
    assert not set(installed) - set(pins), f"installed but not pinned: {sorted(set(installed) - set(pins))}"
    assert not set(pins) - set(installed), f"pinned but not installed: {sorted(set(pins) - set(installed))}"
    assert installed == pins
    _run([str(production["venv"] / "bin" / "pip"), "check"], production["env"])
