"""Writes of email capture: keep a message once, log it as an engagement, or leave it in triage.

Once: `store_message` inserts by the unique Message-ID (a second copy, or a
second poll, finds the row). Processing claims a stored message with
`SELECT … FOR UPDATE SKIP LOCKED` and writes its engagement and its new status
in the same transaction: a worker killed mid-way rolls both back and leaves
the message "received" for the next poll, and two polls never take the same
message. The mailbox copy is removed only after that transaction committed
(mailcapture/poll.py).
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts import access
from attachments.checks import inspect
from attachments.services import attach_files
from engagements.models import Engagement
from engagements.services import engagement_create, engagement_update

from . import matching, parsing
from .models import CapturedMessage

log = logging.getLogger(__name__)
SUMMARY_MAX = 50_000
Status = CapturedMessage.Status


def may_log(user) -> bool:
    """Who may have mail logged in their name, and who works the triage inbox: staff and officers."""
    return access.may_use_crm(user) and user.has_perm("engagements.add_engagement")


def default_confidentiality() -> str:
    """MAIL_CAPTURE_DEFAULT_CONFIDENTIALITY, or else the level accounts.access calls restricted (docs say why)."""
    levels = Engagement.Confidentiality.values
    return settings.MAIL_CAPTURE_DEFAULT_CONFIDENTIALITY or next(v for v in levels if access.is_restricted(v))


def store_message(raw: bytes, *, now=None) -> tuple[CapturedMessage, bool]:
    """Keep `raw` once by its Message-ID; (the row, whether this call created it). Commits on its own."""
    parsed = parsing.parse(raw)
    with transaction.atomic():
        return CapturedMessage.objects.get_or_create(
            message_id=parsed.message_id,
            defaults={
                "raw": raw,
                "subject": parsed.subject,
                "from_address": parsed.from_address,
                "from_name": parsed.from_name,
                "recipients": ", ".join(parsed.recipients)[:20_000],
                "sent_at": parsed.sent_at,
                "confidentiality": parsed.confidentiality,
                "received_at": now or timezone.now(),
            },
        )


def _uploads(parts) -> tuple[list, list[str]]:
    """The message's files that attachments accept (same type and size checks), and a note per refused one."""
    accepted, refused = [], []
    for part in parts:
        upload = SimpleUploadedFile(part.filename, part.content, content_type=part.content_type)
        try:
            inspect(upload)
        except ValidationError as exc:
            refused.append(" ".join(exc.messages))
            continue
        accepted.append(upload)
    return accepted, refused


def _summary(body: str, refused: list[str]) -> str:
    notes = "".join(f"\n- {note}" for note in refused)
    tail = f"\n\nAttachments not kept:{notes}" if refused else ""
    return (body[: SUMMARY_MAX - len(tail)] + tail).strip()


def _finish(message: CapturedMessage, *, status: str, engagement=None, reason: str = "", actor=None, now=None):
    message.status = status
    message.engagement = engagement
    message.reason = reason[:500]
    message.processed_at = now or timezone.now()
    message.processed_by = actor
    if actor is not None:
        message._history_user = actor
    message.save(update_fields=["status", "engagement", "reason", "processed_at", "processed_by", "sender"])
    return message


def _to_triage(message, reason: str, now=None):
    log.info("mail capture: %s waits in triage: %s", message.message_id, reason)
    return _finish(message, status=Status.TRIAGE, reason=reason, now=now)


def log_correspondence(message, parsed, *, actor, partners, contacts, confidentiality: str, now=None) -> Engagement:
    """The message as a held correspondence engagement, with its files; the message marked logged."""
    accepted, refused = _uploads(parsed.attachments)
    staff = [message.sender] if message.sender_id and may_log(message.sender) else [actor]
    engagement = engagement_create(
        actor=actor,
        title=parsed.title,
        kind=Engagement.Kind.CORRESPONDENCE,
        status=Engagement.Status.HELD,
        starts_at=parsed.sent_at or message.received_at,
        summary=_summary(parsed.body, refused),
        confidentiality=confidentiality,
        partners=partners,
        contacts=contacts,
        staff=staff,
    )
    if accepted:
        attach_files(record=engagement, uploads=accepted, actor=actor)
    _finish(message, status=Status.LOGGED, engagement=engagement, actor=None if actor == message.sender else actor, now=now)
    return engagement


def apply_invitations(message, parsed, *, actor, confidentiality: str, partner=None, now=None) -> Engagement:
    """The message's invitations (text/calendar or .ics) through engagements.invitations; its other files go
    onto the (first) engagement they create, update or cancel. InvitationError when none can be read."""
    from engagements.invitations import InvitationError, apply_calendar

    outcomes = []
    for data in parsed.calendars:
        outcomes.extend(apply_calendar(data, actor=actor, confidentiality=confidentiality, now=now))
    if not outcomes:
        raise InvitationError("The invitation holds no event.")
    engagement = outcomes[0].engagement
    if partner is not None and not engagement.partners.filter(pk=partner.pk).exists():
        engagement_update(engagement=engagement, actor=actor, partners=[*engagement.partners.all(), partner])
    accepted, refused = _uploads(parsed.attachments)
    if accepted:
        attach_files(record=engagement, uploads=accepted, actor=actor)
    for note in refused:
        log.info("mail capture: %s: attachment not kept: %s", message.message_id, note)
    _finish(message, status=Status.LOGGED, engagement=engagement, actor=None if actor == message.sender else actor, now=now)
    return engagement


def _process(message: CapturedMessage, *, now=None) -> CapturedMessage:
    """Decide one claimed message: logged on its partners, or triage with the reason (inside the claim)."""
    from engagements.invitations import InvitationError

    parsed = parsing.parse(bytes(message.raw))
    senders = matching.known_senders(parsed.from_address)
    if len(senders) != 1:
        why = "is not the address of a user" if not senders else "is the address of several users"
        return _to_triage(message, f"Unknown sender: {parsed.from_address or '(none)'} {why}.", now)
    sender = message.sender = senders[0]  # saved with the outcome (one history row per decision)
    if not may_log(sender):
        return _to_triage(message, f"{sender.get_username()} may not log engagements (staff and officers may).", now)
    confidentiality = parsed.confidentiality or default_confidentiality()
    if parsed.calendars:
        try:
            with transaction.atomic():
                apply_invitations(message, parsed, actor=sender, confidentiality=confidentiality, now=now)
            return message
        except (InvitationError, ValidationError) as exc:
            return _to_triage(message, f"The invitation could not be applied: {' '.join(_messages(exc))}", now)
    found = matching.match(parsed.participants, ignore=_own_addresses(sender))
    if not found.partners:
        return _to_triage(message, "No partner matched the addresses of this message.", now)
    try:
        with transaction.atomic():
            log_correspondence(message, parsed, actor=sender, partners=found.partners, contacts=found.contacts,
                               confidentiality=confidentiality, now=now)
    except ValidationError as exc:
        return _to_triage(message, f"Could not be logged: {' '.join(_messages(exc))}", now)
    return message


def _messages(exc) -> list[str]:
    return getattr(exc, "messages", None) or [str(exc)]


def _own_addresses(sender) -> set[str]:
    from .imap import config_from_url

    own = {sender.email.lower()}
    if settings.MAIL_CAPTURE_URL:
        own.add(config_from_url(settings.MAIL_CAPTURE_URL).address)
    return own - {""}


def process_pending(*, now=None, limit: int = 500) -> int:
    """Process the stored messages still "received" (this poll's and any a killed poll left), one claim
    and one transaction each; the number processed. A message another poll holds is skipped."""
    done, tried = 0, set()
    while done < limit:
        with transaction.atomic():
            message = (
                CapturedMessage.objects.select_for_update(skip_locked=True)
                .filter(status=Status.RECEIVED)
                .exclude(pk__in=tried)
                .order_by("pk")
                .first()
            )
            if message is None:
                return done
            tried.add(message.pk)
            try:
                with transaction.atomic():
                    _process(message, now=now)
            except Exception as exc:  # one message that cannot be processed must not stop the others
                log.exception("mail capture: %s could not be processed", message.message_id)
                message.refresh_from_db()
                _to_triage(message, f"Could not be processed: {type(exc).__name__}: {exc}"[:500], now)
        done += 1
    return done


def _claim_triage(message: CapturedMessage) -> CapturedMessage:
    locked = CapturedMessage.objects.select_for_update().get(pk=message.pk)
    if locked.status != Status.TRIAGE:
        raise ValidationError(f"This message is already {locked.get_status_display().lower()}.")
    return locked


@transaction.atomic
def message_assign(*, message: CapturedMessage, partner, actor, confidentiality: str, now=None) -> Engagement:
    """From triage: log the message on `partner` (its contacts there named), as `actor`."""
    if not may_log(actor):
        raise ValidationError("Only staff and officers assign mail.")
    locked = _claim_triage(message)
    parsed = parsing.parse(bytes(locked.raw))
    if parsed.calendars:
        engagement = apply_invitations(locked, parsed, actor=actor, confidentiality=confidentiality, partner=partner, now=now)
    else:
        found = matching.match(parsed.participants, ignore=_own_addresses(actor))
        contacts = [c for c in found.contacts if c.partner_id == partner.pk]
        engagement = log_correspondence(locked, parsed, actor=actor, partners=[partner], contacts=contacts,
                                        confidentiality=confidentiality, now=now)
    message.refresh_from_db()
    return engagement


@transaction.atomic
def message_discard(*, message: CapturedMessage, actor, now=None) -> CapturedMessage:
    """From triage: not a record of ours. Kept (so a copy delivered again is not triaged again), marked discarded."""
    if not may_log(actor):
        raise ValidationError("Only staff and officers discard mail.")
    locked = _claim_triage(message)
    _finish(locked, status=Status.DISCARDED, reason=locked.reason, actor=actor, now=now)
    message.refresh_from_db()
    return message
