"""Turn an outbox row into an email, from the row alone (no queries).

Each kind of email is a trio of templates under templates/emails/:
<name>_subject.txt, <name>.txt (plain text, not escaped) and <name>.html
(inline-styled tables for mail clients, autoescaped).
"""

import re

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .links import site_url
from .models import OutboxMessage

Kind = OutboxMessage.Kind

TEMPLATES = {
    Kind.COMMITMENT_DUE_SOON: "reminder_commitment",
    Kind.COMMITMENT_DUE_TODAY: "reminder_commitment",
    Kind.COMMITMENT_OVERDUE: "reminder_commitment",
    Kind.ENGAGEMENT_FOLLOW_UP: "reminder_follow_up",
    Kind.AGREEMENT_EXPIRES: "reminder_agreement",
    Kind.AGREEMENT_NOTICE: "reminder_agreement",
    Kind.WEEKLY_DIGEST: "digest",
}
SUBJECT_MAX = 200


def clean_subject(text: str) -> str:
    # One line, whatever the data holds: a newline in a header would be an injection.
    subject = re.sub(r"\s+", " ", text).strip()
    return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1] + "…"


def render_message(row: OutboxMessage) -> EmailMultiAlternatives:
    """The email for `row`, with a stable Message-ID and the X-Outbox-Key header."""
    name = TEMPLATES[row.kind]
    context = {
        "preferences_url": site_url("/accounts/preferences/"),
        **row.context,
        "kind": row.kind,
        "site_url": settings.SITE_URL,
    }
    subject = clean_subject(render_to_string(f"emails/{name}_subject.txt", context))
    text = render_to_string(f"emails/{name}.txt", context)
    html = render_to_string(f"emails/{name}.html", {**context, "subject": subject})
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to_email],
        headers={
            "Message-ID": row.message_id,
            "X-Outbox-Key": row.key,
            # Tells auto-responders not to answer (RFC 3834).
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message
