"""The security audit log: sign-ins, failed sign-ins, sign-outs, refusals.

Record changes are audited by django-simple-history (who, when, what, per
record); this log is for the events that change nothing: logger `crm.audit`,
one line per event with `event=` first, so it greps and parses. Passwords
never appear; a failed sign-in logs the username tried (it may be a typo of
a password, so the log is as confidential as the database).
"""

import ipaddress
import logging

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

logger = logging.getLogger("crm.audit")


def _valid_ip(text) -> str | None:
    try:
        return str(ipaddress.ip_address(str(text).strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """The client's IP address, as far as it can be trusted; None when there is none.

    With TRUSTED_PROXY_COUNT = 0 it is the connection's address and
    X-Forwarded-For is ignored (a client can write anything there). With N
    trusted proxies it is the Nth address from the right of X-Forwarded-For,
    the one the outermost trusted proxy appended: the pick DRF's NUM_PROXIES
    makes for the API throttle. An entry that is not an IP address (a proxy
    chain shorter than configured lets the client write it) falls back to the
    connection's address. django-axes calls this (AXES_CLIENT_IP_CALLABLE).
    """
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0 and forwarded:
        addresses = forwarded.split(",")
        chosen = _valid_ip(addresses[-min(count, len(addresses))])
        if chosen is not None:
            return chosen
    return _valid_ip(remote) if remote else None


def client_ip(request) -> str:
    """`client_address` for a log line: "-" when unknown."""
    return client_address(request) or "-"


def _username(value) -> str:
    # Control characters (CR/LF) in a tried username must not forge log lines.
    text = str(value or "-")[:150]
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def on_login(sender, request, user, **kwargs):
    logger.info("event=login user=%s ip=%s", _username(user.get_username()), client_ip(request))


def on_login_failed(sender, credentials, request=None, **kwargs):
    logger.warning(
        "event=login_failed user=%s ip=%s", _username(credentials.get("username")), client_ip(request)
    )


def on_logout(sender, request, user, **kwargs):
    name = user.get_username() if user is not None else "-"
    logger.info("event=logout user=%s ip=%s", _username(name), client_ip(request))


def log_denial(request, status: int) -> None:
    """A signed-in user was refused (403) or told a record does not exist for them (404)."""
    logger.warning(
        "event=denied status=%s user=%s method=%s path=%s ip=%s",
        status,
        _username(request.user.get_username()),
        request.method,
        _username(request.path),
        client_ip(request),
    )


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="crm.audit.login")
    user_login_failed.connect(on_login_failed, dispatch_uid="crm.audit.login_failed")
    user_logged_out.connect(on_logout, dispatch_uid="crm.audit.logout")
