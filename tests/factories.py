import factory

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
