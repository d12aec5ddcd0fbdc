"""Where a reminder leaves the system: a generic HTTP adapter for WhatsApp/SMS gateways, or a file.

The HTTP adapter fits the common Indonesian gateway APIs (a JSON POST with a token) through settings only:
``REMINDER_GATEWAY_URL``, ``REMINDER_GATEWAY_TOKEN``, the auth header, the JSON body template and where the
answer holds the message id. The file backend, the embedded default, appends what would be sent to a JSON
Lines file a day under ``REMINDER_FILES_DIR``. Log lines carry the message's ref, never the number or text.
"""

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


class GatewayError(Exception):
    """The gateway did not take the message; the text (no personal data) is kept on the outbox row."""


@dataclass(frozen=True)
class Outgoing:
    to: str  # E.164, +62...
    message: str
    ref: str  # our id of the message, e.g. "sejagad-42"

    def placeholders(self) -> dict[str, str]:
        digits = self.to.lstrip("+")
        return {
            "to": self.to,
            "to_digits": digits,
            "to_local": "0" + digits[2:] if digits.startswith("62") else digits,
            "message": self.message,
            "ref": self.ref,
            "token": settings.REMINDER_GATEWAY_TOKEN,
        }


def _fill(value, values: dict[str, str]):
    """The JSON template with every string's placeholders filled; JSON escaping is json.dumps's job."""
    if isinstance(value, str):
        for name, text in values.items():
            value = value.replace("{" + name + "}", text)
        return value
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    return value


def _dig(data, path: str):
    for part in path.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


class HttpGateway:
    def __init__(self, *, url: str, body_template: str, id_field: str, timeout: float):
        if not url:
            raise GatewayError("REMINDER_GATEWAY_URL is empty")
        self.url, self.id_field, self.timeout = url, id_field, timeout
        self.template = json.loads(body_template)

    def send(self, outgoing: Outgoing) -> str:
        """POST one message; the gateway's id of it (or our ref when the answer names none)."""
        values = outgoing.placeholders()
        body = json.dumps(_fill(self.template, values)).encode()
        request = urllib.request.Request(self.url, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        if settings.REMINDER_GATEWAY_AUTH_HEADER and settings.REMINDER_GATEWAY_TOKEN:
            auth = settings.REMINDER_GATEWAY_AUTH_VALUE.replace("{token}", settings.REMINDER_GATEWAY_TOKEN)
            request.add_header(settings.REMINDER_GATEWAY_AUTH_HEADER, auth)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (URL from settings)
                answer = response.read()
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise GatewayError(f"tidak terhubung: {type(exc).__name__}") from None
        try:
            gateway_id = _dig(json.loads(answer or b"null"), self.id_field)
        except ValueError:
            gateway_id = None
        logger.info("reminder %s sent through the gateway", outgoing.ref)
        return str(gateway_id) if gateway_id not in (None, "") else outgoing.ref


class FileGateway:
    """The embedded default: what would be sent, one JSON line per message, one file a day."""

    def __init__(self, directory):
        self.directory = directory

    def send(self, outgoing: Outgoing) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        now = timezone.localtime()
        line = {"at": now.isoformat(), "to": outgoing.to, "message": outgoing.message, "ref": outgoing.ref}
        with open(self.directory / f"{now:%Y-%m-%d}.jsonl", "a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        logger.info("reminder %s written to %s", outgoing.ref, self.directory)
        return f"file-{outgoing.ref}"


def get_gateway():
    if settings.REMINDER_GATEWAY == "http":
        return HttpGateway(
            url=settings.REMINDER_GATEWAY_URL,
            body_template=settings.REMINDER_GATEWAY_BODY,
            id_field=settings.REMINDER_GATEWAY_ID_FIELD,
            timeout=settings.REMINDER_GATEWAY_TIMEOUT,
        )
    return FileGateway(settings.REMINDER_FILES_DIR)
