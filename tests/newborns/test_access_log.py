"""Every whole NIK or KK shown is written to the access log (who, where, when), never the number itself;
Dinkes admins read that log in the app."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from enrollment import export_jobs
from enrollment.models import Enrollment, ExportJob, ExportLog, Reconciliation
from newborns.models import AccessPoint, IdentityAccess
from newborns.privacy import log_identity_access
from newborns.services import record_documents
from sejagad.roles import Role
from tests.factories import UserFactory, mother_nik, nik_for, register

pytestmark = pytest.mark.django_db
KK = "7322030101200001"


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def logged() -> list[tuple]:
    return list(IdentityAccess.objects.order_by("id").values_list("user__username", "where", "newborn_id", "count"))


@pytest.fixture
def dinkes(district):
    return UserFactory(username="dinkes", role=Role.STAF_DINKES)


@pytest.fixture
def dinsos(district):
    """Sees babies, never their numbers whole."""
    return UserFactory(username="dinsos", role=Role.PETUGAS_DINSOS)


@pytest.fixture
def admin(district):
    return UserFactory(username="admin", role=Role.ADMIN_DINKES, is_staff=True, is_superuser=True)


@pytest.fixture
def baby(district):
    born = register(mother_name="Siti Aminah")
    nik = nik_for(born.birth_date, female=True)
    return record_documents(
        newborn=born, by=born.created_by, nik=nik, nik_issued_on=timezone.localdate(), confirmed=True
    )


def babies_of_one_family(n: int) -> list:
    """n babies of n mothers on one KK number: a search by that number finds them all."""
    return [register(mother_nik=mother_nik(serial=i + 1), mother_name=f"Ibu {i}", kk_number=KK) for i in range(n)]


# Each path that shows a whole number writes its row.


def test_baby_page_writes_who_saw_which_baby(client, dinkes, baby):
    client.force_login(dinkes)
    page = client.get(reverse("newborns:detail", args=[baby.pk]))

    assert baby.nik in page.text  # shown whole...
    assert logged() == [("dinkes", AccessPoint.DETAIL, baby.pk, 1)]  # ...and written down
    row = IdentityAccess.objects.get()
    assert timezone.now() - row.at < datetime.timedelta(minutes=1)


def test_a_masked_baby_page_writes_nothing(client, dinsos, baby):
    client.force_login(dinsos)
    page = client.get(reverse("newborns:detail", args=[baby.pk]))

    assert page.status_code == 200 and baby.nik not in page.text
    assert logged() == []


def test_api_retrieve_writes_a_row_when_numbers_are_whole(dinkes, dinsos, baby):
    shown = api_for(dinkes).get(f"/api/newborns/{baby.pk}/").json()
    masked = api_for(dinsos).get(f"/api/newborns/{baby.pk}/").json()

    assert shown["nik"] == baby.nik and masked["nik"] != baby.nik
    assert logged() == [("dinkes", AccessPoint.API_RETRIEVE, baby.pk, 1)]


def test_the_correction_and_documents_forms_filled_with_numbers_write_a_row(client, dinkes, baby):
    dukcapil = UserFactory(username="dukcapil", role=Role.PETUGAS_DUKCAPIL)
    client.force_login(dinkes)
    edit = client.get(reverse("newborns:edit", args=[baby.pk]))
    client.force_login(dukcapil)
    documents = client.get(reverse("newborns:documents", args=[baby.pk]))

    assert baby.mother.nik in edit.text and baby.nik in documents.text
    assert logged() == [("dinkes", AccessPoint.FORM, baby.pk, 1), ("dukcapil", AccessPoint.FORM, baby.pk, 1)]


def test_an_api_answer_to_a_write_writes_a_row_as_retrieve_does(dinkes, baby):
    answer = api_for(dinkes).patch(f"/api/newborns/{baby.pk}/", {"given_name": "Aisyah"}, format="json")

    assert answer.status_code == 200 and answer.json()["mother"]["nik"] == baby.mother.nik
    assert logged() == [("dinkes", AccessPoint.API_RETRIEVE, baby.pk, 1)]


@pytest.mark.parametrize("rows", [3, 20])
def test_api_list_masks_numbers_and_so_writes_nothing_in_flat_queries(dinkes, rows, django_assert_num_queries):
    family = babies_of_one_family(rows)
    client = api_for(dinkes)

    with django_assert_num_queries(2):  # the page and its count; no log write: nothing whole
        listed = client.get("/api/newborns/").json()["results"]

    assert len(listed) == rows
    assert all(KK not in str(row) for row in listed)
    assert logged() == [] and family


@pytest.mark.parametrize("hits", [3, 20])
def test_api_search_by_number_writes_one_row_per_baby_in_one_insert(dinkes, hits):
    family = babies_of_one_family(hits)
    client = api_for(dinkes)

    with CaptureQueriesContext(connection) as queries:
        found = client.post("/api/newborns/search/", {"q": KK}, format="json")

    assert found.status_code == 200
    assert sorted(row["id"] for row in found.json()["results"]) == sorted(b.pk for b in family)
    assert sorted(logged()) == sorted(("dinkes", AccessPoint.SEARCH, b.pk, 1) for b in family)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(writes) == 1
    assert len(queries) <= 4  # the page, its count, one INSERT (plus a savepoint at most): flat in the hits


def test_api_search_by_name_writes_nothing(dinkes, baby):
    found = api_for(dinkes).post("/api/newborns/search/", {"q": "aminah"}, format="json")

    assert [row["id"] for row in found.json()["results"]] == [baby.pk]
    assert logged() == []


def test_list_search_by_number_writes_one_row_per_baby_found(client, dinkes, baby):
    other = register(mother_nik=mother_nik(serial=2), mother_name="Rosmiati", kk_number="7322030101200002")
    client.force_login(dinkes)

    page = client.post(reverse("newborns:list"), {"q": baby.nik}, follow=True)

    assert [b.pk for b in page.context["page"].object_list] == [baby.pk]
    assert logged() == [("dinkes", AccessPoint.SEARCH, baby.pk, 1)]
    client.post(reverse("newborns:list"), {"q": "rosmiati"}, follow=True)  # a name: nothing whole
    assert len(logged()) == 1 and other


def test_a_search_hit_is_logged_even_for_a_role_that_sees_numbers_masked(client, dinsos, baby):
    # Typing the whole number and getting the baby back confirms whose number it is.
    client.force_login(dinsos)
    client.post(reverse("newborns:list"), {"q": baby.mother.nik}, follow=True)

    assert logged() == [("dinsos", AccessPoint.SEARCH, baby.pk, 1)]


def test_worklist_csv_export_writes_one_row_with_the_count_beside_the_export_log(client, district):
    babies_of_one_family(4)
    liaison = UserFactory(username="bpjs", role=Role.PETUGAS_BPJS)
    client.force_login(liaison)

    response = client.get(reverse("enrollment:export_csv"))

    assert response.status_code == 200
    b"".join(response.streaming_content)  # the counts are written when the stream ends
    assert logged() == [("bpjs", AccessPoint.EXPORT, None, 4)]
    assert ExportLog.objects.get().rows == 4


def test_worklist_xlsx_job_writes_one_row_with_the_count_beside_the_export_log(client, district):
    babies_of_one_family(4)
    liaison = UserFactory(username="bpjs", role=Role.PETUGAS_BPJS)
    client.force_login(liaison)

    assert client.post(reverse("enrollment:export_xlsx")).status_code == 302
    # Queued on commit (never, inside a test's transaction): built here by the service its task calls.
    export_jobs.build_worklist_export(job_id=ExportJob.objects.get().pk)

    assert logged() == [("bpjs", AccessPoint.EXPORT, None, 4)]
    assert ExportLog.objects.get().rows == 4


def test_unmatched_reconciliation_rows_downloaded_write_one_row(client, district):
    liaison = UserFactory(username="bpjs", role=Role.PETUGAS_BPJS)
    item = Reconciliation.objects.create(
        uploaded_by=liaison,
        file_name="daftar-bpjs.csv",
        columns=["nomor_kartu", "nik"],
        rows=[{"kind": "tidak_cocok", "original": ["0001234567893", mother_nik(serial=s)]} for s in (1, 2)],
    )
    client.force_login(liaison)

    response = client.get(reverse("enrollment:reconciliation_unmatched", args=[item.pk]))

    assert mother_nik(serial=2) in response.content.decode("utf-8-sig")
    assert logged() == [("bpjs", AccessPoint.EXPORT, None, 2)]


def test_admin_export_writes_the_export_log_and_one_access_row(client, admin, baby):
    client.force_login(admin)
    url = reverse("admin:enrollment_enrollment_export")
    fields = {name: "on" for name in client.get(url).context["form"].fields if name.startswith("enrollmentresource_")}

    response = client.post(url, {"format": "0", "resource": "0", **fields})

    assert baby.nik in response.content.decode("utf-8-sig")
    assert logged() == [("admin", AccessPoint.ADMIN_EXPORT, None, 1)]
    assert ExportLog.objects.get().format == "admin"


def test_admin_pages_show_no_whole_number_and_write_nothing(client, admin, baby):
    # No admin page lists or shows a NIK or KK (babies and mothers are not in the admin): nothing to log.
    client.force_login(admin)
    enrollment = Enrollment.objects.get(newborn=baby)
    pages = [
        client.get(reverse("admin:enrollment_enrollment_changelist")),
        client.get(reverse("admin:enrollment_enrollment_change", args=[enrollment.pk])),
    ]

    for page in pages:
        assert page.status_code == 200
        assert baby.nik not in page.text and baby.mother.nik not in page.text and KK not in page.text
    assert logged() == []


def test_the_log_never_holds_the_number(client, dinkes, baby):
    client.force_login(dinkes)
    client.get(reverse("newborns:detail", args=[baby.pk]))
    client.post(reverse("newborns:list"), {"q": baby.nik}, follow=True)

    for row in IdentityAccess.objects.values():
        assert baby.nik not in str(row) and baby.mother.nik not in str(row)


# The page Dinkes admins read.


def test_only_dinkes_admins_read_the_log(client, dinkes, admin):
    client.force_login(dinkes)
    assert client.get(reverse("newborns:access_log")).status_code == 403
    assert "/bayi/akses-nik/" not in client.get(reverse("home")).text
    client.force_login(admin)
    assert client.get(reverse("newborns:access_log")).status_code == 200
    assert "/bayi/akses-nik/" in client.get(reverse("home")).text


def test_the_log_is_empty_at_first(client, admin):
    client.force_login(admin)
    assert "Belum ada akses NIK/KK yang tercatat" in client.get(reverse("newborns:access_log")).text


def test_the_log_lists_newest_first_and_filters_by_user_and_by_baby(client, admin, dinkes, baby):
    other = register(mother_nik=mother_nik(serial=2), mother_name="Rosmiati", kk_number="7322030101200002")
    bpjs = UserFactory(username="bpjs", role=Role.PETUGAS_BPJS)
    log_identity_access(user=dinkes, where=AccessPoint.DETAIL, newborn_ids=[baby.pk])
    log_identity_access(user=bpjs, where=AccessPoint.DETAIL, newborn_ids=[other.pk])
    log_identity_access(user=bpjs, where=AccessPoint.EXPORT, count=120)
    client.force_login(admin)
    url = reverse("newborns:access_log")

    every = client.get(url).context["entries"]
    assert [(e.user.username, e.where) for e in every] == [
        ("bpjs", AccessPoint.EXPORT),
        ("bpjs", AccessPoint.DETAIL),
        ("dinkes", AccessPoint.DETAIL),
    ]
    assert [e.user.username for e in client.get(url, {"pengguna": dinkes.pk}).context["entries"]] == ["dinkes"]
    by_baby = client.get(url, {"bayi": other.pk})
    assert [(e.user.username, e.newborn_id) for e in by_baby.context["entries"]] == [("bpjs", other.pk)]
    assert "Rosmiati" in by_baby.text or other.display_name in by_baby.text
    assert "120 bayi" in client.get(url, {"pengguna": bpjs.pk}).text


def test_the_baby_page_links_its_log_for_admins_only(client, admin, dinkes, baby):
    link = f"{reverse('newborns:access_log')}?bayi={baby.pk}"
    client.force_login(admin)
    page = client.get(reverse("newborns:detail", args=[baby.pk])).text
    assert link in page and "Riwayat akses NIK" in page
    followed = client.get(link)
    assert [e.newborn_id for e in followed.context["entries"]] == [baby.pk]  # the admin's own visit
    client.force_login(dinkes)
    assert link not in client.get(reverse("newborns:detail", args=[baby.pk])).text


def test_the_log_pages_without_counting_every_row(client, admin, dinkes, baby):
    IdentityAccess.objects.bulk_create(
        [IdentityAccess(user=dinkes, where=AccessPoint.DETAIL, newborn=baby) for _ in range(63)]
    )
    client.force_login(admin)
    url = reverse("newborns:access_log")

    with CaptureQueriesContext(connection) as queries:
        first = client.get(url, {"pengguna": dinkes.pk})
    read = [q["sql"] for q in queries.captured_queries]  # before the next request resets the log
    second = client.get(url, {"pengguna": dinkes.pk, "page": 2})

    assert len(first.context["entries"]) == 50 and first.context["has_next"]
    assert len(second.context["entries"]) == 13 and not second.context["has_next"]
    assert f"?pengguna={dinkes.pk}&page=2" in first.text
    assert any("newborns_identityaccess" in sql for sql in read)
    assert not any("COUNT(" in sql for sql in read if "newborns_identityaccess" in sql)


def test_the_log_reads_the_same_number_of_queries_however_many_rows(client, admin, dinkes, baby):
    client.force_login(admin)
    url = reverse("newborns:access_log")
    client.get(url)  # warm the session
    log_identity_access(user=dinkes, where=AccessPoint.DETAIL, newborn_ids=[baby.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(10):
        user = UserFactory(username=f"petugas{i}", role=Role.PETUGAS_BPJS)
        log_identity_access(user=user, where=AccessPoint.DETAIL, newborn_ids=[baby.pk])
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)

    assert len(page.context["entries"]) == 11
    assert len(many) == len(few)


def test_a_kabupaten_admin_reads_only_the_log_of_their_kabupaten(client, admin, dinkes, baby, two_kabupaten):
    timur = two_kabupaten
    log_identity_access(user=dinkes, where=AccessPoint.DETAIL, newborn_ids=[baby.pk])
    log_identity_access(user=timur.timur_bidan, where=AccessPoint.DETAIL, newborn_ids=[timur.timur_baby.pk])
    log_identity_access(user=timur.timur_staf, where=AccessPoint.EXPORT, count=7)
    client.force_login(admin)  # region 73.22

    page = client.get(reverse("newborns:access_log"))

    assert [e.user.username for e in page.context["entries"]] == ["dinkes"]
    options = re.findall(r'<option value="(\d+)"', page.text)
    assert str(timur.timur_bidan.pk) not in options and str(timur.timur_staf.pk) not in options
    assert str(dinkes.pk) in options
    assert client.get(reverse("newborns:access_log"), {"pengguna": timur.timur_staf.pk}).context["entries"] == []
    assert client.get(reverse("newborns:access_log"), {"bayi": timur.timur_baby.pk}).context["entries"] == []
