"""Server-side response time of the dashboard (p50/p95), outside the test suite.

Two data sizes: a year of one district (the Luwu Utara demo: ~5,400 births) and a national-size
newborn table (4.5 million births over every desa of Indonesia; 200,000 with --quick). Requests go
through Django's full stack in-process (middleware, views, templates), one at a time, without the network;
``make loadtest`` measures the same pages under 10 concurrent users through gunicorn."""

import statistics
import time

from django.db import connection
from django.test import Client

from coverage.demo import seed_demo_coverage
from enrollment import flagging
from newborns.demo import seed_demo_births
from sejagad.benchmarks import generate_newborns, report_goal
from sejagad.demo import seed_demo_facilities
from sejagad.models import User
from sejagad.roles import Role
from sejagad.services import load_regions

NATIONAL, QUICK = 4_500_000, 200_000
REQUESTS = 60
GOAL_P95_MS = 150  # issue #12: dashboard p95 on the national table, 10 users


def _percentiles(client: Client, url: str) -> tuple[float, float, int]:
    client.get(url)  # warm caches and the connection
    timings = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], len(timings)


def _staff_client() -> Client:
    user, _ = User.objects.update_or_create(
        username="bench-dinkes", defaults={"role": Role.STAF_DINKES, "region_id": "73.22"}
    )
    client = Client()
    client.force_login(user)
    return client


def run(out, quick: bool = False) -> None:
    load_regions(code="73.22")
    generate_newborns(0)
    seed_demo_facilities()
    seed_demo_coverage()
    births = seed_demo_births()
    flagging.flag_deadlines()
    client = _staff_client()
    for label, url in (("kabupaten", "/dasbor/"), ("kecamatan", "/dasbor/?wilayah=73.22.03")):
        p50, p95, n = _percentiles(client, url)
        out.write(
            f"dashboard, {label}, a year of one district ({births:,} births): p50 {p50:.0f} ms, "
            f"p95 {p95:.0f} ms ({n} requests)"
        )

    size = QUICK if quick else NATIONAL
    started = time.perf_counter()
    load_regions()
    generate_newborns(size, desa_prefix="")
    flagging.create_missing_enrollments()
    flagging.flag_deadlines()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM newborns_newborn WHERE desa_id LIKE '73.22.%%'")
        district_births = cursor.fetchone()[0]
    out.write(
        f"national table: {size:,} newborns over every desa of Indonesia, generated and flagged in "
        f"{time.perf_counter() - started:.0f} s ({district_births:,} of them in Luwu Utara)"
    )
    client = _staff_client()
    for label, url in (("kabupaten", "/dasbor/"), ("kecamatan", "/dasbor/?wilayah=73.22.03")):
        p50, p95, n = _percentiles(client, url)
        report_goal(
            out,
            f"dashboard, {label}, national-size table, one client, p95 of {n} (p50 {p50:.0f} ms)",
            p95,
            goal=GOAL_P95_MS,
            unit="ms",
        )
