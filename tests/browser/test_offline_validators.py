"""The phone's checks (static/js/offline/validators.js) answer the shared table of cases with the server's
words; run in headless Chromium, so no Node is needed."""

from pathlib import Path

from stdnum import numdb

from tests.newborns.test_validator_cases import CASES

VALIDATORS_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "offline" / "validators.js"

RUN_CASES = """cases => cases.map(c => {
  const V = window.SejagadValidators;
  const today = c.today ? V.parseIso(c.today) : undefined;
  const run = {
    nik: () => V.nik(c.value, { today }),
    mother_nik: () => V.motherNik(c.value, { today }),
    baby_nik: () => V.babyNik(c.value, c.birth_date, c.sex, { today }),
    birth_date: () => V.birthDate(c.value, { today }),
    weight: () => V.weight(c.value),
    mother_age: () => V.motherAge(c.value, c.birth_date, { confirmed: c.confirmed }),
  }[c.check];
  return run().error;
})"""


def validators_page(browser):
    page = browser.new_page()
    page.set_content("<!doctype html><title>validators</title>")
    page.add_script_tag(path=str(VALIDATORS_JS))
    return page


def test_the_phone_answers_every_shared_case_as_the_server_does(browser):
    page = validators_page(browser)
    answers = page.evaluate(RUN_CASES, CASES)
    page.close()
    # A check that needs the server's lists passes on the phone; the server answers it when the birth is sent.
    expected = [None if case.get("server_only") else case["error"] for case in CASES]
    differ = [(c["name"], want, got) for c, want, got in zip(CASES, expected, answers, strict=True) if want != got]
    assert differ == []


def test_the_phone_knows_the_provinces_the_server_knows(browser):
    page = validators_page(browser)
    provinces = page.evaluate("() => window.SejagadValidators.PROVINCES")
    page.close()
    path = Path(numdb.__file__).with_name("id") / "loc.dat"
    known = sorted({line[:2] for line in path.read_text(encoding="utf-8").splitlines() if line[:2].isdigit()})
    assert provinces == known
