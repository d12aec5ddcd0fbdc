import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from sejagad.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Menjalankan web (gunicorn), worker Celery dan beat bersama; Ctrl-C menghentikan ketiganya."

    def handle(self, *args, **options):
        host = os.environ.get("HOST", "127.0.0.1")
        port = os.environ.get("PORT", "8000")
        bin_dir = os.path.dirname(sys.executable)
        commands = {
            "web": [
                os.path.join(bin_dir, "gunicorn"),
                "sejagad.wsgi",
                "--bind",
                f"{host}:{port}",
                "--workers",
                os.environ.get("WEB_CONCURRENCY", "2"),
                "--threads",
                "4",
                "--access-logfile",
                "-",
            ],
            # One worker with embedded beat: exactly one scheduler, as the filesystem broker wants.
            "worker+beat": [
                os.path.join(bin_dir, "celery"),
                "-A",
                "sejagad",
                "worker",
                "--beat",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        # Installed before anything starts: a Ctrl-C during start-up stops cleanly too, without a traceback.
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        # Each in its own process group, so the Ctrl-C at the terminal reaches only us, and a fallback SIGKILL
        # reaches its children too (gunicorn workers, the Celery pool and beat).
        processes = {name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in commands.items()}
        self.stdout.write(self.style.SUCCESS(f"\nSEJAGAD SEHAT berjalan di http://{host}:{port}/"))
        if settings.DEMO_USERS:
            names = ", ".join(u[0] for u in DEMO_USERS)
            self.stdout.write(f"Pengguna demo: {names} (kata sandi: {DEMO_PASSWORD})")
        self.stdout.write("Tekan Ctrl-C untuk berhenti.\n")
        self.stdout.flush()

        while not stopping and all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        if stopping:
            self.stdout.write("\nMenghentikan web, worker dan beat ...")
            self.stdout.flush()
        # SIGTERM to each leader only: gunicorn and Celery then stop their own workers and pool in order (a
        # pool child killed under the worker's feet is logged as an ERROR). What is left after that, or
        # after a leader that does not stop in time, is killed with its whole group.
        for p in processes.values():
            _signal(p, signal.SIGTERM)
        for p in processes.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _signal_group(p, signal.SIGKILL)
                p.wait()
            _signal_group(p, signal.SIGKILL)
        failed = [name for name, p in processes.items() if p.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
        if failed and not stopping:
            self.stderr.write(f"Berhenti karena proses {', '.join(failed)} keluar.")
            sys.exit(1)
        self.stdout.write("Semua proses berhenti.")


def _signal(process: subprocess.Popen, sig: int) -> None:
    try:
        process.send_signal(sig)
    except ProcessLookupError:
        pass


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
