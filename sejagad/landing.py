"""Where each role lands after signing in: on its own day's work, not on figures it does not chase."""

from django.urls import reverse

from sejagad.roles import Role

# The list a role works through every day. Roles not named land on home: Dinkes on the dashboard, the bidan
# on her own page (sejagad.views._landing).
OWN_LIST = {
    Role.PETUGAS_BPJS: "enrollment:worklist_bpjs",
    Role.PETUGAS_DUKCAPIL: "newborns:nik_worklist",
    Role.PETUGAS_DINSOS: "enrollment:worklist_dinsos",
}


def own_list_url(user) -> str | None:
    """The URL of the user's own list, or None when home is her landing."""
    name = OWN_LIST.get(getattr(user, "role", ""))
    return reverse(name) if name else None
