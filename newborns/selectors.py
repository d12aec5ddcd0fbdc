"""Read paths for the newborn pages, the API and other apps."""

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from newborns.models import Newborn


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
        babies = babies.search(q)
    if desa:
        babies = babies.filter(desa=desa)
    elif kecamatan:
        babies = babies.filter(desa__parent=kecamatan)
    if status:
        babies = babies.with_document_status(status)
    return babies


def births_by_child_region(user, *, region, born_from, born_to) -> dict[str, int]:
    """Births per kecamatan of a kabupaten, or per desa of a kecamatan, in one GROUP BY."""
    key = "desa__parent_id" if region.code.count(".") == 1 else "desa_id"
    babies = search_newborns(user, region=region, born_from=born_from, born_to=born_to)
    return {r[key]: r["n"] for r in babies.order_by().values(key).annotate(n=Count("id"))}


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
