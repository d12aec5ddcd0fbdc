"""The shared table of validator cases, run against the server's checks (the phone's run the same table in
tests/browser/test_offline_validators.py)."""

import datetime
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from newborns import validators

CASES = json.loads((Path(__file__).with_name("validator_cases.json")).read_text(encoding="utf-8"))["cases"]


def run_python(case: dict) -> str | None:
    value = case["value"]
    checks = {
        "nik": lambda: validators.validate_nik(value),
        "mother_nik": lambda: validators.validate_mother_nik(value),
        "baby_nik": lambda: validators.validate_baby_nik(
            value, birth_date=datetime.date.fromisoformat(case["birth_date"]), sex=case["sex"]
        ),
        "birth_date": lambda: validators.validate_birth_date(
            datetime.date.fromisoformat(value), today=datetime.date.fromisoformat(case["today"])
        ),
        "weight": lambda: validators.validate_weight(value),
        "mother_age": lambda: validators.validate_mother_age(
            value, birth_date=datetime.date.fromisoformat(case["birth_date"]), confirmed=case["confirmed"]
        ),
    }
    try:
        with translation.override("id"):
            checks[case["check"]]()
    except ValidationError as exc:
        return exc.messages[0]
    return None


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_server_answers_each_shared_case_with_its_message(case):
    assert run_python(case) == case["error"]


def test_the_shared_table_covers_every_check_with_passes_and_refusals():
    for check in ("nik", "mother_nik", "baby_nik", "birth_date", "weight", "mother_age"):
        answers = [c["error"] for c in CASES if c["check"] == check]
        assert None in answers and any(answers), check
