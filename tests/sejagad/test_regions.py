from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from sejagad.models import Region, RegionLevel
from sejagad.services import load_regions


@pytest.mark.django_db
def test_luwu_utara_loads_15_kecamatan_and_173_desa():
    result = load_regions(code="73.22")

    luwu_utara = Region.objects.get(code="73.22")
    assert luwu_utara.name == "Kabupaten Luwu Utara"
    assert luwu_utara.parent.name == "Sulawesi Selatan"
    assert Region.objects.within(luwu_utara).kecamatan().count() == 15
    desa = Region.objects.within(luwu_utara).desa()
    assert desa.count() == 173
    assert sum(r.is_kelurahan for r in desa) == 7
    assert result.created == 1 + 1 + 15 + 173  # province, kabupaten, kecamatan, desa


@pytest.mark.django_db
def test_loading_twice_writes_nothing_and_duplicates_nothing():
    load_regions(code="73.22")
    again = load_regions(code="73.22")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 190)
    assert Region.objects.count() == 190


@pytest.mark.django_db
def test_reload_repairs_a_changed_name():
    load_regions(code="73.22")
    Region.objects.filter(code="73.22.03").update(name="Salah Ketik")
    result = load_regions(code="73.22")
    assert result.updated == 1
    assert Region.objects.get(code="73.22.03").name == "Masamba"


@pytest.mark.django_db
def test_a_province_loads_with_all_its_kabupaten():
    load_regions(code="73")
    assert Region.objects.filter(level=RegionLevel.KABUPATEN_KOTA, parent_id="73").count() == 24


@pytest.mark.django_db
def test_all_of_indonesia_loads_514_kabupaten_kota():
    result = load_regions()
    assert result.created == 91_599
    counts = dict(Region.objects.values_list("level").annotate(n=Count("code")))
    assert counts == {
        RegionLevel.PROVINSI: 38,
        RegionLevel.KABUPATEN_KOTA: 514,
        RegionLevel.KECAMATAN: 7_285,
        RegionLevel.DESA_KELURAHAN: 83_762,
    }


@pytest.mark.django_db
def test_command_refuses_an_unknown_code_in_indonesian():
    with pytest.raises(CommandError, match="tidak ada dalam daftar Kemendagri"):
        call_command("load_regions", "99.99")
    assert not Region.objects.exists()


@pytest.mark.django_db
def test_command_reports_counts():
    out = StringIO()
    call_command("load_regions", "73.22", stdout=out)
    assert "190 baru" in out.getvalue()
