"""The settings read only the environment: the embedded default when it is empty, production when set.

Each case starts a fresh interpreter, because settings are read once per process."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI") == "true"
PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({"engine": db["ENGINE"], "name": str(db["NAME"]), "options": db.get("OPTIONS", {}),
    "broker": settings.CELERY_BROKER_URL, "debug": settings.DEBUG, "secret": settings.SECRET_KEY,
    "tz": settings.TIME_ZONE, "lang": settings.LANGUAGE_CODE, "hosts": settings.ALLOWED_HOSTS,
    "demo_users": settings.DEMO_USERS}))
"""


def run_python(code_or_args, env: dict, *, check=True) -> subprocess.CompletedProcess:
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "sejagad.settings"}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=base | env, capture_output=True, text=True, check=check, timeout=120
    )


def settings_with(env: dict) -> dict:
    return json.loads(run_python(PRINT_SETTINGS, env).stdout)


def test_empty_environment_gives_the_embedded_default(tmp_path):
    first = settings_with({"SEJAGAD_VAR_DIR": str(tmp_path)})

    assert first["engine"] == "django.db.backends.sqlite3"
    assert first["name"] == str(tmp_path / "sejagad.sqlite3")
    assert "journal_mode=WAL" in first["options"]["init_command"]
    assert first["options"]["transaction_mode"] == "IMMEDIATE"
    assert first["broker"] == "filesystem://"
    assert (tmp_path / "broker" / "out").is_dir()
    assert first["debug"] is True
    assert first["tz"] == "Asia/Makassar"
    assert first["lang"] == "id"
    assert first["demo_users"] is True
    # The generated development secret is kept, so sessions survive a restart.
    assert len(first["secret"]) >= 50
    assert settings_with({"SEJAGAD_VAR_DIR": str(tmp_path)})["secret"] == first["secret"]


def test_environment_variables_override_every_default(tmp_path):
    s = settings_with(
        {
            "SEJAGAD_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://sejagad:pw@db.example:5432/sejagad",
            "CELERY_BROKER_URL": "redis://redis.example:6379/0",
            "SECRET_KEY": "x" * 60,
            "DEBUG": "False",
            "ALLOWED_HOSTS": "sejagad.example.go.id",
            "TIME_ZONE": "Asia/Jayapura",
            "LANGUAGE_CODE": "en",
        }
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "sejagad"
    assert s["broker"] == "redis://redis.example:6379/0"
    assert (s["debug"], s["secret"], s["hosts"]) == (False, "x" * 60, ["sejagad.example.go.id"])
    assert (s["tz"], s["lang"]) == ("Asia/Jayapura", "en")
    assert s["demo_users"] is False


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    result = run_python(PRINT_SETTINGS, {"SEJAGAD_VAR_DIR": str(tmp_path), "DEBUG": "False"}, check=False)
    assert result.returncode != 0
    assert "SECRET_KEY wajib diisi" in result.stderr


def compose_web_environment() -> dict:
    """The web service's environment as docker-compose gives it, from .env.example."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["web"]["env_file"] == ".env"
    env = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    return env


def test_production_profile_of_docker_compose_passes_check_deploy(tmp_path):
    env = compose_web_environment() | {"SEJAGAD_VAR_DIR": str(tmp_path)}
    s = settings_with(env)
    assert (s["engine"], s["broker"], s["debug"]) == ("django.db.backends.postgresql", "redis://redis:6379/0", False)

    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, check=False)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_docker_compose_file_is_valid(tmp_path):
    binary = shutil.which("docker-compose")
    if binary is None:
        if IN_CI:
            pytest.fail("docker-compose is missing in CI: .ci/run installs Debian's docker-compose")
        pytest.skip("docker-compose is not installed on this machine (CI installs it)")
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run([binary, "config", "--services"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"db", "redis", "migrate", "web", "worker", "beat"}


def test_production_builds_its_static_files(tmp_path):
    # DEBUG=False uses the manifest storage, which refuses a file that names a missing one (a source map).
    env = compose_web_environment() | {"SEJAGAD_VAR_DIR": str(tmp_path), "STATIC_ROOT": str(tmp_path / "static")}
    result = run_python(["manage.py", "collectstatic", "--noinput"], env, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    assert "vendor/chartjs/chart.umd.min.js" in manifest


@pytest.mark.django_db
def test_postgresql_statements_are_not_jit_compiled():
    """The daily job's statements and the exports spent more compiling than running (docs/BENCHMARKS.md)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


@pytest.mark.django_db
def test_a_statement_a_page_runs_again_and_again_is_planned_once_per_connection():
    """Each page repeats the same queries (session, user, summary version, the list's keys): bound on the server
    and prepared after their fifth run, PostgreSQL stops planning them (docs/BENCHMARKS.md)."""
    from django.db import connection

    from sejagad.models import Region

    for _ in range(6):
        assert not Region.objects.filter(code="99.99").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        assert any("sejagad_region" in statement for (statement,) in cursor.fetchall())
