"""A year of demo births in Kabupaten Luwu Utara: mothers, babies, and their Dukcapil documents.

For the embedded demo only. The numbers have the right shape (NIK, KK, akta, JKN) but belong to nobody.
About 5,400 babies: 335,161 residents at a crude birth rate of 16 per 1,000, with about 1.5 % twin deliveries.
Every row gets its audit trail, and every baby its membership (one ``birth_changed`` for all of them).
Bulk inserts skip django-simple-history's signals, so this module writes the history rows itself: one "+"
row when the midwife records the birth, and one "~" row for each KK, akta or NIK step that Dukcapil records
later, each with its own date and user.
"""

import copy
import datetime
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from newborns.events import announce_birth_changed
from newborns.models import Mother, Newborn, Segment, Sex
from newborns.naming import normalize_name, temporary_name
from sejagad.demo import DEMO_DISTRICT
from sejagad.models import Facility, FacilityKind, Region, User

POPULATION = 335_161  # Dukcapil, semester II 2024
BIRTHS_PER_1000 = 16
TWIN_SHARE = 0.015  # of deliveries
BATCH_SIZE = 1000
CHANGE_REASON = "Data demo"
HOSPITAL_CODE = "RSUD-7322"
DEMO_MIDWIFE, DEMO_REGISTRAR = "bidan", "dukcapil"

# Highland kecamatan have few people per desa, more home births and more Toraja families.
HIGHLAND_WEIGHT = {"73.22.05": 0.5, "73.22.07": 0.5, "73.22.09": 0.35}  # Rongkong, Seko, Rampi
# Transmigration areas with many Javanese and Balinese families.
TRANSMIGRANT = {"73.22.02", "73.22.06", "73.22.10", "73.22.12", "73.22.13"}
# Close to RSUD Andi Djemma in Masamba.
NEAR_HOSPITAL = {"73.22.03", "73.22.04", "73.22.11", "73.22.14"}

SEGMENTS = [Segment.PBI_APBN, Segment.PBI_APBD, Segment.PPU, Segment.PBPU, Segment.BP, ""]
SEGMENT_WEIGHTS = [45, 10, 15, 15, 5, 10]
PHONE_PREFIXES = ["0812", "0813", "0821", "0822", "0823", "0852", "0853", "0857", "0877", "0895"]


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",")]


# Per group: mother's first names, family/father names (with the chance a mother uses one), baby names.
NAMES = {
    "bugis": {
        "first": _names(
            "Nurhayati, Hasnah, Sitti Rahmah, Nurlina, Hasmawati, Irawati, Kasmawati, Jumriani, Sumarni, Rosdiana, "
            "Hartati, Megawati, Nurhaedah, Suriani, Rahmatia, Haslinda, Fitriani, Musdalifah, Nurfadillah, Mardiana, "
            "Hamsiah, Darmawati, Asriani, Ernawati, Murniati, Nurjannah, Sukmawati, Wahyuni, Marlina, Ratnasari, "
            "Hasriani, Sitti Aminah, Nurul Hidayah, Rismawati, Sahriani, Jusniati, Herlina, Satriani, Nurmiati, "
            "Hikmawati, Suarni, Nuraeni, Indah Sari, Kartini, Ramlah, Hadijah, Besse Tenri, Nurbaya, Sitti Hajar"
        ),
        "last": _names(
            "Baso, Amir, Hamzah, Jufri, Syamsuddin, Rahman, Tahir, Haris, Latif, Mustari, Nasir, Abbas, Ahmad, Hasan, "
            "Sudirman, Makmur, Pallawa, Paewang, Lambang, Mappe, Usman, Djalil, Rasyid, Kadir, Side, Lamba, Beddu, "
            "Bakri, Saleh, Sukri, Mappiare, Tenriajeng"
        ),
        "p_last": 0.55,
        "L": _names(
            "Muhammad Alif, Muh. Rizky, Ahmad Fauzan, Muh. Fadhil, Arkan, Zidan, Rafa, Alfarizi, Muhammad Ilham, "
            "Fathir, Aqil, Reski, Nabil, Muhammad Al Fatih, Abdullah, Hafiz, Akbar, Syahrul, Farhan, Raffasya"
        ),
        "P": _names(
            "Aisyah, Nur Azizah, Khadijah, Zahra, Alesha, Nayla, Syakira, Humaira, Adiba, Nurul Fitri, Qanita, "
            "Aqila, Azzahra, Salsabila, Fatimah, Naura, Kayla, Nabila, Nurul Hikmah, Sitti Fatimah"
        ),
    },
    "toraja": {
        "first": _names(
            "Yohana, Maria, Marta, Debora, Ester, Yuliana, Agustina, Ribka, Lidya, Rosalina, Elisabet, Herlina, "
            "Meliani, Yustina, Dorkas, Selvi, Novita, Kristina, Anastasia, Ratna, Yulianti, Marlina"
        ),
        "last": _names(
            "Sampe, Palinggi, Tandiayu, Pakiding, Rante Allo, Tangkelayuk, Sarira, Paembonan, Palullungan, "
            "Tandirerung, Pasorong, Tangdililing, Sambo, Bua, Tonapa, Mangopang, Rerung, Limbong, Patiung, Toding"
        ),
        "p_last": 0.85,
        "L": _names("Yosua, Kevin, Daniel, Christian, Gabriel, Samuel, Yohanes, Imanuel, Natanael, Rafael, Elia"),
        "P": _names("Grace, Angelica, Maria, Jessica, Natalia, Kezia, Gisella, Felicia, Ester, Clara, Febriani"),
    },
    "jawa": {
        "first": _names(
            "Sri Wahyuni, Siti Rohmah, Endang, Tri Wulandari, Dwi Lestari, Sulastri, Suparmi, Wartini, Sumiati, "
            "Puji Astuti, Rini Susanti, Siti Khotimah, Eka Purwanti, Suryani, Ningsih, Yuli Astuti, Sri Mulyani, "
            "Wiwik Handayani, Partini, Nur Hasanah, Retno, Lestari, Umi Kalsum, Sutini"
        ),
        "last": _names(
            "Susanto, Wibowo, Hartono, Purnomo, Suryadi, Sutrisno, Widodo, Santoso, Prasetyo, Setiawan, Sugiarto, "
            "Rahayu, Kusuma, Wijaya"
        ),
        "p_last": 0.35,
        "L": _names("Bagas, Dimas, Galih, Arya, Satria, Rizky Pratama, Fajar, Aditya, Bima Saputra, Yoga, Raka"),
        "P": _names("Ayu, Putri, Dewi Lestari, Anindya, Citra, Anisa, Wulan, Kirana, Laras, Nadia, Intan, Sekar"),
    },
    "bali": {
        "first": _names("Ni Made, Ni Ketut, Ni Luh, Ni Putu, Ni Kadek, Ni Nyoman, Ni Wayan"),
        "last": _names(
            "Sukerti, Ariani, Suartini, Widiasih, Sumerti, Astiti, Sriani, Darmini, Puspita, Sudiarsih, Karmini"
        ),
        "p_last": 1.0,
        "L": _names("I Putu Arya, I Made Dharma, I Kadek Surya, I Komang Wira, I Gede Bayu, I Putu Agus, I Made Yoga"),
        "P": _names("Ni Putu Ayu, Ni Made Dewi, Ni Kadek Sari, Ni Komang Ratih, Ni Putu Indah, Ni Made Lestari"),
    },
}
GROUPS_HIGHLAND = (["toraja", "bugis"], [75, 25])
GROUPS_TRANSMIGRANT = (["bugis", "jawa", "bali", "toraja"], [45, 40, 10, 5])
GROUPS_LOWLAND = (["bugis", "toraja", "jawa"], [82, 10, 8])


def seed_demo_births(*, today: datetime.date | None = None, seed: int = 7322) -> int:
    """Seed a year of Luwu Utara births before ``today``, spread over its desa and demo facilities, with
    their KK, akta and NIK dates. Does nothing once any baby is recorded; returns how many babies it added."""
    today = today or timezone.localdate()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # two seeders at once: the second waits, then finds the data
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('newborns.seed_demo_births'))")
        if Newborn.objects.exists():
            return 0
        desas = list(Region.objects.desa().filter(code__startswith=DEMO_DISTRICT + ".").order_by("code"))
        if not desas:
            return 0
        users = {u.username: u for u in User.objects.filter(username__in=[DEMO_MIDWIFE, DEMO_REGISTRAR])}
        facilities = list(
            Facility.objects.filter(is_active=True, region__code__startswith=DEMO_DISTRICT + ".").order_by("code")
        )
        taken = set(Mother.objects.filter(nik__startswith=DEMO_DISTRICT.replace(".", "")).values_list("nik", flat=True))
        district = _District(
            random.Random(seed), today, desas, facilities, users.get(DEMO_MIDWIFE), users.get(DEMO_REGISTRAR), taken
        )
        deliveries = sorted(district.deliveries(), key=lambda d: d.mother.created_at)
        return _save(deliveries, district.registrar)


class _Delivery:
    def __init__(self, mother: Mother, babies: list[Newborn], steps: list[tuple[datetime.datetime, dict]]):
        self.mother, self.babies, self.steps = mother, babies, steps


class _District:
    """Draws deliveries from one seeded random generator, so the same seed gives the same district."""

    def __init__(self, rng, today, desas, facilities, midwife, registrar, taken_mother_niks):
        self.rng, self.today, self.midwife, self.registrar = rng, today, midwife, registrar
        self.tz = timezone.get_current_timezone()
        self.cap = min(timezone.now(), datetime.datetime.combine(today, datetime.time(23, 59), tzinfo=self.tz))
        self.desas = desas
        self.desa_weights = [
            rng.uniform(0.6, 1.4) * (2.0 if d.is_kelurahan else 1.0) * HIGHLAND_WEIGHT.get(d.parent_id, 1.0)
            for d in desas
        ]
        self.puskesmas, self.private = {}, defaultdict(list)
        self.hospital = None
        for f in facilities:
            kecamatan = f.region_id[:8]
            if f.kind == FacilityKind.PUSKESMAS:
                self.puskesmas.setdefault(kecamatan, f)
            elif f.code == HOSPITAL_CODE or (f.kind == FacilityKind.RUMAH_SAKIT and self.hospital is None):
                self.hospital = f
            elif f.kind in (FacilityKind.KLINIK, FacilityKind.PRAKTIK_MANDIRI_BIDAN):
                self.private[kecamatan].append(f)
        self.private_all = [f for fs in self.private.values() for f in fs]
        self.mother_niks = set(taken_mother_niks)
        self.serials: Counter[str] = Counter()
        self.jkn_numbers: set[str] = set()

    def deliveries(self) -> Iterator[_Delivery]:
        count = round(POPULATION * BIRTHS_PER_1000 / 1000)
        for desa in self.rng.choices(self.desas, weights=self.desa_weights, k=count):
            yield self.delivery(desa, twins=self.rng.random() < TWIN_SHARE)

    # --- one delivery -----------------------------------------------------------------------------

    def delivery(self, desa: Region, *, twins: bool) -> _Delivery:
        rng = self.rng
        kecamatan = desa.parent_id
        birth_date = self.today - datetime.timedelta(days=rng.randint(1, 365))
        group = self.group(kecamatan)
        facility = self.facility(kecamatan, twins=twins)
        born_at = datetime.datetime.combine(birth_date, datetime.time(0), tzinfo=self.tz) + datetime.timedelta(
            minutes=rng.randrange(24 * 60)
        )
        created_at = min(self.cap, born_at + self.registration_delay(home=facility is None))
        mother = self.mother(desa, birth_date, group, created_at)
        by_midwife = self.midwife if facility and self.midwife and facility.pk == self.midwife.facility_id else None
        has_time = rng.random() < (0.95 if facility else 0.7)

        sexes = [self.sex()]
        if twins:
            sexes.append(sexes[0] if rng.random() < 0.35 else self.sex())
        babies = []
        for order, sex in enumerate(sexes, start=1):
            weight = self.weight(twins=twins)
            baby_born_at = born_at + datetime.timedelta(minutes=(order - 1) * rng.randint(3, 25))
            babies.append(
                Newborn(
                    mother=mother,
                    birth_date=birth_date,
                    birth_time=baby_born_at.time().replace(second=0) if has_time else None,
                    sex=sex,
                    birth_order=order,
                    weight_grams=weight,
                    length_cm=self.length(weight) if rng.random() < 0.9 else None,
                    desa=desa,
                    facility=facility,
                    attending_midwife=by_midwife,
                    temporary_name=temporary_name(mother.name, birth_order=order, multiple=twins),
                    given_name=self.given_name(group, sex, mother, birth_date),
                    submission_key=uuid.UUID(int=rng.getrandbits(128), version=4),
                    created_by=by_midwife,
                    created_at=created_at,
                    updated_at=created_at,
                )
            )
        steps = self.documents(babies, kecamatan, birth_date, home=facility is None, after=created_at)
        return _Delivery(mother, babies, steps)

    def group(self, kecamatan: str) -> str:
        if kecamatan in HIGHLAND_WEIGHT:
            groups, weights = GROUPS_HIGHLAND
        elif kecamatan in TRANSMIGRANT:
            groups, weights = GROUPS_TRANSMIGRANT
        else:
            groups, weights = GROUPS_LOWLAND
        return self.rng.choices(groups, weights=weights)[0]

    def facility(self, kecamatan: str, *, twins: bool) -> Facility | None:
        """Mostly the kecamatan's puskesmas; the district hospital for twins and some nearby; some private
        clinics and midwives; home births (None), more of them in the highlands."""
        r = self.rng.random()
        home = 0.15 if kecamatan in HIGHLAND_WEIGHT else 0.04
        hospital = 0.6 if twins else 0.16 if kecamatan in NEAR_HOSPITAL else 0.07
        private = 0.18 if self.private.get(kecamatan) else 0.03
        if r < home:
            return None
        if r < home + hospital and self.hospital:
            return self.hospital
        if r < home + hospital + private and self.private_all:
            return self.rng.choice(self.private.get(kecamatan) or self.private_all)
        return self.puskesmas.get(kecamatan) or self.hospital

    def registration_delay(self, *, home: bool) -> datetime.timedelta:
        """How long after the birth SEJAGAD hears of it: mostly the same or next day from a facility."""
        r = self.rng.random()
        if r < (0.4 if home else 0.8):
            return datetime.timedelta(minutes=self.rng.randint(30, 30 * 60))
        if r < (0.8 if home else 0.95):
            return datetime.timedelta(days=self.rng.randint(2, 27), minutes=self.rng.randrange(600))
        return datetime.timedelta(days=self.rng.randint(29, 75), minutes=self.rng.randrange(600))

    def sex(self) -> str:
        return Sex.LAKI_LAKI if self.rng.random() < 0.512 else Sex.PEREMPUAN

    def weight(self, *, twins: bool) -> int:
        grams = self.rng.gauss(2450, 380) if twins else self.rng.gauss(3150, 420)
        return int(min(4600, max(1500, round(grams / 10) * 10)))

    def length(self, weight: int) -> Decimal:
        cm = 49 + (weight - 3150) / 420 * 1.8 + self.rng.gauss(0, 1)
        return Decimal(min(55, max(40, round(cm * 2) / 2))).quantize(Decimal("0.1"))

    def given_name(self, group: str, sex: str, mother: Mother, birth_date: datetime.date) -> str:
        """Most babies have a name after the first week (aqiqah, baptism); few before."""
        if self.rng.random() >= (0.8 if (self.today - birth_date).days >= 7 else 0.2):
            return ""
        name = self.rng.choice(NAMES[group][sex])
        if group == "toraja":
            name += " " + (mother.name.split(" ", 1)[-1].title() if " " in mother.name else "")
        return name.strip()

    # --- the mother ---------------------------------------------------------------------------------

    def mother(self, desa: Region, birth_date: datetime.date, group: str, created_at) -> Mother:
        rng, names = self.rng, NAMES[group]
        name = rng.choice(names["first"])
        if group == "bugis" and rng.random() < 0.07:
            name = "Andi " + name  # Luwu nobility
        if rng.random() < names["p_last"]:
            name += " " + rng.choice(names["last"])
        age_days = int(rng.triangular(17.0, 42.99, 26.0) * 365.25)
        born = birth_date - datetime.timedelta(days=age_days)
        kecamatan = desa.parent_id.replace(".", "")
        segment = rng.choices(SEGMENTS, weights=SEGMENT_WEIGHTS)[0]
        return Mother(
            nik=self.mother_nik(kecamatan, born),
            name=normalize_name(name),
            kk_number=self.kk_number(kecamatan, born, birth_date),
            phone=self.phone() if rng.random() < 0.8 else "",
            desa=desa,
            jkn_segment=segment,
            jkn_number=self.jkn_number() if segment else "",
            created_at=created_at,
            updated_at=created_at,
        )

    def mother_nik(self, kecamatan: str, born: datetime.date) -> str:
        prefix = f"{kecamatan}{born.day + 40:02d}{born:%m%y}"
        while True:
            self.serials[prefix] += self.rng.randint(1, 5)
            nik = f"{prefix}{self.serials[prefix]:04d}"
            if nik not in self.mother_niks:
                self.mother_niks.add(nik)
                return nik

    def kk_number(self, kecamatan: str, mother_born: datetime.date, birth_date: datetime.date) -> str:
        """A KK starts with the kecamatan code and the date it was first issued (marriage, moving house)."""
        latest = birth_date - datetime.timedelta(days=60)
        earliest = min(latest, max(datetime.date(2010, 1, 1), mother_born + datetime.timedelta(days=16 * 366)))
        issued = earliest + datetime.timedelta(days=self.rng.randint(0, (latest - earliest).days))
        prefix = f"{kecamatan}{issued:%d%m%y}"
        self.serials["KK" + prefix] += self.rng.randint(1, 3)
        return f"{prefix}{self.serials['KK' + prefix]:04d}"

    def phone(self) -> str:
        """A mobile number as every write path stores it (E.164, ``newborns.validators.normalize_phone``)."""
        return f"+62{self.rng.choice(PHONE_PREFIXES)[1:]}{self.rng.randrange(10**8):08d}"

    def jkn_number(self) -> str:
        while (number := f"000{self.rng.randrange(10**10):010d}") in self.jkn_numbers:
            pass
        self.jkn_numbers.add(number)
        return number

    # --- Dukcapil documents -------------------------------------------------------------------------

    def documents(self, babies, kecamatan, birth_date, *, home: bool, after) -> list[tuple[datetime.datetime, dict]]:
        """Set the KK, akta and NIK dates a district shows: most families within a few weeks, some late,
        a tail that has not come to Dukcapil yet; nothing dated after today. Returns the history steps."""
        rng = self.rng
        r = rng.random()
        stuck = 0.25 if home else 0.10
        if r < stuck:  # not finished: nothing, only the KK, or KK and akta but no NIK yet
            kk = rng.randint(3, 90)
            v = rng.random()
            delays = [] if v < 0.5 else [kk] if v < 0.8 else [kk, kk + rng.randint(1, 10)]
        elif r < stuck + 0.05:  # late: came to Dukcapil after the 3-month deadline
            kk = rng.randint(75, 240)
            akta = kk + rng.randint(0, 10)
            delays = [kk, akta, akta + rng.randint(0, 20)]
        else:  # on time: KK within 3-45 days, akta a few days later, NIK soon after
            kk = 3 + round(rng.triangular(0, 42, 8))
            akta = kk + rng.randint(0, 6)
            delays = [kk, akta, akta + rng.randint(0, 10)]

        steps, previous = [], after
        for step, delay in zip(("kk", "akta", "nik"), delays, strict=False):
            day = _working_day(birth_date + datetime.timedelta(days=delay))
            if day > self.today:
                break
            at = datetime.datetime.combine(day, datetime.time(8), tzinfo=self.tz) + datetime.timedelta(
                minutes=rng.randrange(7 * 60)
            )
            at = min(self.cap, max(at, previous + datetime.timedelta(minutes=1)))
            previous = at
            changes = [self.document(step, baby, kecamatan, day) for baby in babies]
            for baby, change in zip(babies, changes, strict=True):
                for field, value in change.items():
                    setattr(baby, field, value)
                baby.updated_at = at
            steps.append((at, changes))
        return steps

    def document(self, step: str, baby: Newborn, kecamatan: str, day: datetime.date) -> dict:
        if step == "kk":
            return {"kk_added_on": day, "kk_added_by": self.registrar}
        if step == "akta":
            self.serials["AKTA" + day.isoformat()] += 1
            number = f"{DEMO_DISTRICT.replace('.', '')}-LT-{day:%d%m%Y}-{self.serials['AKTA' + day.isoformat()]:04d}"
            return {"akta_number": number, "akta_issued_on": day, "akta_by": self.registrar}
        born = baby.birth_date
        prefix = f"{kecamatan.replace('.', '')}{born.day + (40 if baby.sex == Sex.PEREMPUAN else 0):02d}{born:%m%y}"
        self.serials[prefix] += 1
        return {"nik": f"{prefix}{self.serials[prefix]:04d}", "nik_issued_on": day, "nik_by": self.registrar}


def _working_day(day: datetime.date) -> datetime.date:
    """Dukcapil is closed on Saturday and Sunday: the document is dated the Monday after."""
    return day + datetime.timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


def _save(deliveries: list[_Delivery], registrar: User | None) -> int:
    mothers = [d.mother for d in deliveries]
    for delivery in deliveries:
        delivery.mother._history_date = delivery.mother.created_at
        delivery.mother._history_user = delivery.babies[0].created_by
    with _drawn_timestamps(Mother):
        bulk_create_with_history(mothers, Mother, batch_size=BATCH_SIZE, default_change_reason=CHANGE_REASON)
    if any(m.pk is None for m in mothers):  # a database that does not return ids from bulk inserts
        ids = dict(Mother.objects.filter(nik__in=[m.nik for m in mothers]).values_list("nik", "pk"))
        for mother in mothers:
            mother.pk = ids[mother.nik]
    for delivery in deliveries:
        for baby in delivery.babies:
            baby.mother = delivery.mother

    babies = [baby for d in deliveries for baby in d.babies]
    with _drawn_timestamps(Newborn):
        Newborn.objects.bulk_create(babies, batch_size=BATCH_SIZE)
    if any(b.pk is None for b in babies):
        ids = dict(
            Newborn.objects.filter(submission_key__in=[b.submission_key for b in babies]).values_list(
                "submission_key", "pk"
            )
        )
        for baby in babies:
            baby.pk = ids[baby.submission_key]

    created, changed = [], []
    for delivery in deliveries:
        for index, baby in enumerate(delivery.babies):
            state = copy.copy(baby)
            for field in ("kk_added_on", "kk_added_by", "akta_issued_on", "akta_by", "nik", "nik_issued_on", "nik_by"):
                setattr(state, field, None)
            state.akta_number = ""
            state.updated_at = state._history_date = baby.created_at
            state._history_user = baby.created_by
            created.append(state)
            for at, changes in delivery.steps:
                state = copy.copy(state)
                for field, value in changes[index].items():
                    setattr(state, field, value)
                state.updated_at = state._history_date = at
                state._history_user = registrar
                changed.append(state)
    Newborn.history.bulk_history_create(created, batch_size=BATCH_SIZE, default_change_reason=CHANGE_REASON)
    Newborn.history.bulk_history_create(
        changed, batch_size=BATCH_SIZE, update=True, default_change_reason=CHANGE_REASON
    )
    # Bulk inserts send no signal of their own: the apps above learn of all the births at once (one
    # set-based sync: enrollments, deadlines, levels), as they would of one birth from the form.
    announce_birth_changed(*(baby.pk for baby in babies))
    return len(babies)


@contextmanager
def _drawn_timestamps(model):
    """Inserts keep the created_at/updated_at the demo drew (a birth recorded last March says so) instead
    of "now": auto_now is switched off for the insert, which saves a second pass over every row."""
    fields = [
        f for f in model._meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add
