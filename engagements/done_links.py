"""The reminder email's "Mark done" link: a signed, expiring token for one user and one commitment.

The token (django.core.signing.TimestampSigner, its own salt) carries
"<user id>:<commitment id>" and is valid for DONE_LINK_MAX_AGE. It proves
only that the link was made for that user and that commitment: the page it
opens still needs the user signed in (through the login page and back), shows
a confirmation (a GET never changes anything), and the POST is checked like
every other write (accounts.access.may_mark_done). Used for anything else —
another commitment, another user, another page — it is worthless.
"""

import datetime as dt
from enum import Enum

from django.core import signing

SALT = "engagements.commitment-done-link"
DONE_LINK_MAX_AGE = dt.timedelta(days=14)


class TokenProblem(Enum):
    EXPIRED = "This link has expired. Open the commitment and mark it done from there."
    INVALID = "This link is not valid (it may have been cut short or altered). Open the commitment and mark it done from there."
    OTHER_USER = "This link was sent to someone else. Open the commitment and mark it done from there if you may."


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def make_token(*, user, commitment) -> str:
    return _signer().sign(f"{user.pk}:{commitment.pk}")


def check_token(token: str, *, user, commitment_pk: int) -> TokenProblem | None:
    """None when `token` was made for `user` and this commitment and has not expired; else what is wrong."""
    try:
        value = _signer().unsign(token or "", max_age=DONE_LINK_MAX_AGE)
    except signing.SignatureExpired:
        return TokenProblem.EXPIRED
    except signing.BadSignature:
        return TokenProblem.INVALID
    user_id, _, commitment_id = value.partition(":")
    if commitment_id != str(commitment_pk):
        return TokenProblem.INVALID
    if user_id != str(user.pk):
        return TokenProblem.OTHER_USER
    return None
