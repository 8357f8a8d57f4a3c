"""PLACEHOLDER (branch h3): calendar invitations read into planned engagements.

The real module (METHOD:REQUEST creates or updates a planned engagement by its
UID, METHOD:CANCEL cancels it) is written on another branch and replaces this
file at merge. Only the interface is here, so that mailcapture/ can call it.
"""

import datetime as dt
from dataclasses import dataclass


class InvitationError(ValueError):
    """The calendar data cannot be read as an invitation."""


@dataclass
class InvitationOutcome:
    engagement: object  # engagements.models.Engagement
    action: str  # "created", "updated", "cancelled" or "unchanged"


def apply_calendar(
    data: bytes, *, actor, confidentiality: str | None = None, now: dt.datetime | None = None
) -> list[InvitationOutcome]:
    raise NotImplementedError("engagements.invitations.apply_calendar arrives with the invitations branch")
