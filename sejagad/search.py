"""Searches that may hold a NIK, KK or JKN number (UU PDP): the list's form posts the text, and the list's
URL carries only the opaque session key it is kept under, so no number lands in a URL, a browser history
or an access log. Every list with a search box (babies, the Dukcapil list, each enrollment worklist) and
its exports go through these two functions."""

from django.http import QueryDict
from django.shortcuts import redirect

from newborns.privacy import recall_search, remember_search

SEARCH_KEY = "cari"
SEARCH_FIELD = "q"


def search_redirect(request, url: str):
    """The posted filters as the list's URL (``url``), the search text swapped for its session key."""
    params = request.POST.copy()
    for name in ("csrfmiddlewaretoken", "page", SEARCH_KEY):
        params.pop(name, None)
    text = params.pop(SEARCH_FIELD, [""])[-1].strip()
    if text:
        params[SEARCH_KEY] = remember_search(request.session, text)
    kept = params.copy()
    for name, values in params.lists():
        if not any(values):
            del kept[name]
    return redirect(f"{url}?{kept.urlencode()}" if kept else url)


def list_params(request) -> QueryDict:
    """The list's GET filters with the search text recalled from its key (a raw ``q`` in a URL is ignored)."""
    data = request.GET.copy()
    data.pop(SEARCH_FIELD, None)
    if text := recall_search(request.session, data.get(SEARCH_KEY)):
        data[SEARCH_FIELD] = text
    return data
