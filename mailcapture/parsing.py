"""Reading a captured message (stdlib `email`): headers, title, body with quoted history trimmed, files, invitations.

What is trimmed, and why (docs/mail_capture.md):
- quoted lines (starting with ">") and everything after an "On … wrote:" line or an
  Outlook "-----Original Message-----" / "From: … Sent: …" block: the history of a
  reply is already in the mailbox of whoever needs it, and it is usually the
  previous engagement's text;
- in a forward, the forwarding noise only (the "---------- Forwarded message ----------"
  line and the header lines after it); the forwarded letter itself is what is logged,
  and the address on its From line counts as a participant.
"""

import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from engagements.models import Engagement

TITLE_MAX = 300
# The subject keywords: an engagement's confidentiality levels in brackets ("[internal]").
LEVELS = tuple(Engagement.Confidentiality.values)
KEYWORD_RE = re.compile(r"\[\s*(" + "|".join(LEVELS) + r")\s*\]", re.IGNORECASE)
PREFIX_RE = re.compile(r"^\s*(?:(re|fwd?|fw|aw|wg|tr|sv|vs|rv|enc)\s*(?:\[\d+\])?\s*:\s*)", re.IGNORECASE)
FORWARD_PREFIXES = {"fwd", "fw", "wg", "tr", "enc", "rv"}
FORWARD_MARKER = re.compile(
    r"^\s*-{2,}\s*(?:forwarded message|forwarded message follows|begin forwarded message|weitergeleitete nachricht|"
    r"message transf[ée]r[ée]|mensaje reenviado)\s*-*\s*:?\s*$",
    re.IGNORECASE,
)
BEGIN_FORWARDED = re.compile(r"^\s*begin forwarded message\s*:\s*$", re.IGNORECASE)
ORIGINAL_MARKER = re.compile(r"^\s*-{2,}\s*original message\s*-{2,}\s*$", re.IGNORECASE)
ON_WROTE = re.compile(r"^\s*(?:on|le|am|el)\b.*\b(?:wrote|a écrit|schrieb|escribió)\s*:\s*$", re.IGNORECASE)
HEADER_LINE = re.compile(r"^\s*\*?(from|sent|date|to|cc|bcc|subject|reply-to)\s*:\*?\s*(.*)$", re.IGNORECASE)


@dataclass
class Part:
    filename: str
    content: bytes
    content_type: str


@dataclass
class Parsed:
    message_id: str
    subject: str
    title: str
    confidentiality: str  # from a subject keyword, or ""
    from_name: str
    from_address: str
    recipients: list[str]
    sent_at: dt.datetime | None
    body: str
    is_forward: bool
    forwarded_from: list[str] = field(default_factory=list)
    attachments: list[Part] = field(default_factory=list)
    calendars: list[bytes] = field(default_factory=list)

    @property
    def participants(self) -> list[str]:
        """Every address of the message: sender, recipients and, in a forward, the original senders."""
        seen, out = set(), []
        for address in [self.from_address, *self.recipients, *self.forwarded_from]:
            if address and address not in seen:
                seen.add(address)
                out.append(address)
        return out


def message_id_of(msg, raw: bytes) -> str:
    value = str(msg.get("Message-ID", "") or "").strip()
    if value:
        return value[:998]
    # No Message-ID (rare, but some scripts send without one): the content's digest stands for it.
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@mailcapture.invalid>"


def clean_subject(subject: str) -> tuple[str, str, bool]:
    """(title, keyword's confidentiality or "", is a forward): prefixes and the keyword removed."""
    subject = " ".join((subject or "").split())
    found = KEYWORD_RE.findall(subject)
    confidentiality = found[-1].lower() if found else ""
    title = KEYWORD_RE.sub(" ", subject)
    forward = False
    while True:
        match = PREFIX_RE.match(title)
        if not match:
            break
        forward = forward or match.group(1).lower() in FORWARD_PREFIXES
        title = title[match.end():]
    title = " ".join(title.split()) or "(no subject)"
    return title[:TITLE_MAX], confidentiality, forward


def _addresses(values) -> list[str]:
    out = []
    for _, address in getaddresses([str(v) for v in values if v]):
        address = address.strip().lower()
        if "@" in address and address not in out:
            out.append(address)
    return out


def _date(msg) -> dt.datetime | None:
    try:
        value = parsedate_to_datetime(str(msg.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class _Text(HTMLParser):
    """HTML to plain text, for a message without a text part; quoted blocks (<blockquote>) left out."""

    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "table"}
    SKIP = {"style", "script", "head", "blockquote", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BREAKS:
            self.out.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BREAKS:
            self.out.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.out.append(data)


def html_to_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return html.unescape("".join(parser.out))


def _text_of(part) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return html_to_text(content) if part.get_content_type() == "text/html" else content


def _skip_header_block(lines: list[str], i: int, forwarded_from: list[str]) -> int:
    """From line `i`, skip the header lines of a forwarded or quoted letter (and blank lines among them);
    collect the From addresses. Returns the index of the first line after the block."""
    n, seen = len(lines), False
    while i < n:
        match = HEADER_LINE.match(lines[i])
        if match:
            seen = True
            if match.group(1).lower() == "from":
                forwarded_from.extend(_addresses([match.group(2)]))
            i += 1
        elif not lines[i].strip() and not seen:
            i += 1
        else:
            break
    return i


def _outlook_block_at(lines: list[str], i: int) -> bool:
    """An Outlook header block: a From: line followed within two lines by Sent: or Date:."""
    first = HEADER_LINE.match(lines[i])
    if not first or first.group(1).lower() != "from":
        return False
    for line in lines[i + 1 : i + 3]:
        match = HEADER_LINE.match(line)
        if match and match.group(1).lower() in ("sent", "date"):
            return True
    return False


def trim_body(text: str, *, forward: bool) -> tuple[str, list[str]]:
    """The body without quoted history (and, in a forward, without the forwarding noise); the forwarded
    letters' From addresses."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    forwarded_from: list[str] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if FORWARD_MARKER.match(line) or BEGIN_FORWARDED.match(line):
            i = _skip_header_block(lines, i + 1, forwarded_from)
            forward = False  # what follows is the forwarded letter: its own quotes are history
            continue
        if ORIGINAL_MARKER.match(line) or _outlook_block_at(lines, i):
            if forward:
                start = i + 1 if ORIGINAL_MARKER.match(line) else i
                i = _skip_header_block(lines, start, forwarded_from)
                forward = False
                continue
            break
        if ON_WROTE.match(line) or (
            line.strip().lower().startswith(("on ", "le ", "am ", "el ")) and i + 1 < n and ON_WROTE.match(line + " " + lines[i + 1])
        ):
            break
        if line.lstrip().startswith(">"):
            i += 1
            continue
        out.append(line.rstrip())
        i += 1
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()
    return body, forwarded_from


def _is_calendar(part, filename: str) -> bool:
    return part.get_content_type() == "text/calendar" or filename.lower().endswith(".ics")


def _collect(msg: EmailMessage, body_part, parsed: Parsed, forwarded_texts: list[str]) -> None:
    """Walk the parts: files, invitations, and messages forwarded as attachments (their text and sender)."""
    for part in msg.iter_parts() if msg.is_multipart() else []:
        ctype = part.get_content_type()
        if part is body_part:
            continue
        if ctype == "message/rfc822":
            inner = part.get_payload(0) if isinstance(part.get_payload(), list) else part.get_payload()
            parsed.forwarded_from.extend(_addresses(inner.get_all("From", [])))
            inner_body = inner.get_body(preferencelist=("plain", "html"))
            if inner_body is not None:
                forwarded_texts.append(trim_body(_text_of(inner_body), forward=False)[0])
            _collect(inner, inner_body, parsed, forwarded_texts)
            continue
        if part.is_multipart():
            _collect(part, body_part, parsed, forwarded_texts)
            continue
        filename = part.get_filename() or ""
        content = part.get_payload(decode=True) or b""
        if _is_calendar(part, filename):
            if content and content not in parsed.calendars:
                parsed.calendars.append(content)
            continue
        if part.get_content_disposition() == "attachment" or filename:
            parsed.attachments.append(Part(filename or "attachment", content, ctype))


def parse(raw: bytes) -> Parsed:
    """The message's parts; a message the email package cannot read is kept as its text, by its digest
    (it then waits in triage: no sender is known), so one broken message never stops a poll."""
    try:
        return _parse(raw)
    except Exception:  # malformed headers raise from deep inside the email package, in many types
        return Parsed(
            message_id=f"<sha256-{hashlib.sha256(raw).hexdigest()}@mailcapture.invalid>", subject="",
            title="(unreadable message)", confidentiality="", from_name="", from_address="", recipients=[],
            sent_at=None, body=raw.decode("utf-8", "replace")[:50_000], is_forward=False,
        )


def _parse(raw: bytes) -> Parsed:
    msg = message_from_bytes(raw, policy=policy.default)
    subject = str(msg.get("Subject", "") or "")
    title, confidentiality, forward = clean_subject(subject)
    from_pairs = getaddresses([str(v) for v in msg.get_all("From", [])])
    from_name, from_address = from_pairs[0] if from_pairs else ("", "")
    body_part = msg.get_body(preferencelist=("plain", "html"))
    text = _text_of(body_part) if body_part is not None else ""
    body, forwarded_from = trim_body(text, forward=forward)
    parsed = Parsed(
        message_id=message_id_of(msg, raw),
        subject=" ".join(subject.split())[:998],
        title=title,
        confidentiality=confidentiality,
        from_name=from_name.strip()[:300],
        from_address=from_address.strip().lower()[:320],
        recipients=_addresses([*msg.get_all("To", []), *msg.get_all("Cc", [])]),
        sent_at=_date(msg),
        body=body,
        is_forward=forward or bool(forwarded_from),
        forwarded_from=forwarded_from,
    )
    forwarded_texts: list[str] = []
    _collect(msg, body_part, parsed, forwarded_texts)
    if forwarded_texts:
        parsed.is_forward = True
        parsed.body = "\n\n".join(t for t in [parsed.body, *forwarded_texts] if t)
    return parsed
