"""The worklists open on what can still be saved: order, the reactivation list, the Dukcapil order, search by
any number without the number in a URL, and titles, badges and file names that follow the list shown."""

import datetime
import re
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrollment.models import EnrollmentStatus, ExportLog, FlagLevel
from enrollment.services import sync_enrollments, update_enrollment
from newborns.models import Mother, Newborn
from newborns.selectors import first_savable_birth_date
from newborns.services import record_documents
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def born(days_ago, serial, **kw):
    kw.setdefault("kk_number", f"732203010120{serial:04d}")
    return register(
        birth_date=TODAY() - datetime.timedelta(days=days_ago), mother_nik=mother_nik(serial), by=kw.pop("by"), **kw
    )


@pytest.fixture
def admin(district):
    return UserFactory(role=Role.ADMIN_DINKES)


@pytest.fixture
def staf(district):
    return UserFactory(role=Role.STAF_DINKES)


def registered(baby, by, serial):
    update_enrollment(
        enrollment=baby.enrollment,
        by=by,
        status=EnrollmentStatus.TERDAFTAR_SEMENTARA,
        jkn_number=f"0001{serial:09d}",
        registered_on=baby.birth_date + datetime.timedelta(days=2),
    )
    return baby


def with_nik(baby, by, serial):
    record_documents(
        newborn=baby,
        by=by,
        nik=nik_for(baby.birth_date, female=baby.sex == "P", serial=serial),
        nik_issued_on=baby.birth_date + datetime.timedelta(days=5),
        confirmed=True,
    )
    baby.refresh_from_db()
    return baby


def listed(client, url_name, **params):
    return [getattr(row, "newborn", row) for row in client.get(reverse(url_name), params).context["page"].object_list]


def overdue_babies(n: int, by) -> None:
    """``n`` babies past their 3-month deadline by 10 to 10 + n days, recorded set-based (one through the
    service, the others its copies) and given their memberships and levels as the birth event would."""
    model = born(100, 100, by=by)
    mothers = Mother.objects.bulk_create(
        [copy(model.mother, pk=None, nik=mother_nik(serial)) for serial in range(101, 100 + n)]
    )
    babies = Newborn.objects.bulk_create(
        [
            copy(
                model,
                pk=None,
                mother=m,
                birth_date=model.birth_date - datetime.timedelta(days=i),
                submission_key=uuid4(),
            )
            for i, m in enumerate(mothers, start=1)
        ]
    )
    sync_enrollments(newborn_ids=[b.pk for b in babies])


def copy(instance, **changes):
    values = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
    return type(instance)(
        **(values | {f"{k}_id" if k in ("mother",) else k: getattr(v, "pk", v) for k, v in changes.items()})
    )


def test_a_kritis_baby_with_three_days_left_opens_the_list_even_with_300_overdue_babies(client, admin, staf):
    overdue_babies(300, admin)
    late_registration = born(40, 1, by=admin)  # 28 days missed, 3 months still ahead: the rest
    perhatian = born(2, 2, by=admin)  # 26 days left
    mendesak = born(15, 3, by=admin)  # 13 days left
    kritis_later = born(22, 4, by=admin)  # 6 days left
    kritis = born(25, 5, by=admin)  # 3 days left
    client.force_login(staf)

    response = client.get(reverse("enrollment:worklist"))

    rows = [e.newborn for e in response.context["page"].object_list]
    assert rows == [kritis, kritis_later, mendesak, perhatian, late_registration]
    assert response.context["page"].paginator.count == 5
    assert client.get(reverse("enrollment:worklist_reactivation")).context["page"].paginator.count == 300
    assert "3 hari" in response.text


def test_babies_past_three_months_have_their_own_list_count_and_checklist(client, admin, staf):
    bpjs = UserFactory(role=Role.PETUGAS_BPJS)
    lapsed = born(100, 1, by=admin)  # never registered, 3 months gone
    lapsed_registered = registered(born(130, 2, by=admin), bpjs, 2)
    deactivated_early = registered(born(60, 3, by=admin), bpjs, 3)
    update_enrollment(
        enrollment=deactivated_early.enrollment, by=bpjs, status=EnrollmentStatus.NONAKTIF, deactivated_on=TODAY()
    )
    saved = with_nik(registered(born(120, 4, by=admin), bpjs, 4), admin, 4)
    update_enrollment(enrollment=saved.enrollment, by=bpjs, status=EnrollmentStatus.DIPERBARUI, nik_updated_on=TODAY())
    still_savable = born(80, 5, by=admin)
    client.force_login(staf)

    response = client.get(reverse("enrollment:worklist_reactivation"))

    rows = [e.newborn for e in response.context["page"].object_list]
    assert rows == [deactivated_early, lapsed, lapsed_registered]  # the most recently lapsed first
    assert dict((k, n) for k, _, n, _ in response.context["lists"])["aktivasi"] == 3
    assert '<h1 class="h3 mb-0">Perlu aktivasi ulang</h1>' in response.text
    assert "Langkah aktivasi ulang" in response.text and "Mobile JKN" in response.text
    assert listed(client, "enrollment:worklist") == [still_savable]
    at_risk = client.get(reverse("enrollment:worklist"))
    counts = dict((k, n) for k, _, n, _ in at_risk.context["lists"])
    assert (counts["risiko"], counts["aktivasi"]) == (1, 3)
    assert 'data-list-count="aktivasi">3<' in at_risk.text


def test_reactivation_figure_on_the_dashboard_equals_its_list(client, admin, staf):
    born(100, 1, by=admin)
    born(200, 2, by=admin)
    born(20, 3, by=admin)
    client.force_login(staf)
    page = client.get(reverse("home")).text
    href, shown = re.search(r'data-kpi="reactivation" href="([^"]+)">(\d+)<', page).groups()
    assert shown == "2"
    assert client.get(href.replace("&amp;", "&")).context["page"].paginator.count == 2


@pytest.mark.parametrize(
    ("today", "first"),
    [
        (datetime.date(2026, 4, 30), datetime.date(2026, 1, 30)),  # 30 and 31 Jan both end on 30 Apr
        (datetime.date(2026, 5, 31), datetime.date(2026, 3, 1)),  # 28 Feb ends on 28 May: lapsed
        (datetime.date(2026, 11, 24), datetime.date(2026, 8, 24)),
    ],
)
def test_first_savable_birth_date_follows_the_clamped_three_month_deadline(today, first):
    assert first_savable_birth_date(today) == first


def test_dukcapil_list_puts_babies_nearest_their_three_month_deadline_first(client, admin):
    long_lapsed = born(300, 1, by=admin)
    lapsed = born(100, 2, by=admin)
    nearest = born(85, 3, by=admin)
    middle = born(50, 4, by=admin)
    newest = born(5, 5, by=admin)
    with_nik(born(70, 6, by=admin), admin, 6)
    client.force_login(UserFactory(role=Role.PETUGAS_DUKCAPIL))

    response = client.get(reverse("newborns:nik_worklist"))

    assert [b for b in response.context["page"].object_list] == [nearest, middle, newest, lapsed, long_lapsed]
    assert response.context["page"].object_list[0].nik_days_left >= 0


@pytest.fixture
def searchable(admin):
    """Two babies on every list a search can narrow: the one searched for, and another."""
    bpjs = UserFactory(role=Role.PETUGAS_BPJS)
    babies = {}
    for offset, serial in ((0, 11), (1, 12)):
        tag = "target" if offset == 0 else "other"
        babies[f"risiko_{tag}"] = with_nik(registered(born(80 + offset, serial, by=admin), bpjs, serial), admin, serial)
        serial += 10
        babies[f"aktivasi_{tag}"] = with_nik(
            registered(born(120 + offset, serial, by=admin), bpjs, serial), admin, serial
        )
        serial += 10
        babies[f"dukcapil_{tag}"] = registered(born(60 + offset, serial, by=admin), bpjs, serial)
        serial += 10
        babies[f"dinsos_{tag}"] = born(10 + offset, serial, by=admin, mother_jkn_segment="PBI-APBN")
    return babies


def numbers(baby) -> dict[str, str]:
    return {
        "NIK bayi": baby.nik,
        "NIK ibu": baby.mother.nik,
        "nomor KK": baby.mother.kk_number,
        "nomor JKN": baby.enrollment.jkn_number,
    }


LISTS = [
    ("enrollment:worklist", "risiko", ("NIK bayi", "NIK ibu", "nomor KK", "nomor JKN")),
    ("enrollment:worklist_reactivation", "aktivasi", ("NIK bayi", "NIK ibu", "nomor KK", "nomor JKN")),
    ("enrollment:worklist_bpjs", "risiko", ("NIK bayi", "NIK ibu", "nomor KK", "nomor JKN")),
    ("enrollment:worklist_dinsos", "dinsos", ("NIK ibu", "nomor KK")),
    ("newborns:nik_worklist", "dukcapil", ("NIK ibu", "nomor KK", "nomor JKN")),
]


@pytest.mark.parametrize(("url_name", "group", "kinds"), LISTS, ids=[g[0] for g in LISTS])
def test_each_list_finds_a_baby_by_every_number_by_post_with_no_number_in_any_url(
    client, searchable, admin, url_name, group, kinds
):
    target, other = searchable[f"{group}_target"], searchable[f"{group}_other"]
    target.enrollment.refresh_from_db()
    client.force_login(admin)
    assert {target, other} <= set(listed(client, url_name))
    for kind in kinds:
        number = numbers(target)[kind]
        assert number, kind
        response = client.post(reverse(url_name), {"q": f" {number} "})
        assert response.status_code == 302
        assert not re.search(r"\d{6,}", response.url), (kind, response.url)
        page = client.get(response.url)
        assert [getattr(row, "newborn", row) for row in page.context["page"].object_list] == [target], kind
        # Nothing on the page (pagination, tabs, badges, the export links) writes the number into a link.
        assert not re.search(rf'href="[^"]*{number}', page.text), kind
    by_name = client.post(reverse(url_name), {"q": target.mother.name.split()[0]})
    assert target in [getattr(r, "newborn", r) for r in client.get(by_name.url).context["page"].object_list]


def test_the_export_of_a_search_holds_its_rows_and_logs_no_number(client, searchable, admin):
    target = searchable["risiko_target"]
    client.force_login(admin)
    found = client.get(client.post(reverse("enrollment:worklist_bpjs"), {"q": target.nik}).url)
    href = re.search(r'href="([^"]*ekspor\.csv[^"]*)"', found.text).group(1).replace("&amp;", "&")
    assert target.nik not in href
    body = b"".join(client.get(href).streaming_content).decode("utf-8-sig")
    assert len(body.strip().splitlines()) == 2  # the header and the baby found
    assert target.nik in body
    log = ExportLog.objects.get()
    assert log.filters["q"] == "(nomor)" and log.filters["kind"] == "bpjs"
    assert target.nik not in str(log.filters)


@pytest.mark.parametrize(
    ("url_name", "title", "stem"),
    [
        ("enrollment:worklist", "Bayi berisiko", "risiko"),
        ("enrollment:worklist_reactivation", "Perlu aktivasi ulang", "perlu-aktivasi-ulang"),
        ("enrollment:worklist_bpjs", "NIK terbit, belum di BPJS", "bpjs-nik-terbit"),
        ("enrollment:worklist_dinsos", "Calon PBI (Dinsos)", "dinsos-calon-pbi"),
    ],
)
def test_title_heading_and_export_file_names_follow_the_list_shown(client, staf, url_name, title, stem):
    client.force_login(staf)
    page = client.get(reverse(url_name)).text
    assert f"<title>{title}" in page
    assert f'<h1 class="h3 mb-0">{title}</h1>' in page
    assert ">Unduh Excel<" in page and ">CSV (untuk sistem)<" in page
    for ext in ("csv",):  # the XLSX is built by a job: tests/enrollment/test_export_jobs.py
        href = re.search(rf'href="([^"]*ekspor\.{ext}[^"]*)"', page).group(1).replace("&amp;", "&")
        response = client.get(href)
        assert response["Content-Disposition"] == f'attachment; filename="{stem}-{TODAY():%Y-%m-%d}.{ext}"'


def test_level_badges_count_the_list_shown(client, admin, staf):
    bpjs = UserFactory(role=Role.PETUGAS_BPJS)
    with_nik(registered(born(85, 1, by=admin), bpjs, 1), admin, 1)  # on the BPJS list, Kritis
    registered(born(85, 2, by=admin), bpjs, 2)  # Kritis too, no NIK: not on the BPJS list
    born(20, 3, by=admin)  # Mendesak, no NIK
    client.force_login(staf)
    counts = lambda url: {v: n for v, _, n, _ in client.get(reverse(url)).context["tabs"]}  # noqa: E731
    assert counts("enrollment:worklist_bpjs") == {FlagLevel.KRITIS: 1}
    assert counts("enrollment:worklist")[FlagLevel.KRITIS] == 2
    assert counts("enrollment:worklist")[FlagLevel.MENDESAK] == 1


def test_bpjs_liaison_reaches_her_list_from_the_menu(client, district):
    client.force_login(UserFactory(role=Role.PETUGAS_BPJS))
    page = client.get(reverse("enrollment:worklist")).text
    assert f'href="{reverse("enrollment:worklist_bpjs")}">NIK terbit, belum di BPJS</a>' in page
    assert 'name="kind"' in page and '<select name="kind"' not in page  # no "Daftar" dropdown


@pytest.mark.parametrize("url_name", ["enrollment:worklist_reactivation", "enrollment:worklist_bpjs"])
def test_list_query_count_does_not_grow_with_rows(client, admin, staf, url_name):
    client.force_login(staf)
    with_nik(born(100, 1, by=admin), admin, 1)
    client.get(reverse(url_name))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(url_name))
    for i in range(2, 15):
        with_nik(born(95 + i, i, by=admin), admin, i)
    client.get(reverse(url_name))  # recounts the written desa in the dashboard's summary
    with CaptureQueriesContext(connection) as many:
        client.get(reverse(url_name))
    assert len(many) == len(few)


@pytest.mark.parametrize("kind", ["risiko", "aktivasi"])
def test_level_badges_counted_from_the_list_equal_the_list_at_each_level(client, admin, staf, kind):
    """A filter the summary cannot answer (a facility): each badge is counted from the list, and says how many
    babies the list shows at that level."""
    from enrollment import selectors
    from sejagad.models import Facility

    masamba = Facility.objects.get(code="PKM-732203")

    for serial, days in enumerate((3, 24, 26, 60, 80, 100, 130), start=1):
        born(days, serial, by=admin)
    client.force_login(staf)
    url = reverse("enrollment:worklist" if kind == "risiko" else "enrollment:worklist_reactivation")
    response = client.get(url, {"facility": masamba.pk})
    badges = {level: n for level, _label, n, _url in response.context["tabs"]}
    expected = {level: selectors.worklist(staf, kind=kind, facility=masamba, level=level).count() for level in badges}
    assert response.context["filters"]["facility"] == masamba
    assert badges == expected and sum(badges.values()) > 0


@pytest.mark.both_databases
def test_the_facility_filter_shows_only_that_facility_s_babies(client, admin, staf):
    """Read on the enrollment's copy of the place of birth: not another puskesmas's babies, nor home births."""
    from sejagad.models import Facility

    masamba, sabbang = Facility.objects.get(code="PKM-732203"), Facility.objects.get(code="PKM-732204")
    at_masamba = born(20, 1, by=admin)
    born(21, 2, by=admin, facility=sabbang)
    born(22, 3, by=admin, facility=None)
    client.force_login(staf)
    response = client.get(reverse("enrollment:worklist"), {"facility": masamba.pk})
    assert [e.newborn_id for e in response.context["page"].object_list] == [at_masamba.pk]


@pytest.mark.both_databases
def test_each_kabupaten_officer_reads_her_own_list_s_counts_one_after_the_other(client, two_kabupaten):
    """The tabs' counts are cached under the summary's version: an officer of another kabupaten, reading the
    same list right after, gets her own counts, not the first officer's."""
    counts = {}
    for officer in (two_kabupaten.staf, two_kabupaten.timur_staf, two_kabupaten.staf):
        client.force_login(officer)
        page = client.get(reverse("enrollment:worklist"))
        counts.setdefault(officer.username, []).append(page.context["lists"][0][2])
        assert page.context["page"].paginator.count == counts[officer.username][-1]
    assert counts == {"staf_utara": [2, 2], "staf_timur": [1]}


@pytest.mark.both_databases
def test_each_bidan_reads_her_own_facility_s_counts_one_after_the_other(client, two_kabupaten):
    """A bidan's counts are cached under the summary's version too: the next bidan, of another puskesmas, gets
    her own; and a birth written since shows in the counts at once (the write makes a new version)."""
    masamba = BidanFactory(username="bidan_masamba")
    register(
        mother_nik=mother_nik(94), mother_name="Ibu Masamba Kedua", birth_date=TODAY() - datetime.timedelta(days=9)
    )

    def count(bidan):
        client.force_login(bidan)
        page = client.get(reverse("enrollment:worklist"))
        assert page.context["page"].paginator.count == page.context["lists"][0][2]
        return page.context["lists"][0][2]

    assert [count(masamba), count(two_kabupaten.timur_bidan), count(masamba)] == [2, 1, 2]
    register(
        mother_nik=mother_nik(95), mother_name="Ibu Masamba Ketiga", birth_date=TODAY() - datetime.timedelta(days=9)
    )
    assert count(masamba) == 3


@pytest.mark.parametrize(("role", "whole"), [(Role.PETUGAS_BPJS, True), (Role.PETUGAS_DINSOS, False)])
def test_the_bpjs_list_shows_the_baby_s_nik_whole_only_to_roles_that_need_it(client, admin, role, whole):
    from newborns.privacy import mask_number

    baby = with_nik(registered(born(40, 1, by=admin), admin, 1), admin, 1)
    client.force_login(UserFactory(role=role))
    page = client.get(reverse("enrollment:worklist_bpjs")).text
    assert (f">{baby.nik}<" in page) is whole
    assert (f">{mask_number(baby.nik)}<" in page) is not whole


def test_the_dinsos_list_s_proposal_button_opens_the_proposal_with_the_page_s_csrf_token(admin):
    from django.test import Client

    born(20, 1, by=admin)
    officer = Client(enforce_csrf_checks=True)
    officer.force_login(UserFactory(role=Role.PETUGAS_DINSOS))
    page = officer.get(reverse("enrollment:worklist_dinsos")).text
    action, token = re.search(r'<form method="post" action="([^"]+)"><input[^>]+value="([^"]+)">', page).groups()
    answer = officer.post(action, {"csrfmiddlewaretoken": token})
    assert answer.status_code == 200 and answer.templates[0].name == "enrollment/pbi_confirm.html"
