"""`make run`'s mail: each message its own .eml file under var/mail/, one a mail client opens."""

import email
import os
import subprocess
import sys
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SEND = """
import django; django.setup()
from django.core.mail import EmailMultiAlternatives, send_mail
send_mail("Reminder: Send the hydrogen study", "Due on Friday.\\nCafé at 10.", None, ["sam@city.example.org"])
message = EmailMultiAlternatives("Your weekly digest", "Plain text", None, ["olivia@city.example.org", "sam@city.example.org"])
message.attach_alternative("<p>HTML <b>digest</b></p>", "text/html")
message.send()
"""


def test_each_message_is_its_own_eml_file_a_mail_client_can_read(tmp_path):
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(DEBUG="1", VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="diplomacy_crm.settings")
    result = subprocess.run([sys.executable, "-c", SEND], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr

    files = sorted((tmp_path / "mail").iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"], files  # no .log, no leftover .part
    assert len({f.name for f in files}) == 2
    messages = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    by_subject = {m["Subject"]: m for m in messages}
    assert set(by_subject) == {"Reminder: Send the hydrogen study", "Your weekly digest"}

    reminder = by_subject["Reminder: Send the hydrogen study"]
    assert reminder["To"] == "sam@city.example.org"
    assert "crm@localhost" in reminder["From"]
    assert reminder["Date"] and reminder["Message-ID"]
    assert reminder.get_content().replace("\r\n", "\n") == "Due on Friday.\nCafé at 10.\n"

    digest = by_subject["Your weekly digest"]
    assert digest["To"] == "olivia@city.example.org, sam@city.example.org"
    assert digest.get_body(("html",)).get_content().strip() == "<p>HTML <b>digest</b></p>"
    assert digest.get_body(("plain",)).get_content().strip() == "Plain text"
    assert reminder["Message-ID"] != digest["Message-ID"]
