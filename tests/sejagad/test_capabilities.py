"""Every page and API route checks its capability: one table, walked against every named URL and every role.

A URL that is not in the table fails ``test_every_named_url_is_in_the_capability_table``: add it to ``TABLE``
with the capability it needs (``LOGIN`` when any signed-in user may open it)."""

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from coverage.models import CoverageImport, ImportKind, ImportStatus
from enrollment.models import (
    Digest,
    ExportJob,
    ExportJobStatus,
    Notification,
    PbiProposal,
    Reconciliation,
    ReminderMessage,
    ReminderStep,
)
from sejagad.roles import Capability as C
from sejagad.roles import Role, can
from tests.factories import BidanFactory, UserFactory, register

# Every page for every role, on PostgreSQL and again on the embedded SQLite (`make run`'s database).
pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

LOGIN = "signed in"  # no capability: any signed-in user
# Not checked here, on purpose: the admin has its own gate (tests/sejagad/test_access.py), the others
# are for everyone (the login page, the language switch, the load balancer's health check, the password
# reset by e-mail: tests/sejagad/test_everyday.py; the app's manifest and service worker, which hold no data:
# tests/sejagad/test_pwa.py).
EXCLUDED = {"login", "logout", "healthz", "set_language", "api-token", "service_worker", "manifest"} | {
    # Called by the WhatsApp/SMS gateway with a shared secret, not by a role (tests/enrollment/test_reminders.py).
    "enrollment:reminder_status_webhook",
    "enrollment:reminder_inbound_webhook",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
EXCLUDED_NAMESPACES = {"admin"}


def baby(world, user):
    return {"pk": world["baby"].pk}


def enrollment(world, user):
    return {"pk": world["baby"].enrollment.pk}


def own_reconciliation(world, user):
    record = Reconciliation.objects.create(uploaded_by=user, file_name="bpjs.csv", columns=["noka"], rows=[])
    return {"pk": record.pk}


def own_import(world, user):
    record = CoverageImport.objects.create(
        kind=ImportKind.POPULATION,
        file_name="penduduk.csv",
        uploaded_by=user,
        region=user.scope_region,
        status=ImportStatus.INVALID,
    )
    return {"pk": record.pk}


def own_pbi_proposal(world, user):
    enrollment = world["baby"].enrollment
    record = PbiProposal.objects.create(
        enrollment=enrollment,
        segment="PBI-APBD",
        period=timezone.localdate().replace(day=1),
        proposed_on=timezone.localdate(),
        proposed_by=user,
    )
    return {"pk": record.pk}


def own_notice(world, user):
    notice = Notification.objects.create(
        recipient=user, enrollment=world["baby"].enrollment, deadline="registration", level=4
    )
    return {"pk": notice.pk}


def own_digest(world, user):
    return {"pk": Digest.objects.create(recipient=user, day=timezone.localdate()).pk}


def failed_reminder(world, user):
    step, _ = ReminderStep.objects.get_or_create(
        code="uji", defaults={"name": "Uji", "trigger": "after_birth", "days": 1, "template": "Halo {nama_bayi}"}
    )
    message, _ = ReminderMessage.objects.get_or_create(
        newborn=world["baby"], step=step, defaults={"phone": "+6281234567890", "status": "failed"}
    )
    return {"pk": message.pk}


def newborn_pk(world, user):
    return {"newborn_pk": world["baby"].pk}


def own_export_job(world, user):
    job = ExportJob.objects.create(user=user, kind="risiko", params={"kind": ["risiko"]}, fingerprint="uji")
    job.file.save("uji.xlsx", ContentFile(b"PK"), save=False)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJobStatus.SELESAI, file=job.file.name)
    return {"pk": job.pk}


# name: (method, capability, kwargs maker, statuses that mean "let in").
PAGE, API = "page", "api"
TABLE = {
    "home": (PAGE, "get", LOGIN, None, {200, 302}),  # a role with a list of its own is sent to it
    "dashboard": (PAGE, "get", C.VIEW_DASHBOARD, None, {200}),
    "password_change": (PAGE, "get", LOGIN, None, {200}),
    "api_token_revoke": (PAGE, "post", LOGIN, None, {302}),
    "newborns:list": (PAGE, "get", C.VIEW_NEWBORNS, None, {200}),
    "newborns:create": (PAGE, "get", C.REGISTER_BIRTHS, None, {200}),
    "newborns:nik_worklist": (PAGE, "get", C.UPDATE_DOCUMENTS, None, {200}),
    "newborns:detail": (PAGE, "get", C.VIEW_NEWBORNS, baby, {200}),
    "newborns:edit": (PAGE, "get", C.REGISTER_BIRTHS, baby, {200}),
    "newborns:documents": (PAGE, "get", C.UPDATE_DOCUMENTS, baby, {200}),
    "newborns:contact": (PAGE, "post", C.REGISTER_BIRTHS, baby, {302}),
    "newborns:void": (PAGE, "post", C.CORRECT_BIRTHS, baby, {200, 302}),
    "newborns:restore": (PAGE, "post", C.CORRECT_BIRTHS, baby, {200, 302}),
    "newborns:voided": (PAGE, "get", C.CORRECT_BIRTHS, None, {200}),
    "newborns:access_log": (PAGE, "get", C.MANAGE_SYSTEM, None, {200}),
    "enrollment:worklist": (PAGE, "get", C.VIEW_NEWBORNS, None, {200}),
    "enrollment:worklist_reactivation": (PAGE, "get", C.VIEW_NEWBORNS, None, {200}),
    "enrollment:worklist_bpjs": (PAGE, "get", C.VIEW_NEWBORNS, None, {200}),
    "enrollment:worklist_dinsos": (PAGE, "get", C.VIEW_NEWBORNS, None, {200}),
    "enrollment:edit": (PAGE, "get", C.UPDATE_ENROLLMENT, enrollment, {200}),
    "enrollment:for_newborn": (PAGE, "get", C.UPDATE_ENROLLMENT, lambda w, u: {"newborn_pk": w["baby"].pk}, {302}),
    "enrollment:propose_pbi": (PAGE, "get", C.PROPOSE_PBI, enrollment, {200}),
    "enrollment:reminder_resend": (PAGE, "post", C.VIEW_NEWBORNS, failed_reminder, {302}),  # refused with a message
    "enrollment:reminder_card": (PAGE, "get", C.VIEW_NEWBORNS, newborn_pk, {200}),
    "enrollment:reminder_card_pdf": (PAGE, "get", C.VIEW_NEWBORNS, newborn_pk, {200}),
    "enrollment:pbi_list": (PAGE, "get", C.PROPOSE_PBI, None, {200}),
    "enrollment:pbi_undo": (PAGE, "post", C.PROPOSE_PBI, own_pbi_proposal, {302}),
    "enrollment:pbi_export_csv": (PAGE, "get", C.PROPOSE_PBI, None, {200}),
    "enrollment:pbi_export_xlsx": (PAGE, "get", C.PROPOSE_PBI, None, {200}),
    "enrollment:notifications": (PAGE, "get", LOGIN, None, {200}),
    "enrollment:notice_read": (PAGE, "post", LOGIN, own_notice, {302}),
    "enrollment:digest_read": (PAGE, "post", LOGIN, own_digest, {302}),
    "enrollment:flag_run_now": (PAGE, "post", C.UPDATE_ENROLLMENT, None, {302}),
    "enrollment:flag_status": (PAGE, "get", C.UPDATE_ENROLLMENT, None, {200}),
    "enrollment:export_csv": (PAGE, "get", C.EXPORT_WORKLISTS, None, {200}),
    "enrollment:export_xlsx": (PAGE, "post", C.EXPORT_WORKLISTS, None, {302}),
    "enrollment:export_job": (PAGE, "get", C.EXPORT_WORKLISTS, own_export_job, {200}),
    "enrollment:export_job_progress": (PAGE, "get", C.EXPORT_WORKLISTS, own_export_job, {200}),
    "enrollment:export_job_download": (PAGE, "get", C.EXPORT_WORKLISTS, own_export_job, {200}),
    "enrollment:export_job_retry": (PAGE, "post", C.EXPORT_WORKLISTS, own_export_job, {302}),
    "enrollment:reconciliation_upload": (PAGE, "get", C.EXPORT_WORKLISTS, None, {200}),
    "enrollment:reconciliation_sample": (
        PAGE,
        "get",
        C.EXPORT_WORKLISTS,
        lambda w, u: {"name": "rekonsiliasi-bpjs-contoh.csv"},
        {200},
    ),
    "enrollment:reconciliation_detail": (PAGE, "get", C.EXPORT_WORKLISTS, own_reconciliation, {200}),
    "enrollment:reconciliation_unmatched": (PAGE, "get", C.EXPORT_WORKLISTS, own_reconciliation, {200}),
    "coverage:table": (PAGE, "get", C.VIEW_COVERAGE, None, {200}),
    "coverage:trend": (PAGE, "get", C.VIEW_COVERAGE, None, {200}),
    "coverage:export": (PAGE, "get", C.VIEW_COVERAGE, None, {200}),
    "coverage:imports": (PAGE, "get", C.IMPORT_COVERAGE, None, {200}),
    "coverage:import_sample": (PAGE, "get", C.IMPORT_COVERAGE, lambda w, u: {"name": "peserta.csv"}, {200}),
    "coverage:import_detail": (PAGE, "get", C.IMPORT_COVERAGE, own_import, {200}),
    "coverage:import_progress": (PAGE, "get", C.IMPORT_COVERAGE, own_import, {200}),
    "coverage:import_commit": (PAGE, "post", C.IMPORT_COVERAGE, own_import, {302}),
    "coverage:import_retry": (PAGE, "post", C.IMPORT_COVERAGE, own_import, {302}),
    "api-root": (API, "get", LOGIN, None, {200}),
    "api-schema": (API, "get", LOGIN, None, {200}),
    "api-docs": (PAGE, "get", LOGIN, None, {200}),  # the Swagger UI is a page: anonymous goes to sign in
    "newborn-list": (API, "get", C.VIEW_NEWBORNS, None, {200}),
    "newborn-detail": (API, "get", C.VIEW_NEWBORNS, baby, {200}),
    "newborn-search": (API, "post", C.VIEW_NEWBORNS, None, {200, 400}),
    "newborn-void": (API, "post", C.CORRECT_BIRTHS, baby, {400}),  # no reason given: refused, after the gate
    "newborn-restore": (API, "post", C.CORRECT_BIRTHS, baby, {400}),
    "newborn-documents": (API, "patch", C.UPDATE_DOCUMENTS, baby, {200, 400}),
    "newborn-contact": (API, "patch", C.REGISTER_BIRTHS, baby, {200, 400}),
    "enrollment-list": (API, "get", C.VIEW_NEWBORNS, None, {200}),
    "enrollment-detail": (API, "get", C.VIEW_NEWBORNS, enrollment, {200}),
    "coverage-list": (API, "get", C.VIEW_COVERAGE, None, {200}),
    # FHIR (issue #14): an empty body is refused after the gate (403 for a credential without a facility).
    "newborns:satusehat_retry": (PAGE, "post", C.REGISTER_BIRTHS, baby, {302}),
    "newborns:satusehat_errors": (PAGE, "get", C.REGISTER_BIRTHS, None, {200}),
    "fhir:bundle": (API, "post", C.REGISTER_BIRTHS, None, {400, 403}),
    "fhir:patient": (API, "get", C.VIEW_IDENTITY_NUMBERS, baby, {200}),
    "fhir:patient_search": (API, "get", C.VIEW_IDENTITY_NUMBERS, None, {400}),  # NIK in a URL: use POST
    "fhir:patient_search_post": (API, "post", C.VIEW_IDENTITY_NUMBERS, None, {400, 415}),
}
# The same routes with a different method or header, each with its own capability.
EXTRA = {
    "home (htmx)": ("home", PAGE, "get", C.VIEW_DASHBOARD, None, {200}, {"HX-Request": "true"}),
    "newborns:create (post)": ("newborns:create", PAGE, "post", C.REGISTER_BIRTHS, None, {200}, {}),
    "newborns:edit (post)": ("newborns:edit", PAGE, "post", C.REGISTER_BIRTHS, baby, {200, 302}, {}),
    "newborns:documents (post)": ("newborns:documents", PAGE, "post", C.UPDATE_DOCUMENTS, baby, {200, 302}, {}),
    # The worklist's button: a POST without a segment opens the confirmation (the confirming POST: test_pbi).
    "enrollment:propose_pbi (post)": ("enrollment:propose_pbi", PAGE, "post", C.PROPOSE_PBI, enrollment, {200}, {}),
    "enrollment:edit (post)": ("enrollment:edit", PAGE, "post", C.UPDATE_ENROLLMENT, enrollment, {200, 302}, {}),
    "newborn-list (post)": ("newborn-list", API, "post", C.REGISTER_BIRTHS, None, {400}, {}),
    "newborn-detail (patch)": ("newborn-detail", API, "patch", C.REGISTER_BIRTHS, baby, {200, 400}, {}),
    "enrollment-detail (patch)": ("enrollment-detail", API, "patch", C.UPDATE_ENROLLMENT, enrollment, {200, 400}, {}),
}
# Routes the router adds for a snapshot id: answered like coverage-list (checked there).
ROUTED_ELSEWHERE = {"coverage-detail"}


def named_urls(patterns=None, namespace="") -> set[str]:
    names = set()
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            if entry.namespace in EXCLUDED_NAMESPACES:
                continue
            names |= named_urls(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(namespace + entry.name)
    return names


def test_every_named_url_is_in_the_capability_table():
    missing = named_urls() - set(TABLE) - EXCLUDED - ROUTED_ELSEWHERE
    assert not missing, f"add it to the table in {__name__}: {sorted(missing)}"
    assert not set(TABLE) - named_urls(), "the table names a URL that no longer exists"


ROLES = [None, *Role.values]
CASES = [(key, *TABLE[key][:1], TABLE[key][1], TABLE[key][2], TABLE[key][3], TABLE[key][4], {}) for key in TABLE]
CASES += [(key, *EXTRA[key][1:]) for key in EXTRA]
CASE_NAMES = {key: EXTRA[key][0] if key in EXTRA else key for key, *_ in CASES}


@pytest.fixture
def world(district, settings, tmp_path):
    settings.EXPORT_FILES_DIR = tmp_path  # the export download's file, out of the project's var dir
    return {"baby": register(by=BidanFactory(username="bidan_pencatat"))}


def user_for(role):
    if role is None:
        return None
    if role == Role.BIDAN:
        return BidanFactory(username="bidan_uji")  # the same facility as the baby
    if role == Role.SISTEM_FASKES:
        return BidanFactory(username="sistem_uji", role=role)  # bound to the baby's facility
    return UserFactory(username=f"uji_{role}", role=role)


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonim")
@pytest.mark.parametrize(
    ("key", "kind", "method", "capability", "kwargs", "allowed", "headers"), CASES, ids=[c[0] for c in CASES]
)
def test_each_url_lets_in_exactly_the_roles_with_its_capability(
    client, world, role, key, kind, method, capability, kwargs, allowed, headers
):
    user = user_for(role)
    if user:
        client.force_login(user)
    url = reverse(CASE_NAMES[key], kwargs=kwargs(world, user or UserFactory(username="pemilik")) if kwargs else None)
    send = getattr(client, method)
    response = (
        send(url, content_type="application/json", headers=headers)
        if kind == API and method != "get"
        else send(url, headers=headers)
    )
    if user is None:
        if kind == API:
            assert response.status_code == 401, key
        else:
            assert response.status_code == 302, key
            assert response["Location"].startswith(reverse("login")), key
    elif capability == LOGIN or can(user, capability):
        assert response.status_code in allowed, (key, role, response.status_code)
    else:
        assert response.status_code == 403, (key, role, response.status_code)
