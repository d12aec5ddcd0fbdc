"""A small SATUSEHAT-shaped HTTP server on 127.0.0.1, in a thread, for the client's tests.

It issues tokens from client credentials, accepts Patient, Observation and JSON Patch calls only with a
valid bearer token and the right content type, records every request, and plays planned failures.

Dukcapil-validated records: ``nik_patients`` maps a NIK to the IHS number of the validated Patient holding
it (found by ``GET Patient?identifier=https://fhir.kemkes.go.id/id/nik|<nik>``); ``validated`` holds IHS
numbers of "Bayi Ny." Patients Dukcapil already validated. A JSON Patch touching the identifiers or name of
such a record, or adding a NIK a validated Patient holds, is refused with a 422 OperationOutcome saying so
(echoing the NIK, as a real server may); a patch setting only ``link`` and ``active`` is accepted and kept
in ``links``."""

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID = "uji-client"
CLIENT_SECRET = "uji-secret"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    body: object


@dataclass
class FakeSatusehat:
    requests: list = field(default_factory=list)
    tokens_issued: int = 0
    valid_tokens: set = field(default_factory=set)
    # Planned answers for the next FHIR calls (not token calls): a status code, or (status, diagnostics).
    failures: list = field(default_factory=list)
    patients: dict = field(default_factory=dict)
    nik_patients: dict = field(default_factory=dict)
    validated: set = field(default_factory=set)
    links: dict = field(default_factory=dict)
    expires_in: int = 14399
    lock: threading.Lock = field(default_factory=threading.Lock)

    def revoke_tokens(self):
        self.valid_tokens.clear()

    def fhir_calls(self, method=None, path=None):
        return [
            r
            for r in self.requests
            if "/fhir-r4/" in r.path and (method is None or r.method == method) and (path is None or path in r.path)
        ]


def state_base(handler) -> str:
    return f"http://{handler.headers.get('Host', '127.0.0.1')}/fhir-r4/v1"


def make_handler(state: FakeSatusehat):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self, status, payload, content_type="application/fhir+json"):
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _outcome(self, status, text):
            self._answer(
                status, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "diagnostics": text}]}
            )

        def _handle(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            url = urllib.parse.urlsplit(self.path)
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("application/x-www-form-urlencoded"):
                body = dict(urllib.parse.parse_qsl(raw.decode()))
            else:
                body = json.loads(raw or b"null")
            with state.lock:
                state.requests.append(Seen(self.command, self.path, dict(self.headers), body))
            if url.path == "/oauth2/v1/accesstoken":
                query = dict(urllib.parse.parse_qsl(url.query))
                if query.get("grant_type") != "client_credentials" or body != {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                }:
                    return self._answer(401, {"error": "invalid_client"}, "application/json")
                with state.lock:
                    state.tokens_issued += 1
                    token = f"token-{state.tokens_issued}"
                    state.valid_tokens.add(token)
                return self._answer(
                    200,
                    {"access_token": token, "expires_in": str(state.expires_in), "token_type": "BearerToken"},
                    "application/json",
                )
            if not url.path.startswith("/fhir-r4/v1/"):
                return self._outcome(404, "not found")
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if bearer not in state.valid_tokens:
                return self._outcome(401, "Invalid access token")
            with state.lock:
                planned = state.failures.pop(0) if state.failures else None
            if planned:
                status, text = planned if isinstance(planned, tuple) else (planned, None)
                return self._outcome(
                    status, text or ("Terjadi kesalahan server" if status >= 500 else "Data tidak valid")
                )
            resource = url.path.removeprefix("/fhir-r4/v1/")
            if self.command == "POST" and resource == "Patient":
                if content_type != "application/fhir+json":
                    return self._outcome(415, "content type")
                if "multipleBirthInteger" not in body:
                    return self._outcome(400, "10167 multipleBirthInteger is required")
                nik_ibu = body["identifier"][0]["value"]
                key = (nik_ibu, body["birthDate"], body["multipleBirthInteger"])
                with state.lock:
                    ihs = state.patients.setdefault(key, f"P0{len(state.patients) + 1:010d}")
                return self._answer(201, {"create_patient": True, "data": {"patient_id": ihs}})
            if self.command == "POST" and resource == "Observation":
                if content_type != "application/fhir+json":
                    return self._outcome(415, "content type")
                return self._answer(201, dict(body, id=f"obs-{len(state.requests)}"))
            if self.command == "GET" and resource == "Patient":
                system, _, nik = dict(urllib.parse.parse_qsl(url.query)).get("identifier", "").partition("|")
                if system != "https://fhir.kemkes.go.id/id/nik" or not nik:
                    return self._outcome(400, "identifier search needs system|value")
                found = [state.nik_patients[nik]] if nik in state.nik_patients else []
                entries = [
                    {
                        "fullUrl": f"{state_base(self)}/Patient/{ihs}",
                        "resource": {
                            "resourceType": "Patient",
                            "id": ihs,
                            "identifier": [{"system": system, "value": nik}],
                            "active": True,
                        },
                    }
                    for ihs in found
                ]
                return self._answer(
                    200, {"resourceType": "Bundle", "type": "searchset", "total": len(found), "entry": entries}
                )
            if self.command == "PATCH" and resource.startswith("Patient/"):
                if content_type != "application/json-patch+json":
                    return self._outcome(415, "content type")
                ihs = resource.split("/")[1]
                touched = {op["path"].split("/")[1] for op in body}
                niks = [
                    op["value"]["value"]
                    for op in body
                    if op["path"].startswith("/identifier")
                    and op["value"].get("system") == "https://fhir.kemkes.go.id/id/nik"
                ]
                held = [nik for nik in niks if nik in state.nik_patients]
                if (ihs in state.validated and touched - {"link", "active"}) or held:
                    return self._outcome(
                        422,
                        f"Patient {ihs} tidak dapat diubah: NIK {(held or niks or ['-'])[0]} sudah tervalidasi "
                        "Dukcapil; gunakan Patient.link",
                    )
                if touched == {"link", "active"}:
                    with state.lock:
                        state.links[ihs] = body
                return self._answer(200, {"resourceType": "Patient", "id": ihs})
            return self._outcome(404, "not found")

        do_POST = do_PATCH = do_GET = _handle

    return Handler


class Server:
    def __init__(self):
        self.state = FakeSatusehat()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def configure(settings, url: str) -> None:
    settings.SATUSEHAT_AUTH_URL = f"{url}/oauth2/v1"
    settings.SATUSEHAT_BASE_URL = f"{url}/fhir-r4/v1"
    settings.SATUSEHAT_CLIENT_ID = CLIENT_ID
    settings.SATUSEHAT_CLIENT_SECRET = CLIENT_SECRET
    settings.SATUSEHAT_ORGANIZATION_ID = "100000001"
    settings.SATUSEHAT_TIMEOUT_SECONDS = 5
    settings.SATUSEHAT_RETRY_SECONDS = 60
    settings.SATUSEHAT_MAX_ATTEMPTS = 3
