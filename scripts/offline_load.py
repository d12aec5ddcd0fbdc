"""How heavy the birth form is on a slow 3G phone, and that it opens from the phone's cache afterwards.

Used two ways:
- by ``tests/browser/test_offline_load.py`` against the test server (static files uncompressed), which holds
  the figures to a budget and checks the second load comes from the service worker;
- as a script, against gunicorn started as the Docker image starts it (DEBUG=False, WhiteNoise's compressed,
  hashed static files), which gives the figures written in docs/OFFLINE.md:

    DATABASE_URL=postgres://... .venv/bin/python scripts/offline_load.py

The script migrates that database, loads Luwu Utara and the demo facilities, creates the user
``ukur-bidan`` (a bidan at Puskesmas Masamba) and measures. The slow 3G profile is Chrome DevTools' preset
(``SLOW_3G`` in Chromium's DevTools front end: 500 kbit/s x 0.8 each way, 400 ms x 5 latency), applied with
``Network.emulateNetworkConditions`` to the page; the service worker's own fetches are not throttled.
"""

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
FORM_PATH = "/bayi/baru/"
USERNAME, PASSWORD = "ukur-bidan", "ukur-offline-2025"


@dataclass
class Load:
    """One load of the birth form: when it finished and what came over the network."""

    load_ms: float
    network_bytes: int = 0
    requests: list[tuple[str, int, bool]] = field(default_factory=list)  # (path, bytes on the wire, from worker)

    @property
    def from_worker(self) -> int:
        return sum(1 for _path, _size, worker in self.requests if worker)

    @property
    def from_network(self) -> int:
        return sum(1 for _path, _size, worker in self.requests if not worker)


def _watch(cdp) -> dict:
    seen: dict = {}

    def on_response(event):
        response = event["response"]
        if not response["url"].startswith("http"):
            return  # data: URLs inside the CSS are not requests
        seen[event["requestId"]] = [response["url"], 0, bool(response.get("fromServiceWorker"))]

    def on_finished(event):
        if event["requestId"] in seen:
            seen[event["requestId"]][1] = int(event.get("encodedDataLength", 0))

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    return seen


def _load(page, cdp, url: str, *, reload: bool = False) -> Load:
    seen = _watch(cdp)
    if reload:
        page.reload(wait_until="load")
    else:
        page.goto(url, wait_until="load")
    page.wait_for_timeout(200)  # the last loadingFinished events
    load_ms = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
    requests = [(u.split("//", 1)[-1].split("/", 1)[-1], size, worker) for u, size, worker in seen.values()]
    network = sum(size for _path, size, worker in requests if not worker)
    return Load(load_ms=load_ms, network_bytes=network, requests=requests)


def wait_until_kept_offline(page, timeout_s: float = 60) -> float:
    """Seconds until the service worker controls the page and holds the birth form."""
    start = time.monotonic()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=timeout_s * 1000)
    while time.monotonic() - start < timeout_s:
        if page.evaluate("async () => !!(await caches.match(location.pathname))"):
            return time.monotonic() - start
        page.wait_for_timeout(100)
    raise AssertionError("the birth form was never kept in the service worker's cache")


def measure(page, base_url: str) -> dict[str, Load | float]:
    """First load over slow 3G with nothing kept, then again with signal, then with none."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    url = base_url + FORM_PATH
    first = _load(page, cdp, url)
    ready_s = wait_until_kept_offline(page)
    again = _load(page, cdp, url, reload=True)
    cdp.send("Network.emulateNetworkConditions", {**SLOW_3G, "offline": True})
    page.context.set_offline(True)
    offline = _load(page, cdp, url, reload=True)
    page.context.set_offline(False)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    return {"first": first, "ready_s": ready_s, "again": again, "offline": offline}


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/masuk/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(lambda url: "/masuk/" not in url)


def report(figures: dict) -> str:
    first, again, offline = figures["first"], figures["again"], figures["offline"]
    lines = [
        "| load of /bayi/baru/ | loaded in | over the network | requests: network / service worker |",
        "| --- | --- | --- | --- |",
        f"| first, nothing on the phone, slow 3G | {first.load_ms / 1000:.1f} s | {first.network_bytes / 1024:.0f} KB "
        f"| {first.from_network} / {first.from_worker} |",
        f"| again, slow 3G (the page from the network, the rest from the phone) | {again.load_ms / 1000:.1f} s "
        f"| {again.network_bytes / 1024:.0f} KB | {again.from_network} / {again.from_worker} |",
        f"| again, no signal | {offline.load_ms / 1000:.2f} s | {offline.network_bytes} bytes "
        f"| {offline.from_network} / {offline.from_worker} |",
        "",
        f"Ready offline (worker installed, form kept) {figures['ready_s']:.1f} s after the first load.",
        "",
        "First load, each request (bytes on the wire):",
        "",
    ]
    lines += [
        f"- `{path}`: {size / 1024:.1f} KB" for path, size, _worker in sorted(first.requests, key=lambda r: -r[1])
    ]
    return "\n".join(lines)


# --- As a script: gunicorn as the Docker image runs it -------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _production_env(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        # Plain HTTP on this machine: Chromium treats localhost as secure (service worker, Secure cookies).
        "SECURE_SSL_REDIRECT": "False",
        "SEJAGAD_VAR_DIR": str(tmp / "var"),
        "STATIC_ROOT": str(tmp / "static"),
        "CELERY_BROKER_URL": "filesystem://",
        "PYTHONUNBUFFERED": "1",
    }


def _prepare(env: dict[str, str]) -> None:
    manage = [sys.executable, "manage.py"]
    for args in (
        ["compile_translations"],
        ["collectstatic", "--noinput"],
        ["migrate", "--noinput"],
        ["load_regions", "73.22"],
    ):
        subprocess.run(manage + args, cwd=ROOT, env=env, check=True, capture_output=True)
    script = (
        "from sejagad.demo import seed_demo_facilities; from sejagad.models import Facility, User; "
        "from sejagad.roles import Role; seed_demo_facilities(); "
        f"u, _ = User.objects.get_or_create(username={USERNAME!r}, defaults={{'role': Role.BIDAN, "
        "'facility': Facility.objects.get(code='PKM-732203')}); "
        f"u.set_password({PASSWORD!r}); u.save()"
    )
    subprocess.run(manage + ["shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True)


def main() -> None:
    from playwright.sync_api import sync_playwright

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database this script may migrate and fill.")
    with tempfile.TemporaryDirectory() as tmp:
        env = _production_env(Path(tmp))
        _prepare(env)
        port = _free_port()
        # The Dockerfile's CMD (gunicorn.conf.py is read from the checkout), on this machine only.
        cmd = [
            str(Path(sys.executable).parent / "gunicorn"),
            "sejagad.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--timeout",
            "60",
        ]
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        base = f"http://localhost:{port}"
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=2)
                    break
                except (OSError, urllib.error.HTTPError):
                    time.sleep(0.5)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                    args=["--no-sandbox", "--disable-gpu"],
                )
                context = browser.new_context(
                    viewport={"width": 390, "height": 844}, locale="id-ID", is_mobile=True, has_touch=True
                )
                page = context.new_page()
                log_in(page, base, USERNAME, PASSWORD)
                print(report(measure(page, base)))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
