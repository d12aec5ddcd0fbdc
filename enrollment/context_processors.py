from enrollment.models import Digest, Notification


def notifications(request):
    """The unread count beside the bell in every page's header: her unread digests and Kritis notices
    (one COUNT over both, each on an index)."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"unread_notifications": 0}
    # No ORDER BY inside a UNION: SQLite (the embedded default) refuses it.
    notices = Notification.objects.live().filter(recipient=user, read_at__isnull=True).values("id").order_by()
    digests = Digest.objects.filter(recipient=user, read_at__isnull=True).values("id").order_by()
    return {"unread_notifications": notices.union(digests, all=True).count()}
