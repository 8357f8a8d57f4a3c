"""Reads of email capture: which captured messages a user may see, their files, and the mailbox's state."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q

from accounts import access
from attachments.checks import inspect
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


@dataclass(frozen=True)
class MessageFile:
    """One file of a captured message as the triage page lists it; `number` (from 1) is its download's address."""

    number: int
    filename: str
    content: bytes
    content_type: str = ""  # detected from the bytes (libmagic), as attachments store it
    refused: str = ""  # why attachments would not keep it (then it is not downloadable either)


def message_files(parsed) -> list[MessageFile]:
    """The files of a parsed message (mailcapture.parsing.parse), each judged by the attachments' own checks."""
    files = []
    for number, part in enumerate(parsed.attachments, start=1):
        try:
            seen = inspect(SimpleUploadedFile(part.filename, part.content, content_type=part.content_type))
        except ValidationError as exc:
            files.append(MessageFile(number, part.filename, part.content, refused=" ".join(exc.messages)))
        else:
            files.append(MessageFile(number, seen.filename, part.content, content_type=seen.content_type))
    return files


def mailbox_state() -> dict:
    """What the triage page says about the mailbox: on or off, and the last poll."""
    return {"enabled": bool(settings.MAIL_CAPTURE_URL), "last_poll": MailboxPoll.objects.filter(pk=1).first()}
