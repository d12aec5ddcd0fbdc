"""The SATUSEHAT client: OAuth2 client credentials, the token cached until it expires, FHIR calls with timeouts.

Settings (``SATUSEHAT_*``, from the environment) name the sandbox or production URLs and the district's
organisation. Errors come back as ``SatusehatError`` with an Indonesian message fit for the baby's page, and
whether trying again later may help. No NIK is ever written to a log or kept in an error message.
"""

import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from newborns.privacy import mask_number

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"
# A token is dropped from the cache this long before SATUSEHAT says it expires, so none is sent stale.
TOKEN_MARGIN_SECONDS = 60
RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504}
_LONG_NUMBER = re.compile(r"\d{16}")
# How SATUSEHAT's Master Patient Index refuses to patch a NIK into a "Bayi Ny." Patient once Dukcapil has
# validated a Patient with that NIK: a 4xx OperationOutcome whose diagnostics say the record is already
# validated (or that the NIK is already registered to another Patient). Matched on the words, in Indonesian
# or English, because SATUSEHAT publishes no dedicated error code for it.
VALIDATED_STATUSES = {400, 409, 412, 422}
_ALREADY_VALIDATED = re.compile(
    r"tervalidasi|sudah\s+divalidasi|already\s+(?:been\s+)?validated|NIK\s+sudah\s+terdaftar|already\s+registered",
    re.IGNORECASE,
)


class SatusehatError(Exception):
    """A call that failed; ``retryable`` when trying later may succeed (server error, timeout, network)."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True, details: str = ""):
        self.message = hide_numbers(message)[:500]
        self.status = status
        self.retryable = retryable
        # SATUSEHAT's own diagnostics (OperationOutcome), masked: what tells a validated record apart.
        self.details = hide_numbers(details)[:500]
        super().__init__(self.message)

    @property
    def already_validated(self) -> bool:
        """SATUSEHAT refused a NIK patch because a Dukcapil-validated Patient holds that NIK: merge instead."""
        return self.status in VALIDATED_STATUSES and bool(_ALREADY_VALIDATED.search(self.details))


def hide_numbers(text: str) -> str:
    """Any 16-digit number (a NIK or KK echoed by SATUSEHAT) masked."""
    return _LONG_NUMBER.sub(lambda m: mask_number(m.group()), text or "")


@dataclass(frozen=True)
class Config:
    auth_url: str
    base_url: str
    client_id: str
    client_secret: str
    organization_id: str
    timeout: float

    @classmethod
    def from_settings(cls) -> "Config":
        return cls(
            auth_url=settings.SATUSEHAT_AUTH_URL.rstrip("/"),
            base_url=settings.SATUSEHAT_BASE_URL.rstrip("/"),
            client_id=settings.SATUSEHAT_CLIENT_ID,
            client_secret=settings.SATUSEHAT_CLIENT_SECRET,
            organization_id=settings.SATUSEHAT_ORGANIZATION_ID,
            timeout=settings.SATUSEHAT_TIMEOUT_SECONDS,
        )

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret and self.organization_id)


def is_configured() -> bool:
    """This installation has SATUSEHAT credentials and an organisation id; else nothing is sent."""
    return Config.from_settings().configured


def not_configured_message() -> str:
    return _("SATUSEHAT belum dikonfigurasi untuk kabupaten ini; data menunggu dan akan dikirim setelah diatur.")


class SatusehatClient:
    def __init__(self, config: Config | None = None):
        self.config = config or Config.from_settings()
        if not self.config.configured:
            raise SatusehatError(not_configured_message(), retryable=False)

    @property
    def _token_key(self) -> str:
        return f"satusehat:token:{self.config.auth_url}:{self.config.client_id}"

    def token(self, *, fresh: bool = False) -> str:
        """The access token, from the cache while it is valid; a new one from the client credentials."""
        if not fresh and (token := cache.get(self._token_key)):
            return token
        body = urllib.parse.urlencode(
            {"client_id": self.config.client_id, "client_secret": self.config.client_secret}
        ).encode()
        status, answer = self._send(
            "POST",
            f"{self.config.auth_url}/accesstoken?grant_type=client_credentials",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        if status in (400, 401, 403):
            raise SatusehatError(
                _("SATUSEHAT menolak kredensial (client id/secret) kabupaten ini; periksa pengaturan SATUSEHAT."),
                status=status,
                retryable=False,
            )
        if status != 200 or not answer.get("access_token"):
            raise SatusehatError(
                _("SATUSEHAT tidak memberi token akses (HTTP %(status)s); akan dicoba lagi.") % {"status": status},
                status=status,
            )
        lifetime = int(answer.get("expires_in") or 0)
        cache.set(self._token_key, answer["access_token"], max(lifetime - TOKEN_MARGIN_SECONDS, 1))
        return answer["access_token"]

    def request(self, method: str, path: str, payload, *, content_type: str = FHIR_JSON) -> dict:
        """One FHIR call; a 401 (token revoked or expired early) gets a fresh token and one more try.
        Only the path before any ``?`` is logged: a search query may carry a NIK."""
        url = f"{self.config.base_url}/{path.lstrip('/')}"
        body = None if payload is None else json.dumps(payload).encode()
        for fresh in (False, True):
            headers = {"Authorization": f"Bearer {self.token(fresh=fresh)}", "Accept": FHIR_JSON}
            if body is not None:
                headers["Content-Type"] = content_type
            status, answer = self._send(method, url, body=body, headers=headers)
            if status != 401:
                break
            cache.delete(self._token_key)
        logger.info("SATUSEHAT %s %s -> %s", method, path.split("?")[0], status)
        if 200 <= status < 300:
            return answer
        raise SatusehatError(
            self._error_message(status, answer),
            status=status,
            retryable=self._retryable(status),
            details=self._details(answer),
        )

    def create_patient(self, resource: dict) -> str:
        """POST the Patient; SATUSEHAT answers the baby's IHS number (``data.patient_id``, or a resource id)."""
        answer = self.request("POST", "Patient", resource)
        ihs = (answer.get("data") or {}).get("patient_id") or answer.get("id")
        if not ihs:
            raise SatusehatError(_("SATUSEHAT tidak mengembalikan nomor IHS bayi; akan dicoba lagi."))
        return str(ihs)

    def add_to_patient(self, ihs_number: str, operations: list[dict]) -> dict:
        return self.request("PATCH", f"Patient/{ihs_number}", operations, content_type=JSON_PATCH)

    def find_patient_by_nik(self, nik: str) -> str | None:
        """The IHS number of the Patient SATUSEHAT holds under this NIK (``GET Patient?identifier=
        https://fhir.kemkes.go.id/id/nik|<nik>``, a searchset Bundle), or None when there is none. The NIK
        travels only in this outbound query; it is never logged and is masked in any error kept."""
        from newborns.fhir import NIK_SYSTEM

        query = urllib.parse.urlencode({"identifier": f"{NIK_SYSTEM}|{nik}"}, safe=":/|")
        answer = self.request("GET", f"Patient?{query}", None)
        for entry in answer.get("entry") or []:
            resource = entry.get("resource") or {}
            if resource.get("resourceType") == "Patient" and resource.get("id"):
                return str(resource["id"])
        return None

    def create_observation(self, resource: dict) -> str:
        answer = self.request("POST", "Observation", resource)
        return str(answer.get("id") or (answer.get("data") or {}).get("id") or "")

    def _send(self, method: str, url: str, *, body: bytes | None, headers: dict) -> tuple[int, dict]:
        request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout) as response:  # noqa: S310
                return response.status, _json(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _json(exc.read())
        except TimeoutError:
            raise SatusehatError(
                _("SATUSEHAT tidak menjawab dalam %(s)s detik; akan dicoba lagi.") % {"s": self.config.timeout}
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise SatusehatError(
                    _("SATUSEHAT tidak menjawab dalam %(s)s detik; akan dicoba lagi.") % {"s": self.config.timeout}
                ) from None
            raise SatusehatError(_("SATUSEHAT tidak dapat dihubungi; akan dicoba lagi.")) from None

    @staticmethod
    def _retryable(status: int) -> bool:
        return status in RETRYABLE_STATUSES or status >= 500

    @staticmethod
    def _details(answer: dict) -> str:
        return "; ".join(
            filter(
                None,
                (
                    issue.get("diagnostics") or (issue.get("details") or {}).get("text") or ""
                    for issue in answer.get("issue") or []
                ),
            )
        ) or str(answer.get("message") or "")

    @classmethod
    def _error_message(cls, status: int, answer: dict) -> str:
        details = cls._details(answer)
        if status == 401:
            text = _("SATUSEHAT menolak token akses walau sudah diperbarui")
        elif status >= 500 or status in RETRYABLE_STATUSES:
            text = _("SATUSEHAT sedang bermasalah (HTTP %(status)s); akan dicoba lagi") % {"status": status}
        else:
            text = _("SATUSEHAT menolak data bayi (HTTP %(status)s)") % {"status": status}
        return f"{text}: {details}" if details else text


def _json(raw: bytes) -> dict:
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
