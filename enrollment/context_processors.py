from enrollment.models import Notification


def notifications(request):
    """The unread count beside the bell in every page's header (one COUNT on an index)."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"unread_notifications": 0}
    return {"unread_notifications": Notification.objects.live().filter(recipient=user, read_at__isnull=True).count()}
