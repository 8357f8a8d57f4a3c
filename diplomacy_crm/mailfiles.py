"""Mail for developers: each message as its own `.eml` file, one a mail client opens.

The embedded defaults (no `EMAIL_URL`, no `EMAIL_HOST`: `make run`) use this
backend with `var/mail/`. Django's file backend appends every message of a
connection to one `.log` file with separator lines; here each message is a
complete RFC 5322 file (its headers, Date and Message-ID included, then the
MIME body) named `<UTC time>-<random>.eml`, so names never clash and sort by
time. A file is written under a temporary name and renamed, so a reader never
sees half a message.
"""

import datetime as dt
import os
import secrets

from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend


class EmlFileBackend(FileEmailBackend):
    """`OPTIONS: {"file_path": …}` as Django's file backend; one `.eml` per message."""

    def open(self):
        return False  # no shared stream: every message opens its own file

    def close(self):
        pass

    def file_name(self) -> str:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-%f")
        return os.path.join(self.file_path, f"{stamp}-{secrets.token_hex(4)}.eml")

    def write_message(self, message) -> str:
        path = self.file_name()
        partial = path + ".part"
        mime = message.message()
        with open(partial, "xb") as handle:
            handle.write(mime.as_bytes(policy=mime.policy.clone(linesep="\r\n")))  # RFC 5322 line ends
        os.replace(partial, path)
        return path

    def send_messages(self, email_messages) -> int:
        sent = 0
        with self._lock:
            for message in email_messages or ():
                try:
                    self.write_message(message)
                except Exception:
                    if not self.fail_silently:
                        raise
                    continue
                sent += 1
        return sent
