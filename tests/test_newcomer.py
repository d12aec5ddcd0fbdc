"""The README's first command, as a newcomer runs it: a fresh clone, `make run`, the login page.

Runs the committed tree (a `git clone` of HEAD) on the embedded default, with nothing set in the
environment but PATH and HOME, installs included."""

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.urls import reverse

from sejagad.demo import DEMO_PASSWORD, DEMO_USERS
from sejagad.landing import OWN_LIST
from sejagad.roles import CAPABILITIES, Capability

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.newcomer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert process.poll() is None, "make run stopped before serving"
        try:
            urllib.request.urlopen(url, timeout=2)
            return time.monotonic() - started
        except OSError:
            time.sleep(1)
    pytest.fail(f"{url} did not answer within {timeout} s")


def nothing_left(clone: Path, timeout: float) -> bool:
    """No process started from the clone (web, its workers, the Celery worker, its pool, beat) still runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(["pgrep", "-f", str(clone)], capture_output=True).returncode == 1:
            return True
        time.sleep(0.5)
    return False


def log_in(base: str, username: str) -> tuple[str, str]:
    """Signs in as the login form does; returns where the user landed and the page."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(base + "/masuk/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": DEMO_PASSWORD})
    request = urllib.request.Request(base + "/masuk/", data=data.encode(), headers={"Referer": base + "/masuk/"})
    response = opener.open(request)
    return response.geturl(), response.read().decode()


def test_fresh_clone_make_run_serves_the_login_page_and_every_demo_user(tmp_path):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "sejagad"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "PORT": str(port), "LANG": "C.UTF-8"}
    for key in ("PIP_FIND_LINKS", "PIP_CERT", "SSL_CERT_FILE", "PIP_DEFAULT_TIMEOUT"):
        if key in os.environ:
            env[key] = os.environ[key]
    log = (tmp_path / "make-run.log").open("w")
    process = subprocess.Popen(
        ["make", "run"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/masuk/", process, timeout=600)
        login_page = urllib.request.urlopen(base + "/masuk/").read().decode()
        assert "Masuk ke SEJAGAD SEHAT" in login_page
        for username, _first, _last, role, _facility in DEMO_USERS:
            url, home = log_in(base, username)
            if role in OWN_LIST:  # BPJS, Dukcapil, Dinsos: straight to their own list
                assert url == base + reverse(OWN_LIST[role]), username
                assert "Dasbor Kabupaten Luwu Utara" not in home, username
                # BPJS keeps the dashboard one click away in the menu.
                assert ('href="/dasbor/"' in home) == (Capability.VIEW_DASHBOARD in CAPABILITIES[role]), username
            elif Capability.VIEW_DASHBOARD in CAPABILITIES[role]:
                assert "Dasbor Kabupaten Luwu Utara" in home, username
            else:  # the bidan: her page, with no district figures
                assert "Catat kelahiran" in home and "perlu tindakan hari ini" in home, username
                assert "Dasbor" not in home, username
        # Ctrl-C at the terminal reaches the whole process group; all three processes stop, quietly.
        log.flush()
        before_ctrl_c = (tmp_path / "make-run.log").stat().st_size
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
        assert nothing_left(clone, timeout=60), (
            "still running after Ctrl-C:\n"
            + subprocess.run(["pgrep", "-af", str(clone)], capture_output=True, text=True).stdout
        )
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        # On a failure above, web, worker and beat (each in its own process group) must not outlive the test.
        subprocess.run(["pkill", "-9", "-f", str(clone)], check=False)
        log.close()
    output = (tmp_path / "make-run.log").read_text()
    # A newcomer sees what is going on while it installs, migrates and seeds.
    for step in ("[1/4] Memasang paket Python", "[2/4]", "[3/4] Mengisi data demo", "[4/4]", "Data demo siap"):
        assert step in output, step
    assert re.search(r"Setahun kelahiran .*\n.*\n +selesai \(\d+\.\d dtk\)", output)
    assert f"SEJAGAD SEHAT berjalan di http://127.0.0.1:{port}/" in output
    after_ctrl_c = output.encode()[before_ctrl_c:].decode(errors="replace")
    for word in ("Traceback", "Error", "ERROR", "Interrupt"):
        assert word not in after_ctrl_c, after_ctrl_c
    assert "celery@" in output and "beat: Starting" in output
    assert "Semua proses berhenti." in output
    shutil.rmtree(clone / ".venv", ignore_errors=True)
