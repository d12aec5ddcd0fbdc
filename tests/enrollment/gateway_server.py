"""A small WhatsApp/SMS gateway on 127.0.0.1 for the tests: it records each request and answers as told."""

import contextlib
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeGateway:
    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next = 0  # answer HTTP 500 to this many requests, then accept
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.url = ""

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict]:
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length) or b"null")
        with self.lock:
            self.requests.append({"path": handler.path, "headers": dict(handler.headers), "json": body})
            if self.fail_next:
                self.fail_next -= 1
                return 500, {"status": False, "reason": "device offline"}
            return 200, {"status": True, "data": {"id": f"gw-{next(self.ids)}"}}


@contextlib.contextmanager
def fake_gateway():
    gateway = FakeGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            status, answer = gateway.handle(self)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
