"""Read paths for the newborn pages, the API and other apps."""

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from newborns.models import Newborn


def search_newborns(user, *, q: str = "", kecamatan=None, desa=None, status: str = "", month=None) -> QuerySet:
    """The babies a user may see, narrowed by the list filters; rows carry what the list shows."""
    babies = Newborn.objects.in_scope_of(user).for_lists()
    if q := q.strip():
        babies = babies.search(q)
    if desa:
        babies = babies.filter(desa=desa)
    elif kecamatan:
        babies = babies.filter(desa__parent=kecamatan)
    if status:
        babies = babies.with_document_status(status)
    if month:
        babies = babies.born_in_month(month.year, month.month)
    return babies


def nik_worklist(user, *, kecamatan=None, desa=None) -> QuerySet:
    """Dukcapil's worklist: babies in scope still without a NIK, oldest first."""
    return search_newborns(user, kecamatan=kecamatan, desa=desa).without_nik().order_by("birth_date", "id")


def timeline(newborn: Newborn) -> list[dict]:
    """What happened to a baby, oldest first: birth, documents, and every recorded change with who made it."""
    events = [{"on": newborn.birth_date, "what": _("Lahir"), "by": None}]
    for on, what, by in (
        (newborn.kk_added_on, _("Masuk Kartu Keluarga"), newborn.kk_added_by),
        (newborn.akta_issued_on, _("Akta kelahiran terbit"), newborn.akta_by),
        (newborn.nik_issued_on, _("NIK terbit"), newborn.nik_by),
    ):
        if on:
            events.append({"on": on, "what": what, "by": by})
    previous = None
    for record in newborn.history.select_related("history_user").order_by("history_date", "history_id"):
        if previous is None:
            what = _("Kelahiran dicatat")
        else:
            fields = [str(Newborn._meta.get_field(c.field).verbose_name) for c in record.diff_against(previous).changes]
            what = _("Diubah: %(fields)s") % {"fields": ", ".join(fields)}
        events.append(
            {
                "on": timezone.localdate(record.history_date),
                "at": record.history_date,
                "what": what,
                "by": record.history_user,
            }
        )
        previous = record
    return sorted(events, key=lambda e: e["on"])
