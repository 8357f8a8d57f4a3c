"""The capture mailbox over IMAP (stdlib imaplib): list, fetch, and remove a message once it is kept.

MAIL_CAPTURE_URL: `imaps://user:password@host[:993]/FOLDER` (TLS, certificate
checked, against MAIL_CAPTURE_CA_FILE when set) or `imap://…[:143]/FOLDER` (plain; for a loopback server or a
STARTTLS-less relay). The folder defaults to INBOX. `?auth=xoauth2` signs in
with OAuth2 (SASL XOAUTH2) using the access token in MAIL_CAPTURE_OAUTH2_TOKEN,
or read at each poll from the file MAIL_CAPTURE_OAUTH2_TOKEN_FILE (so a
refresher outside the app can renew it); the URL then has no password.
"""

import contextlib
import imaplib
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# What a poll may meet when the server is away or refuses: reported, never raised to the task.
MAILBOX_ERRORS = (OSError, imaplib.IMAP4.error, ssl.SSLError, EOFError)


class MailboxError(Exception):
    pass


@dataclass(frozen=True)
class MailboxConfig:
    secure: bool
    host: str
    port: int
    username: str
    password: str
    folder: str
    xoauth2: bool

    @property
    def address(self) -> str:
        return self.username.lower() if "@" in self.username else ""


def config_from_url(url: str) -> MailboxConfig:
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ImproperlyConfigured(f"MAIL_CAPTURE_URL must start with imaps:// or imap://, not {parts.scheme!r}.")
    if not parts.hostname or not parts.username:
        raise ImproperlyConfigured("MAIL_CAPTURE_URL needs a user and a host: imaps://user:password@host/INBOX.")
    auth = (parse_qs(parts.query).get("auth") or [""])[0].lower()
    if auth not in ("", "password", "xoauth2"):
        raise ImproperlyConfigured(f"MAIL_CAPTURE_URL: auth={auth!r} is not supported (use xoauth2, or leave it out).")
    secure = parts.scheme == "imaps"
    return MailboxConfig(
        secure=secure,
        host=parts.hostname,
        port=parts.port or (993 if secure else 143),
        username=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        xoauth2=auth == "xoauth2",
    )


def oauth2_token() -> str:
    path = settings.MAIL_CAPTURE_OAUTH2_TOKEN_FILE
    token = Path(path).read_text().strip() if path else settings.MAIL_CAPTURE_OAUTH2_TOKEN
    if not token:
        raise MailboxError("auth=xoauth2 needs MAIL_CAPTURE_OAUTH2_TOKEN or MAIL_CAPTURE_OAUTH2_TOKEN_FILE.")
    return token


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailbox:
    def __init__(self, conn: imaplib.IMAP4, config: MailboxConfig):
        self.conn, self.config = conn, config
        self.capabilities = {c.upper() for c in conn.capabilities}

    def _ok(self, response, what: str):
        typ, data = response
        if typ != "OK":
            raise MailboxError(f"{what}: {data!r}")
        return data

    def uids(self, limit: int) -> list[bytes]:
        data = self._ok(self.conn.uid("SEARCH", None, "UNDELETED"), "search")
        return (data[0] or b"").split()[:limit]

    def fetch(self, uid: bytes) -> bytes | None:
        data = self._ok(self.conn.uid("FETCH", uid, "(BODY.PEEK[])"), f"fetch {uid!r}")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        return None  # gone meanwhile (another poll removed it)

    def remove(self, uids: list[bytes]) -> None:
        """Move the messages to MAIL_CAPTURE_DONE_FOLDER, or flag them \\Deleted and expunge them."""
        if not uids:
            return
        uid_set = b",".join(uids).decode()
        done = settings.MAIL_CAPTURE_DONE_FOLDER
        if done:
            self.conn.create(_quoted(done))  # refused when it exists: fine
            if "MOVE" in self.capabilities:
                self._ok(self.conn.uid("MOVE", uid_set, _quoted(done)), "move")
                return
            self._ok(self.conn.uid("COPY", uid_set, _quoted(done)), "copy")
        self._ok(self.conn.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)"), "flag deleted")
        if "UIDPLUS" in self.capabilities:
            self._ok(self.conn.uid("EXPUNGE", uid_set), "expunge")
        else:
            self._ok(self.conn.expunge(), "expunge")


@contextlib.contextmanager
def open_mailbox(config: MailboxConfig):
    timeout = settings.MAIL_CAPTURE_TIMEOUT_SECONDS
    if config.secure:
        # The server's certificate and name are checked (against MAIL_CAPTURE_CA_FILE when set).
        context = ssl.create_default_context(cafile=settings.MAIL_CAPTURE_CA_FILE or None)
        conn = imaplib.IMAP4_SSL(config.host, config.port, ssl_context=context, timeout=timeout)
    else:
        conn = imaplib.IMAP4(config.host, config.port, timeout=timeout)
    try:
        if config.xoauth2:
            token = oauth2_token()
            conn.authenticate("XOAUTH2", lambda _: f"user={config.username}\x01auth=Bearer {token}\x01\x01".encode())
        else:
            conn.login(config.username, config.password)
        typ, data = conn.select(_quoted(config.folder))
        if typ != "OK":
            raise MailboxError(f"folder {config.folder!r}: {data!r}")
        yield Mailbox(conn, config)
    finally:
        with contextlib.suppress(*MAILBOX_ERRORS):
            conn.logout()


def describe(exc: BaseException) -> str:
    """An error as a user reads it on the triage page (no password: imaplib never echoes it)."""
    text = str(exc) or type(exc).__name__
    return re.sub(r"\s+", " ", f"{type(exc).__name__}: {text}")[:500]
