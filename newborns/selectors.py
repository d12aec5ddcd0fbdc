"""Read paths for the newborn pages, the API and other apps."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise

from dateutil.relativedelta import relativedelta
from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from newborns.deadlines import NIK_UPDATE_MONTHS, nik_deadline
from newborns.models import Mother, Newborn, SatusehatAction, SatusehatOutbox, SatusehatStatus, as_identity_number
from newborns.privacy import mask_number
from newborns.satusehat import is_configured
from sejagad.models import User


def search_newborns(
    user,
    *,
    q: str = "",
    region=None,
    kecamatan=None,
    desa=None,
    status: str = "",
    born_from=None,
    born_to=None,
) -> QuerySet:
    """The babies a user may see, narrowed by the list filters; rows carry what the list shows. The
    dashboard's birth counts are this selector's count, so a figure equals the list it opens."""
    babies = Newborn.objects.in_scope_of(user).for_lists().born_between(born_from, born_to)
    if region:
        babies = babies.in_region(region.code)
    if q := q.strip():
        babies = _matching(babies, q)
    if desa:
        babies = babies.filter(desa=desa)
    elif kecamatan:
        babies = babies.filter(desa__parent=kecamatan)
    if status:
        babies = babies.with_document_status(status)
    return babies


def _matching(babies: QuerySet, q: str) -> QuerySet:
    """A name, a whole NIK or KK (``Newborn.search``), or the baby's JKN number, which BPJS and families quote.
    The JKN number lives on the enrollment: read through the reverse relation, ``enrollment`` is not imported."""
    found = babies.search(q)
    if number := as_identity_number(q):
        found = found | babies.filter(enrollment__jkn_number=number)
    return found


def first_savable_birth_date(today: datetime.date) -> datetime.date:
    """The earliest birth date whose 3-month NIK deadline is today or later (deadlines clamp to a month's
    end, so ``today - 3 months`` may be a day or three short)."""
    born = today - relativedelta(months=NIK_UPDATE_MONTHS)
    while nik_deadline(born) < today:
        born += datetime.timedelta(days=1)
    return born


def nik_worklist(user, *, today: datetime.date | None = None, q: str = "", kecamatan=None, desa=None) -> QuerySet:
    """Dukcapil's worklist: babies in scope still without a NIK, those nearest their 3-month deadline first
    (the ones a NIK can still save), then those already past it, the most recently lapsed first."""
    savable_from = first_savable_birth_date(today or timezone.localdate())
    savable = Q(birth_date__gte=savable_from)
    return (
        search_newborns(user, q=q, kecamatan=kecamatan, desa=desa)
        .without_nik()
        .order_by(
            Case(When(savable, then=Value(0)), default=Value(1)),
            Case(When(savable, then=F("birth_date"))).asc(nulls_last=True),
            F("birth_date").desc(),
            "id",
        )
    )


# Bookkeeping, derived from other fields, or told by another entry (the void), so not a change worth a line.
QUIET_FIELDS = {
    "id",
    "updated_at",
    "created_at",
    "created_by",
    "submission_key",
    "temporary_name",
    "kk_added_by",
    "akta_by",
    "nik_by",
    "voided_by",
    "void_reason",
}
# The mother's consent to reminders and its withdrawal show in the timeline with who recorded them and why.
MOTHER_FIELDS = ("nik", "name", "kk_number", "phone", "desa", "reminder_consent_at", "reminders_stopped_at")
# Identity numbers: never whole in the timeline, whoever reads it.
MASKED_FIELDS = {"nik", "kk_number"}


def timeline(newborn: Newborn) -> list[dict]:
    """What happened to a baby, oldest first: birth, documents, and one plain sentence per recorded change
    (the baby's and, since the baby was recorded, the mother's) with who made it and why."""
    events = [{"on": newborn.birth_date, "at": None, "what": _("Lahir"), "by": None, "why": ""}]
    for on, what, by in (
        (newborn.kk_added_on, _("Masuk Kartu Keluarga"), newborn.kk_added_by),
        (newborn.akta_issued_on, _("Akta kelahiran terbit"), newborn.akta_by),
        (newborn.nik_issued_on, _("NIK terbit"), newborn.nik_by),
    ):
        if on:
            events.append({"on": on, "at": None, "what": what, "by": by, "why": ""})

    baby_fields = [f for f in Newborn._meta.concrete_fields if f.name not in QUIET_FIELDS and not f.generated]
    mother_fields = [Mother._meta.get_field(name) for name in MOTHER_FIELDS]
    baby_records = list(newborn.history.select_related("history_user").order_by("history_date", "history_id"))
    # The mother's whole history, not only what follows the baby: the record before is the base of the first diff.
    mother_records = list(
        Mother.history.filter(id=newborn.mother_id)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    changes = _changes(baby_records, baby_fields) + [
        change for change in _changes(mother_records, mother_fields) if change[0].history_date >= newborn.created_at
    ]
    names = _names(changes)

    history = [_event(record, _("Kelahiran dicatat")) for record in baby_records[:1]]
    for record, field, old, new in changes:
        if field.name == "voided_at":
            # The reason is asked when voiding; the record keeps it should the service not pass it on.
            history.append(
                _event(record, _("Data dibatalkan"), record.void_reason)
                if new
                else _event(record, _("Data dipulihkan"))
            )
            continue
        label = {"field": capfirst(field.verbose_name)}
        old, new = _shown(field, old, names), _shown(field, new, names)
        if not old:
            what = _("%(field)s diisi: %(new)s") % {**label, "new": new}
        elif not new:
            what = _("%(field)s dikosongkan (sebelumnya %(old)s)") % {**label, "old": old}
        else:
            what = _("%(field)s diubah dari %(old)s menjadi %(new)s") % {**label, "old": old, "new": new}
        history.append(_event(record, what))
    history += _reminder_events(newborn)
    # Sorts are stable: one record's changes keep the fields' order, and a day's documents come before its edits.
    events += sorted(history, key=lambda e: e["at"])
    return sorted(events, key=lambda e: e["on"])


def _reminder_events(newborn: Newborn) -> list[dict]:
    """Each reminder the family was sent (or that failed or was stopped), read through the relation the
    reminders app gives the baby, so ``newborns`` imports nothing of it; queued and skipped ones are not
    events yet."""
    events = []
    for message in newborn.reminder_messages.select_related("step").exclude(status__in=["queued", "skipped"]):
        at = message.delivered_at or message.sent_at or message.queued_at
        what = _("Pengingat ke keluarga “%(step)s”: %(status)s") % {
            "step": message.step.name,
            "status": message.get_status_display(),
        }
        events.append({"on": timezone.localdate(at), "at": at, "what": what, "by": message.resent_by, "why": ""})
    return events


def _event(record, what: str, fallback_why: str = "") -> dict:
    return {
        "on": timezone.localdate(record.history_date),
        "at": record.history_date,
        "what": what,
        "by": record.history_user,
        "why": record.history_change_reason or fallback_why,
    }


def _changes(records: list, fields: list) -> list[tuple]:
    """(record, field, old, new) for every field a history record changed from the one before it."""
    return [
        (record, field, getattr(previous, field.attname), getattr(record, field.attname))
        for previous, record in pairwise(records)
        for field in fields
        if getattr(previous, field.attname) != getattr(record, field.attname)
    ]


def _names(changes: list[tuple]) -> dict:
    """{related model: {pk: name}} for every foreign key the changes mention, one query per model."""
    wanted = defaultdict(set)
    for _record, field, old, new in changes:
        if field.is_relation:
            wanted[field.related_model].update(pk for pk in (old, new) if pk is not None)
    return {
        model: {
            pk: obj.get_full_name() or obj.username if isinstance(obj, User) else obj.name
            for pk, obj in model._default_manager.in_bulk(pks).items()
        }
        for model, pks in wanted.items()
    }


def _shown(field, value, names: dict) -> str:
    """A stored value as a person reads it: a label, a name, a d-m-Y date, a masked number; "" for empty."""
    if value is None or value == "":
        return ""
    if field.is_relation:
        return names[field.related_model].get(value, str(value))
    if field.name in MASKED_FIELDS:
        return mask_number(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "d-m-Y H:i")
    if isinstance(value, datetime.date):
        return date_format(value, "d-m-Y")
    if isinstance(value, datetime.time):
        return time_format(value, "H:i")
    return str(value)


# --- SATUSEHAT (issue #14) --------------------------------------------------------------------------


@dataclass(frozen=True)
class SatusehatState:
    """What the baby's page says about SATUSEHAT: one of belum_dikirim, terkirim, nik_ditambahkan, digabung,
    galat (``merged_from``: the "Bayi Ny." IHS number a merged baby's record replaced)."""

    code: str
    label: str
    ihs_number: str = ""
    error: str = ""
    configured: bool = True
    can_retry: bool = False
    merged_from: str = ""


def satusehat_state(newborn: Newborn) -> SatusehatState:
    """The baby's SATUSEHAT state from its outbox rows (one query)."""
    rows = {row.action: row for row in newborn.satusehat.all()}
    configured = is_configured()
    failed = [r for r in rows.values() if r.status == SatusehatStatus.FAILED]
    if failed:
        return SatusehatState(
            "galat", _("Galat"), newborn.ihs_number, failed[0].last_error, configured, can_retry=configured
        )
    nik_row = rows.get(SatusehatAction.ADD_NIK)
    if nik_row and nik_row.status == SatusehatStatus.MERGED:
        return SatusehatState(
            "digabung",
            _("Digabung dengan Patient NIK"),
            newborn.ihs_number,
            configured=configured,
            merged_from=nik_row.merged_from,
        )
    if newborn.ihs_number and nik_row and nik_row.status == SatusehatStatus.SENT:
        return SatusehatState("nik_ditambahkan", _("NIK ditambahkan"), newborn.ihs_number, configured=configured)
    if newborn.ihs_number:
        waiting = nik_row.last_error if nik_row else ""
        return SatusehatState("terkirim", _("Terkirim"), newborn.ihs_number, waiting, configured)
    create = rows.get(SatusehatAction.CREATE)
    return SatusehatState("belum_dikirim", _("Belum dikirim"), "", create.last_error if create else "", configured)


def satusehat_by_facility(user, *, region=None, born_from=None, born_to=None) -> list[dict]:
    """Per place of birth, births in the user's scope and how many of them SATUSEHAT holds (an IHS number),
    in one GROUP BY; home births are one row with no facility."""
    babies = search_newborns(user, region=region, born_from=born_from, born_to=born_to)
    rows = (
        babies.order_by()
        .values("facility_id", "facility__name")
        .annotate(births=Count("pk"), in_satusehat=Count("pk", filter=~Q(ihs_number="")))
        .order_by("-births", "facility__name")
    )
    return [
        {
            "facility": row["facility__name"] or _("Lahir di rumah"),
            "births": row["births"],
            "in_satusehat": row["in_satusehat"],
            "missing": row["births"] - row["in_satusehat"],
        }
        for row in rows
    ]


def satusehat_errors(user):
    """Failed SATUSEHAT messages of the babies a user may see, most recent first."""
    return (
        SatusehatOutbox.objects.filter(status=SatusehatStatus.FAILED, newborn__in=Newborn.objects.in_scope_of(user))
        .select_related("newborn__desa__parent", "newborn__facility")
        .order_by("-updated_at", "-pk")
    )
