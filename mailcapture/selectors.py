"""Reads of email capture: which captured messages a user may see, and the mailbox's state."""

from django.conf import settings
from django.db.models import Q

from accounts import access
from engagements.models import Engagement

from .models import CapturedMessage, MailboxPoll
from .services import default_confidentiality, may_log


def messages_for(user):
    """The captured messages `user` may see: staff and officers (who work the triage inbox). A colleague's
    message that is restricted (marked [restricted], or unmarked while the default confidentiality is
    restricted) only for officers and that colleague; an unknown sender's unmarked mail for all of them.
    Nothing for anyone else."""
    qs = CapturedMessage.objects.all()
    if not may_log(user):
        return qs.none()
    if not access.sees_all_restricted(user):
        open_levels = [v for v in Engagement.Confidentiality.values if not access.is_restricted(v)]
        unmarked = Q(confidentiality="")
        if access.is_restricted(default_confidentiality()):
            unmarked &= Q(sender__isnull=True)
        qs = qs.filter(Q(confidentiality__in=open_levels) | unmarked | Q(sender=user))
    return qs


def access_message(user, pk):
    """One message `user` may see, or CapturedMessage.DoesNotExist (a 404, also when it exists unseen)."""
    return messages_for(user).select_related("sender", "engagement", "processed_by").get(pk=pk)


def mailbox_state() -> dict:
    """What the triage page says about the mailbox: on or off, and the last poll."""
    return {"enabled": bool(settings.MAIL_CAPTURE_URL), "last_poll": MailboxPoll.objects.filter(pk=1).first()}
