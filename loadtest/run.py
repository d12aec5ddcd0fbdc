"""``make loadtest``: Locust, headless, against gunicorn started the way the Docker image starts it.

For each dataset (LOADTEST_DATASETS, default "district national"):
  district  the Luwu Utara demo (``seed_demo --users --births``) in LOADTEST_DATABASE_URL;
  national  LOADTEST_NATIONAL_ROWS newborns (default 4,500,000) over every desa of Indonesia, every enrollment
            flagged, in the same server's database named <name>_national; kept between runs (about 8 minutes
            to generate), generated again only when its size differs; Luwu Utara's babies born at their
            kecamatan's puskesmas, so the demo bidan reads her puskesmas's list.
Each database is created when missing and refused when it holds someone else's data (sejagad.benchmarks).

Production shape: DEBUG=False, a random SECRET_KEY, static files collected into a temporary STATIC_ROOT, the
rest of .env.example, and the Dockerfile's CMD (gunicorn.conf.py from the checkout) bound to 127.0.0.1.
LOADTEST_USERS (10) users sign in through the login form and read pages for LOADTEST_RUN_TIME (60s);
LOADTEST_PAGES narrows the pages (e.g. "dashboard"); LOADTEST_CONNECTION=close opens a connection per request
(kept alive by default). The figures per page are printed; Locust's CSV files are kept in var/loadtest/.
"""

import csv
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sejagad_loadtest"
OWNER = "loadtest"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def database_url(dataset: str) -> str:
    url = _env("LOADTEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    if dataset == "national":
        parts = urlsplit(url)
        url = parts._replace(path=parts.path.rstrip("/") + "_national").geturl()
    return url


# --- In a child process, with DATABASE_URL set: fill the database ------------------------------------------


def prepare(dataset: str) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sejagad.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import connection

    from enrollment import flagging, summary
    from enrollment.models import Enrollment, FlagRun
    from newborns.models import Newborn
    from sejagad.benchmarks import claim_database, create_database, generate_newborns
    from sejagad.models import Facility, FacilityKind
    from sejagad.services import load_regions

    create_database()
    try:
        claim_database(OWNER)
    except CommandError as error:
        raise SystemExit(str(error)) from None
    call_command("migrate", verbosity=0)
    quiet = open(os.devnull, "w")  # noqa: SIM115 - seed_demo's progress is not the load test's
    if dataset == "district":
        call_command("seed_demo", users=True, births=True, stdout=quiet)
    else:
        rows = int(_env("LOADTEST_NATIONAL_ROWS", "4500000"))
        # A flag run on record: an interrupted generation (enrollments not flagged yet) is not reused.
        if Newborn.objects.count() == rows and Enrollment.objects.count() == rows and FlagRun.objects.exists():
            print(f"  national table: {rows:,} newborns already there, kept", file=sys.stderr)
        else:
            print(f"  national table: generating {rows:,} newborns (about 8 minutes for 4.5 M) ...", file=sys.stderr)
            started = time.monotonic()
            load_regions()
            generate_newborns(rows, desa_prefix="")
            flagging.create_missing_enrollments()
            flagging.flag_deadlines()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            print(f"  national table: generated and flagged in {time.monotonic() - started:.0f} s", file=sys.stderr)
        call_command("seed_demo", users=True, stdout=quiet)
        # Luwu Utara's babies born at their kecamatan's puskesmas (seed_demo's facilities): the demo bidan's
        # pages then read her puskesmas's babies, not an empty list. The enrollments' copies follow (triggers).
        newborns, facilities = Newborn._meta.db_table, Facility._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {newborns} n SET facility_id = f.id FROM {facilities} f WHERE f.kind = %s"
                " AND left(f.region_id, 8) = left(n.desa_id, 8) AND n.desa_id LIKE %s AND n.facility_id IS NULL",
                [FacilityKind.PUSKESMAS, "73.22.%"],
            )
    # As the daily flag task does: the dashboard's summary is counted before the first reader comes.
    started = time.monotonic()
    summary.refresh()
    print(f"  dashboard summary counted in {time.monotonic() - started:.1f} s", file=sys.stderr)
    # As autovacuum would have by the time users come (a server may run with it off): the summary's queue of
    # marked desa, emptied by the refresh, is otherwise 500,000 dead rows that every page's version check reads.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {
        "births": Newborn.objects.count(),
        "district_births": Newborn.objects.filter(desa__code__startswith="73.22.").count(),
    }


# --- In the parent: production shape, gunicorn, Locust, figures ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.strip().startswith("#")}


def production_env(url: str, tmp: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        **_env_example(),
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{port}",
        "DATABASE_URL": url,
        # No worker runs: a task a page queues waits in a folder of this run, as on the embedded default.
        "CELERY_BROKER_URL": _env("LOADTEST_BROKER_URL", "filesystem://"),
        "SEJAGAD_VAR_DIR": str(tmp / "var"),
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "PYTHONUNBUFFERED": "1",
    }


def gunicorn_command(port: int) -> list[str]:
    """The Dockerfile's CMD, bound to this machine only, with the virtualenv's gunicorn."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    cmd = next(json.loads(line[4:]) for line in text.splitlines() if line.startswith("CMD "))
    bind = cmd.index("--bind") + 1
    cmd[bind] = f"127.0.0.1:{port}"
    cmd[0] = str(Path(sys.executable).parent / cmd[0])
    return cmd


def _wait_ready(port: int, server: subprocess.Popen, timeout: float = 90) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn stopped before it answered /healthz: see its log above")
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not answer /healthz in time")


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.stdout.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"{' '.join(args)} failed")


def _figures(stats_csv: Path) -> tuple[list[dict], dict]:
    with stats_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    pages = [r for r in rows if r["Name"] != "Aggregated" and int(r["Request Count"])]
    total = next(r for r in rows if r["Name"] == "Aggregated")
    return pages, total


def _line(name: str, row: dict) -> str:
    requests, failures = int(row["Request Count"]), int(row["Failure Count"])
    errors = 100 * failures / requests if requests else 0.0
    return (
        f"{name:<44} {requests:>8,} {float(row['Requests/s']):>8.1f} {row['50%']:>7} {row['95%']:>7} "
        f"{row['99%']:>7} {errors:>7.2f}%"
    )


def load_test(dataset: str, tmp: Path, out_dir: Path) -> None:
    url = database_url(dataset)
    port = _free_port()
    env = production_env(url, tmp, port)
    print(f"==> {dataset}: preparing {urlsplit(url).path.lstrip('/')} ...", flush=True)
    child = subprocess.run(
        [sys.executable, __file__, "--prepare", dataset], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    if child.returncode:
        raise SystemExit(child.returncode)
    data = json.loads(child.stdout.strip().splitlines()[-1])

    users = int(_env("LOADTEST_USERS", "10"))
    # LOADTEST_PAGES="dashboard" (or worklist, newborns, notifications): only those pages, by Dinkes officers.
    pages = ["--tags", *_env("LOADTEST_PAGES", "").split(), "Dinkes"] if os.environ.get("LOADTEST_PAGES") else []
    run_time = _env("LOADTEST_RUN_TIME", "60s")
    log_path = out_dir / f"{dataset}_gunicorn.log"
    with log_path.open("w") as log, (out_dir / f"{dataset}_locust.log").open("w") as locust_log:
        server = subprocess.Popen(gunicorn_command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(port, server)
            prefix = out_dir / dataset
            print(f"==> {dataset}: {users} users for {run_time} against gunicorn on port {port} ...", flush=True)
            load_before = os.getloadavg()[0]
            subprocess.run(
                [
                    *(sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py")),
                    *("--headless", "--only-summary", "--loglevel", "WARNING"),
                    *("-u", str(users), "-r", str(users), "-t", run_time),
                    *("--host", f"http://127.0.0.1:{port}", "--csv", str(prefix)),
                    *pages,
                ],
                cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdout=locust_log,
                stderr=subprocess.STDOUT,
            )
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    pages, total = _figures(Path(f"{prefix}_stats.csv"))
    what = (
        f"Luwu Utara demo, {data['births']:,} births"
        if dataset == "district"
        else f"national table, {data['births']:,} newborns ({data['district_births']:,} in Luwu Utara)"
    )
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, {os.cpu_count()} CPUs"
    print(f"\n{dataset}: {what}; {users} users, {run_time}, DEBUG=False, the Dockerfile's gunicorn; {load}")
    print(f"{'page':<44} {'requests':>8} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>8}")
    for row in sorted(pages, key=lambda r: r["Name"]):
        print(_line(row["Name"], row))
    print(_line("total", total), flush=True)
    with Path(f"{prefix}_failures.csv").open(newline="") as f:
        for failure in list(csv.DictReader(f))[:5]:
            print(f"  error: {failure['Name']}: {failure['Error']} ({failure['Occurrences']}x)")
    print(f"(Locust CSV and log, gunicorn log: {out_dir}/{dataset}_*)\n", flush=True)


def main() -> None:
    if sys.argv[1:2] == ["--prepare"]:
        print(json.dumps(prepare(sys.argv[2])))
        return
    datasets = sys.argv[1:] or _env("LOADTEST_DATASETS", "district national").split()
    unknown = set(datasets) - {"district", "national"}
    if unknown:
        raise SystemExit(f"unknown dataset(s): {', '.join(sorted(unknown))} (district, national)")
    out_dir = ROOT / "var" / "loadtest"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sejagad-loadtest-") as tmp:
        tmp = Path(tmp)
        env = production_env(database_url(datasets[0]), tmp, 0)
        print("==> collecting static files (DEBUG=False, as the Dockerfile does) ...", flush=True)
        _run([sys.executable, "manage.py", "compile_translations"], env)
        _run([sys.executable, "manage.py", "collectstatic", "--noinput"], env)
        for dataset in datasets:
            load_test(dataset, tmp, out_dir)


if __name__ == "__main__":
    main()
