"""Schemathesis over the whole API, as three roles: generated requests, valid and not, never get a server error.

Each operation of the OpenAPI schema (as drf-spectacular publishes it) is called through the WSGI application
with a real token of a bidan, a Dinkes officer and a BPJS officer, on a district with births in it. Raise
``FUZZ_EXAMPLES`` for a longer run (the closing notes give its figures).
"""

import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, register

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
ROLES = [Role.BIDAN, Role.STAF_DINKES, Role.PETUGAS_BPJS]

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
application = WSGIHandler()


@pytest.fixture
def tokens(district):
    # As Django's test client does: the request must not close the test's connection (its transaction).
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    bidan = BidanFactory(username="fuzz-bidan")
    for serial in range(1, 4):
        register(by=bidan, mother_nik=mother_nik(serial), mother_name=f"Ibu Uji {serial}")
    users = {
        Role.BIDAN: bidan,
        Role.STAF_DINKES: UserFactory(username="fuzz-dinkes", role=Role.STAF_DINKES),
        Role.PETUGAS_BPJS: UserFactory(username="fuzz-bpjs", role=Role.PETUGAS_BPJS),
    }
    yield {role: Token.objects.create(user=user).key for role, user in users.items()}
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_generated_request_gets_a_server_error(case, role, tokens):
    response = case.call(app=application, headers={"Authorization": f"Token {tokens[role]}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path} as {role}: {response.status_code}"
