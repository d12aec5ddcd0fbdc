"""NIK and KK numbers are personal data (UU PDP 27/2022): masked unless the role needs them whole, kept out
of URLs, and every whole view of one written to the access log."""

import secrets
from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from newborns.models import AccessPoint, IdentityAccess, Newborn, as_identity_number
from sejagad.roles import Capability, can

# A search typed into the list is kept in the session under an opaque key; the URL carries only the key.
SEARCHES_SESSION_KEY = "newborn_searches"
SEARCHES_KEPT = 20

# A duplicate outside the user's scope is told without its id, name or link.
DUPLICATE_ELSEWHERE = _("Kelahiran ini sudah tercatat di fasilitas lain; hubungi Dinkes.")


def mask_number(value: str | None) -> str:
    """``7322031704260001`` -> ``7322**********01``: the region shows, the person does not."""
    if not value:
        return ""
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def shown_to(user, value: str | None) -> str:
    """The number whole for a role that needs it, masked for every other."""
    return (value or "") if sees_whole_numbers(user) else mask_number(value)


def sees_whole_numbers(user) -> bool:
    return can(user, Capability.VIEW_IDENTITY_NUMBERS)


def mask_name(name: str) -> str:
    """``SITI AMINAH`` -> ``S*** A*****``: enough to recognise a typo, not to identify a stranger."""
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in name.split())


def is_number_search(text: str | None) -> bool:
    """A search for a NIK or KK number (rather than a name)."""
    return bool(as_identity_number(text or ""))


def log_number_search(*, user, query: str | None, newborn_ids: Iterable[int]) -> None:
    """A hit on a search by a whole NIK or KK confirms whose number it is, masked on screen or not: logged."""
    if is_number_search(query):
        log_identity_access(user=user, where=AccessPoint.SEARCH, newborn_ids=newborn_ids, whole=True)


def log_identity_access(
    *, user, where: AccessPoint, newborn_ids: Iterable[int] = (), count: int | None = None, whole: bool | None = None
) -> int:
    """Record that ``user`` was shown whole NIK/KK numbers; returns the rows written.

    Babies named by ``newborn_ids`` get one row each, in one INSERT (a page or a search hit). A list or an
    export of ``count`` babies writes one row for the request: a 100k-row export stays one write. Nothing
    is written when the numbers were masked (``whole`` defaults to what the user's role sees)."""
    if not (sees_whole_numbers(user) if whole is None else whole):
        return 0
    if count is not None:
        if not count:
            return 0
        IdentityAccess.objects.create(user=user, where=where, count=count)
        return 1
    rows = [IdentityAccess(user=user, where=where, newborn_id=pk) for pk in dict.fromkeys(newborn_ids)]
    IdentityAccess.objects.bulk_create(rows)
    return len(rows)


def remember_search(session, text: str) -> str:
    """Keep a search in the session; the returned opaque key is what the URL carries instead of the text."""
    searches = session.get(SEARCHES_SESSION_KEY, {})
    key = secrets.token_urlsafe(9)
    searches[key] = text
    session[SEARCHES_SESSION_KEY] = dict(list(searches.items())[-SEARCHES_KEPT:])
    return key


def recall_search(session, key: str | None) -> str:
    return session.get(SEARCHES_SESSION_KEY, {}).get(key or "", "")


def visible_duplicate(existing: Newborn, user) -> Newborn | None:
    """The recorded birth a duplicate answer may name: one in the user's scope, else None."""
    return existing if Newborn.objects.in_scope_of(user).filter(pk=existing.pk).exists() else None


def access_log(user, *, by=None, newborn=None):
    """The access log a Dinkes admin reads, newest first, narrowed to one user or one baby."""
    rows = IdentityAccess.objects.visible_to(user).select_related("user", "newborn")
    if by is not None:
        rows = rows.filter(user=by)
    if newborn is not None:
        rows = rows.filter(newborn=newborn)
    return rows.order_by("-at", "-id")


def mask_phone(value: str) -> str:
    """A phone number for lists and logs: the operator prefix and the last three digits (``+62812*****890``)."""
    if not value:
        return ""
    return value[:6] + "*" * max(len(value) - 9, 0) + value[-3:]
