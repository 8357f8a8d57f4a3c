"""A real IMAP server for the tests: Dovecot (Debian's dovecot-imapd) on a free loopback port.

A minimal configuration in a temporary directory: IMAP only, 127.0.0.1, plain
text logins allowed (no TLS on loopback), one user from a passwd-file, maildir
storage under the directory. `dovecot -F` runs in the foreground as our child;
stop() and start() let a test take the server away and bring it back with its
mail intact (the maildir stays). XOAUTH2 is offered too: Dovecot checks the
bearer token against the passdb, so the user's password stands in for an
access token the provider would have issued.
"""

import imaplib
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.conftest import port_open
from tests.integration.notification_helpers import free_port

USER, PASSWORD = "capture", "capture-secret"

CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
first_valid_uid = 1
default_login_user = {login_user}
default_internal_user = {internal_user}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


def binary() -> str | None:
    return shutil.which("dovecot") or (os.path.exists("/usr/sbin/dovecot") and "/usr/sbin/dovecot") or None


class Dovecot:
    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="crm-dovecot-"))  # short: Dovecot's sockets live under it
        self.root.chmod(0o755)
        self.port, self.ssl_port = free_port(), free_port()
        self.proc: subprocess.Popen | None = None
        if os.geteuid() == 0:
            # Dovecot refuses mail access as root: the mail belongs to Debian's "dovecot" user.
            account = pwd.getpwnam("dovecot")
            uid, gid, login, internal = account.pw_uid, account.pw_gid, "dovenull", "dovecot"
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            uid, gid, login, internal = os.geteuid(), os.getegid(), me, me
        (self.root / "mail").mkdir()
        os.chown(self.root / "mail", uid, gid)
        (self.root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        self.cert = self.root / "cert.pem"
        # A self-signed certificate for 127.0.0.1 (imaps://): the app must refuse it unless told to trust it.
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(self.root / "key.pem"), "-out", str(self.cert)],
            check=True, capture_output=True,
        )
        self.conf = self.root / "dovecot.conf"
        self.conf.write_text(CONF.format(root=self.root, port=self.port, ssl_port=self.ssl_port, uid=uid, gid=gid,
                                         login_user=login, internal_user=internal))

    @property
    def url(self) -> str:
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    @property
    def tls_url(self) -> str:
        return f"imaps://{USER}:{PASSWORD}@127.0.0.1:{self.ssl_port}/INBOX"

    def start(self, timeout: float = 20) -> "Dovecot":
        if self.running:
            return self
        self.proc = subprocess.Popen([binary(), "-F", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited:\n{self.log_tail()}")
            if port_open("127.0.0.1", self.port, timeout=0.2):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"dovecot not listening after {timeout}s:\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.running:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        deadline = time.monotonic() + 10
        while port_open("127.0.0.1", self.port, timeout=0.2) and time.monotonic() < deadline:
            time.sleep(0.1)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, n: int = 3000) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-n:] if path.exists() else ""

    # --- What a mail client would do ---------------------------------------------------------
    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(USER, PASSWORD)
        return conn

    def deliver(self, *raws: bytes, folder: str = "INBOX") -> None:
        """APPEND each message, as a delivery agent would put it in the mailbox."""
        conn = self.client()
        try:
            for raw in raws:
                typ, data = conn.append(folder, None, None, raw)
                assert typ == "OK", data
        finally:
            conn.logout()

    def message_ids(self, folder: str = "INBOX") -> list[str]:
        """The Message-IDs of the messages in `folder` that are not flagged \\Deleted (empty if it does not exist)."""
        conn = self.client()
        try:
            typ, _ = conn.select(f'"{folder}"', readonly=True)
            if typ != "OK":
                return []
            _, data = conn.uid("SEARCH", None, "UNDELETED")
            out = []
            for uid in (data[0] or b"").split():
                _, fetched = conn.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                header = fetched[0][1].decode().strip()
                out.append(header.split(":", 1)[1].strip() if ":" in header else "")
            return out
        finally:
            conn.logout()

    def empty(self) -> None:
        """Remove every message of every folder (between tests)."""
        conn = self.client()
        try:
            _, folders = conn.list()
            for line in folders or []:
                match = re.match(r'\((?P<flags>.*?)\) (?P<delim>"[^"]*"|NIL) (?P<name>.+)$', line.decode())
                name = match.group("name").strip('"') if match else "INBOX"
                typ, count = conn.select(f'"{name}"')
                if typ == "OK" and int(count[0] or 0) > 0:
                    conn.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                    conn.expunge()
        finally:
            conn.logout()
