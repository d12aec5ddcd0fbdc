"""An import belongs to its uploader's region: only rows inside it are accepted, and only users within it
see, preview, commit or retry it. A second kabupaten (Mukomuko, 17.06) and a kecamatan officer (Masamba)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from coverage import services
from coverage.models import CoverageImport, ImportKind, ImportStatus, PopulationCount
from sejagad.models import Region
from sejagad.roles import Role
from tests.coverage.files import POPULATION_HEADER, csv_upload
from tests.factories import UserFactory

MASAMBA = "73.22.03"
MASAMBA_DESA = "73.22.03.2004"
SABBANG_DESA = "73.22.04.2002"  # Luwu Utara, another kecamatan
MUKOMUKO_DESA = "17.06.01.2005"


def officer(code, role=Role.PETUGAS_BPJS, **kwargs):
    return UserFactory(role=role, region=Region.objects.get(code=code), **kwargs)


def rows(*codes):
    return [[code, "", "2024-S1", "1.000", "", ""] for code in codes]


def upload(client, user, *codes):
    client.force_login(user)
    response = client.post(
        reverse("coverage:imports"), {"kind": "population", "file": csv_upload(POPULATION_HEADER, rows(*codes))}
    )
    assert response.status_code == 302
    return CoverageImport.objects.latest("id")


def test_a_kecamatan_officer_can_import_only_her_kecamatans_rows(client, district, mukomuko):
    masamba = officer(MASAMBA, role=Role.PETUGAS_DUKCAPIL)

    record = upload(client, masamba, MASAMBA_DESA, SABBANG_DESA, MUKOMUKO_DESA, "73.22.99.9999")

    assert record.region_id == MASAMBA
    assert record.status == ImportStatus.INVALID and record.error_count == 3 and not record.can_commit
    assert [(e["line"], e["message"]) for e in record.errors] == [
        (3, f"Wilayah {SABBANG_DESA} di luar wilayah Anda."),
        (4, f"Wilayah {MUKOMUKO_DESA} di luar wilayah Anda."),
        (5, "Kode wilayah 73.22.99.9999 tidak ada dalam daftar wilayah yang dimuat."),
    ]
    assert upload(client, masamba, MASAMBA_DESA).can_commit


def test_a_kabupaten_officer_cannot_import_another_kabupatens_population(client, district, mukomuko):
    luwu_utara = officer("73.22")

    record = upload(client, luwu_utara, MASAMBA_DESA, MUKOMUKO_DESA)

    assert record.status == ImportStatus.INVALID
    assert record.errors == [
        {"line": 3, "column": "kode_wilayah", "message": f"Wilayah {MUKOMUKO_DESA} di luar wilayah Anda."}
    ]
    client.post(reverse("coverage:import_commit", args=[record.pk]))
    assert not PopulationCount.objects.exists()


def test_only_users_within_the_uploaders_region_see_preview_or_commit_an_import(client, district, mukomuko):
    theirs = upload(client, officer("17.06"), MUKOMUKO_DESA)
    assert theirs.can_commit and theirs.region_id == "17.06"
    CoverageImport.objects.filter(pk=theirs.pk).update(
        status=ImportStatus.VALIDATING, heartbeat_at=timezone.now() - timezone.timedelta(days=1)
    )  # stalled, so that its retry button would work for someone allowed
    luwu_utara = officer("73.22")
    ours = upload(client, officer(MASAMBA, role=Role.PETUGAS_DUKCAPIL), MASAMBA_DESA)

    client.force_login(luwu_utara)
    listed = client.get(reverse("coverage:imports")).context["imports"]
    assert [i.pk for i in listed] == [ours.pk]  # a kecamatan's import is within the kabupaten
    for name in ("coverage:import_detail", "coverage:import_progress"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    for name in ("coverage:import_commit", "coverage:import_retry"):
        assert client.post(reverse(name, args=[theirs.pk])).status_code == 404
    assert client.get(reverse("coverage:import_detail", args=[ours.pk])).status_code == 200
    assert CoverageImport.objects.get(pk=theirs.pk).status == ImportStatus.VALIDATING

    client.force_login(officer(MASAMBA))
    assert [i.pk for i in client.get(reverse("coverage:imports")).context["imports"]] == [ours.pk]

    client.force_login(UserFactory(role=Role.ADMIN_DINKES, region=None))  # the whole installation
    assert {i.pk for i in client.get(reverse("coverage:imports")).context["imports"]} == {ours.pk, theirs.pk}


@pytest.mark.usefixtures("district")
def test_a_file_loaded_from_the_command_line_covers_every_loaded_region(mukomuko):
    record = services.start_import(
        kind=ImportKind.POPULATION, uploaded=csv_upload(POPULATION_HEADER, rows(MASAMBA_DESA, MUKOMUKO_DESA)), by=None
    )
    assert record.region is None
    assert services.preview_import(import_id=record.pk).can_commit
