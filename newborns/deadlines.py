"""The two JKN deadlines of a newborn (Perpres 82/2018, BPJS guidance), as calendar dates.

The same rule runs in SQL (``sejagad.db.AddMonths``) for the daily job; tests hold the two together."""

import datetime

from dateutil.relativedelta import relativedelta

REGISTRATION_DAYS = 28
NIK_UPDATE_MONTHS = 3


def registration_deadline(birth_date: datetime.date) -> datetime.date:
    """Registered in JKN within 28 days of birth."""
    return birth_date + datetime.timedelta(days=REGISTRATION_DAYS)


def nik_deadline(birth_date: datetime.date) -> datetime.date:
    """NIK given to BPJS within 3 calendar months, clamped to the month's end (31 Jan -> 30 Apr)."""
    return birth_date + relativedelta(months=NIK_UPDATE_MONTHS)
