from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sejagad.roles import Capability, can

# Top navigation: (URL name, label, capability needed). Apps add their pages here as they arrive.
NAVIGATION = [
    ("home", _("Beranda"), None),
    ("admin:index", _("Admin"), Capability.MANAGE_SYSTEM),
]


def navigation(request):
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"nav_items": []}
    path = request.path
    items = []
    for url_name, label, capability in NAVIGATION:
        if capability is None or can(user, capability):
            url = reverse(url_name)
            active = path == url if url_name == "home" else path.startswith(url)
            items.append({"url": url, "label": label, "active": active})
    return {"nav_items": items}
