"""Locust users for ``make loadtest``: people signed in through the real login form, reading the busy pages.

Behind gunicorn with production settings, as nginx would talk to it: every request says the client came in
over https (X-Forwarded-Proto), and the Secure session and CSRF cookies are sent back over the plain-http
hop. No think time: each user asks for the next page as soon as the last one is answered.

Connections are kept alive, as nginx keeps them with an upstream ``keepalive`` pool; LOADTEST_CONNECTION=close
opens one per request, as nginx's proxy_pass does without that pool. Kept-alive connections stay with the
gunicorn worker that accepted them: one worker (one core, for its lock on Python) was seen holding seven of
the ten users, whose pages then waited longer than the others'. A connection per request spreads the users
and costs each request its connection (the district dashboard: 155 req/s kept alive, 125 closed).
"""

import os
import re

from locust import FastHttpUser, constant, tag, task

PASSWORD = os.environ.get("LOADTEST_PASSWORD", "sejagad-demo")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PROXY = {"X-Forwarded-Proto": "https"}
if os.environ.get("LOADTEST_CONNECTION", "keep-alive") == "close":
    PROXY["Connection"] = "close"
signed_in = 0  # users past their login; the figures start when all are (gevent: one thread)


class SignedIn(FastHttpUser):
    abstract = True
    username = ""
    wait_time = constant(float(os.environ.get("LOADTEST_WAIT", "0")))

    def _keep_secure_cookies(self) -> None:
        # The cookies are Secure (DEBUG=False); gunicorn is reached over http, as from the TLS proxy.
        for cookie in self.client.cookiejar:
            cookie.secure = False

    def on_start(self) -> None:
        login = self.client.get("/masuk/", headers=PROXY, name="login form")
        self._keep_secure_cookies()
        token = CSRF_FIELD.search(login.text)
        origin = f"https://{self.host.split('://', 1)[1]}"
        fields = {"username": self.username, "password": PASSWORD}
        with self.client.post(
            "/masuk/",
            data={"csrfmiddlewaretoken": token.group(1) if token else "", **fields},
            headers={**PROXY, "Referer": f"{origin}/masuk/"},
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as answer:
            if answer.status_code != 302 or "/masuk/" in answer.headers.get("Location", ""):
                answer.failure(f"{self.username} could not sign in ({answer.status_code})")
        self._keep_secure_cookies()
        global signed_in
        signed_in += 1
        if signed_in == self.environment.runner.target_user_count:
            # Pages only: the sign-ins (slow on purpose, password hashing) stay out of the figures.
            self.environment.stats.reset_all()

    def page(self, path: str) -> None:
        """A page counts as served only when it is the page itself: a redirect to the login is an error."""
        with self.client.get(
            path, headers=PROXY, allow_redirects=False, name=f"{self.username} {path}", catch_response=True
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code}")

    # The pages every signed-in user reads, each within her own scope.
    @tag("worklist")
    @task
    def at_risk_worklist(self):
        self.page("/kepesertaan/")

    @tag("newborns")
    @task
    def newborn_list(self):
        self.page("/bayi/")

    @tag("notifications")
    @task
    def notifications(self):
        self.page("/kepesertaan/notifikasi/")


class Dinkes(SignedIn):
    """A Dinkes officer of Luwu Utara (73.22)."""

    weight = int(os.environ.get("LOADTEST_DINKES_WEIGHT", "4"))
    username = os.environ.get("LOADTEST_DINKES_USER", "dinkes")

    @tag("dashboard")
    @task
    def dashboard(self):
        self.page("/dasbor/")

    @tag("dashboard")
    @task
    def dashboard_kecamatan(self):
        self.page("/dasbor/?wilayah=73.22.03")


class Bidan(SignedIn):
    """The demo midwife of Puskesmas 73.22.03: her own babies and notices."""

    weight = int(os.environ.get("LOADTEST_BIDAN_WEIGHT", "1"))
    username = os.environ.get("LOADTEST_BIDAN_USER", "bidan")
