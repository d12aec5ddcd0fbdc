import datetime

import factory
from django.utils import timezone

from sejagad.models import Facility, Region, User
from sejagad.roles import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"pengguna{n}")
    first_name = factory.Faker("first_name", locale="id_ID")
    last_name = factory.Faker("last_name", locale="id_ID")
    role = Role.STAF_DINKES
    region = factory.LazyFunction(lambda: Region.objects.get(code="73.22"))
    password = factory.django.Password("rahasia-uji-123")


class BidanFactory(UserFactory):
    role = Role.BIDAN
    region = None
    facility = factory.LazyFunction(lambda: Facility.objects.get(code="PKM-732203"))


def nik_for(born: datetime.date, *, female: bool, kecamatan: str = "732203", serial: int = 1) -> str:
    """A well-formed NIK: kecamatan code, birth date (day + 40 for a female), serial."""
    return f"{kecamatan}{born.day + (40 if female else 0):02d}{born:%m%y}{serial:04d}"


def mother_nik(serial: int = 1, kecamatan: str = "732203") -> str:
    return nik_for(datetime.date(1995, 8, 17), female=True, kecamatan=kecamatan, serial=serial)


def register(by=None, **overrides):
    """Record a birth through the service, with valid defaults for a Masamba mother at Puskesmas Masamba."""
    from newborns.services import register_birth

    today = timezone.localdate()
    fields = {
        "mother_nik": mother_nik(),
        "mother_name": "Siti Aminah",
        "kk_number": "7322030101200001",
        "desa": Region.objects.get(code="73.22.03.2004"),
        "birth_date": today - datetime.timedelta(days=10),
        "sex": "P",
        "weight_grams": 3100,
        "facility": Facility.objects.get(code="PKM-732203"),
    }
    fields.update(overrides)
    return register_birth(by=by or UserFactory(role=Role.ADMIN_DINKES), **fields).newborn
