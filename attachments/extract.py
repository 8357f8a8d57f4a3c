"""The text of a file, for search: PDF, DOCX, XLSX and plain text, bounded in time, size and memory.

Each reader takes a local path (the caller copies the file out of the
storage) and adds to a `Collector`, which keeps at most `max_chars`
characters and raises `ExtractionTimeout` past the deadline. A hostile or
damaged file ends in `ExtractionFailed` with a sentence a user can read,
never in an unbounded read:

- PDF: `pdftotext` (Debian's poppler-utils) in a child process with a
  timeout, a cap on the size of the text file it writes (RLIMIT_FSIZE), on
  its memory (RLIMIT_AS) and on its CPU time.
- DOCX: word/document.xml (then the footnotes and endnotes) read from the
  zip as a stream, at most `max_expanded_bytes` inflated (a zip bomb stops
  there), parsed with expat with no DTD allowed (so no entity expansion).
- XLSX: the zip's stated expansion checked first, then openpyxl's sheet
  parser row by row (rows that are absent cost nothing), at most `max_cells`
  cells.
- Plain text and CSV: at most 4 × `max_chars` bytes read; UTF-8, a UTF-16
  byte-order mark, else charset-normalizer's guess, else Windows-1252.
"""

import os
import re
import resource
import shutil
import signal
# pdftotext is run with a fixed argument list and no shell.
import subprocess  # nosec B404
import tempfile
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from xml.parsers import expat

from django.conf import settings

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
TEXT_TYPES = ("text/plain", "text/csv")
DOCX_PARTS = ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml")
PDFTOTEXT_MEMORY_BYTES = 1024 * 1024 * 1024  # pdftotext's address space; a page of a normal PDF needs far less
CHUNK = 64 * 1024


class ExtractionFailed(Exception):
    """The file's text cannot be read; the message says why, for the attachment's list."""


class ExtractionTimeout(ExtractionFailed):
    pass


@dataclass(frozen=True)
class Limits:
    max_chars: int
    timeout: float
    max_expanded_bytes: int
    max_cells: int

    @classmethod
    def current(cls) -> "Limits":
        return cls(
            max_chars=settings.ATTACHMENT_TEXT_MAX_CHARS,
            timeout=settings.ATTACHMENT_EXTRACT_TIMEOUT_SECONDS,
            max_expanded_bytes=settings.ATTACHMENT_EXTRACT_MAX_EXPANDED_BYTES,
            max_cells=settings.ATTACHMENT_EXTRACT_MAX_CELLS,
        )


@dataclass(frozen=True)
class Extracted:
    text: str
    truncated: bool = False  # the file holds more than was kept


def size_text(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


class Collector:
    """Text pieces up to `max_chars`, and the deadline. `add` answers False once full."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False
        self.deadline = time.monotonic() + limits.timeout

    @property
    def full(self) -> bool:
        return self.size >= self.limits.max_chars

    def add(self, text: str) -> bool:
        if not text:
            return not self.full
        room = self.limits.max_chars - self.size
        if len(text) > room:
            text, self.truncated = text[: max(room, 0)], True
        self.parts.append(text)
        self.size += len(text)
        return not self.full

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise ExtractionTimeout(f"Reading the text took longer than {self.limits.timeout:g} s.")

    def result(self) -> Extracted:
        return Extracted(text=clean("".join(self.parts))[: self.limits.max_chars], truncated=self.truncated)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ue000-\uf8ff]")  # and private-use: the search's own sentinels
_SPACES = re.compile(r"[ \t\r\u00a0]+")
_BLANK_LINES = re.compile(r" ?\n[ \n]*\n ?")


def clean(text: str) -> str:
    """NFC, no control characters (PostgreSQL refuses NUL), runs of spaces and blank lines collapsed."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates out
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def extract(path: str, content_type: str, limits: Limits | None = None) -> Extracted:
    """The text of the file at `path`, of `content_type` (one of READERS), within `limits`."""
    limits = limits or Limits.current()
    out = Collector(limits)
    READERS[content_type](path, out)
    return out.result()


# --- PDF --------------------------------------------------------------------------------------


def _pdftotext_limits(max_bytes: int, cpu_seconds: int):
    def apply():  # runs in the child, between fork and exec
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
        resource.setrlimit(resource.RLIMIT_AS, (PDFTOTEXT_MEMORY_BYTES, PDFTOTEXT_MEMORY_BYTES))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))

    return apply


def _pdf(path: str, out: Collector) -> None:
    exe = shutil.which("pdftotext")
    if not exe:
        raise ExtractionFailed("pdftotext is not installed on the worker (Debian package poppler-utils).")
    limits = out.limits
    max_bytes = 4 * limits.max_chars + 4096  # UTF-8 takes at most 4 bytes a character
    with tempfile.TemporaryDirectory(prefix="crm-pdf-") as tmp:
        target = os.path.join(tmp, "text.txt")
        try:
            # Fixed arguments, no shell; the path is our own temporary copy.
            finished = subprocess.run(  # nosec B603
                [exe, "-q", "-enc", "UTF-8", "-nopgbrk", "-eol", "unix", path, target],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=limits.timeout, preexec_fn=_pdftotext_limits(max_bytes, int(limits.timeout) + 1),
                close_fds=True, check=False,
            )
        except subprocess.TimeoutExpired:
            raise ExtractionTimeout(f"Reading the PDF's text took longer than {limits.timeout:g} s.") from None
        written = os.path.getsize(target) if os.path.exists(target) else 0
        cut = finished.returncode == -signal.SIGXFSZ or (finished.returncode != 0 and written >= max_bytes)
        if finished.returncode == -signal.SIGXCPU or finished.returncode == -signal.SIGKILL:
            raise ExtractionTimeout(f"Reading the PDF's text took longer than {limits.timeout:g} s.")
        if finished.returncode != 0 and not cut:
            raise ExtractionFailed("The PDF's text cannot be read (the file is damaged, or protected by a password).")
        with open(target, "rb") as stream:
            data = stream.read(max_bytes)
    out.add(data.decode("utf-8", "replace"))
    out.truncated = out.truncated or cut


# --- DOCX -------------------------------------------------------------------------------------

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main "
BREAKS = {W + "br": "\n", W + "cr": "\n", W + "tab": "\t"}


class _Full(Exception):
    pass


def _refuse_dtd(*args):
    raise ExtractionFailed("The document declares a DTD, which Word files never do; it was not read.")


class _WordText:
    """expat handlers: the text of w:t runs, a line per paragraph."""

    def __init__(self, out: Collector):
        self.out = out
        self.in_text = False
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartDoctypeDeclHandler = _refuse_dtd
        self.parser.EntityDeclHandler = _refuse_dtd
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.data
        self.parser.buffer_text = True

    def _add(self, text: str) -> None:
        if not self.out.add(text):
            raise _Full

    def start(self, name, attrs):
        if name == W + "t":
            self.in_text = True
        elif name in BREAKS:
            self._add(BREAKS[name])

    def end(self, name):
        if name == W + "t":
            self.in_text = False
        elif name == W + "p":
            self._add("\n")

    def data(self, text):
        if self.in_text:
            self._add(text)

    def feed(self, stream, budget: int) -> int:
        """Parse `stream`, at most `budget` bytes of it; the bytes read."""
        read = 0
        try:
            while chunk := stream.read(CHUNK):
                read += len(chunk)
                if read > budget:
                    raise ExtractionFailed(_expands_message(self.out.limits.max_expanded_bytes))
                self.parser.Parse(chunk, False)
                self.out.check_time()
            self.parser.Parse(b"", True)
        except expat.ExpatError:
            raise ExtractionFailed("The document's text is not valid XML; it was not read.") from None
        return read


def _expands_message(limit: int, size: int | None = None) -> str:
    what = size_text(size) if size is not None else f"more than {size_text(limit)}"
    return f"The file expands to {what} when unpacked; at most {size_text(limit)} is read, so it was not."


def _docx(path: str, out: Collector) -> None:
    budget = out.limits.max_expanded_bytes
    with _open_zip(path, "Word") as archive:
        names = set(archive.namelist())
        if "word/document.xml" not in names:
            raise ExtractionFailed("This is not a Word document (it has no word/document.xml).")
        for part in DOCX_PARTS:
            if part not in names:
                continue
            info = archive.getinfo(part)
            if info.file_size > budget:  # the stated size; the reads below stop at the budget whatever it says
                raise ExtractionFailed(_expands_message(out.limits.max_expanded_bytes, info.file_size))
            try:
                with archive.open(info) as stream:
                    budget -= _WordText(out).feed(stream, budget)
            except _Full:
                out.truncated = True
                return
            except (zipfile.BadZipFile, EOFError, zlib.error):  # a part whose bytes are not what the zip says
                raise ExtractionFailed("The Word file is damaged (a part of it does not unpack).") from None
            out.add("\n")


def _open_zip(path: str, what: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise ExtractionFailed(f"The {what} file is damaged (it is not a valid zip archive).") from None


# --- XLSX -------------------------------------------------------------------------------------


def _xlsx(path: str, out: Collector) -> None:
    # Imported here: only workers reading spreadsheets need openpyxl loaded.
    from openpyxl import load_workbook

    with _open_zip(path, "Excel") as archive:
        expanded = sum(info.file_size for info in archive.infolist())
    if expanded > out.limits.max_expanded_bytes:
        raise ExtractionFailed(_expands_message(out.limits.max_expanded_bytes, expanded))
    # A file object: openpyxl refuses a path without an .xlsx extension (our temporary copy has none).
    with open(path, "rb") as handle:
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types on a damaged file; all mean "cannot read"
            raise ExtractionFailed(f"The workbook cannot be read ({type(exc).__name__}).") from None
        try:
            _sheets(workbook, out)
        except ExtractionFailed:
            raise
        except Exception as exc:
            raise ExtractionFailed(f"The workbook cannot be read ({type(exc).__name__}).") from None
        finally:
            workbook.close()


def _sheets(workbook, out: Collector) -> None:
    """Each sheet's name, then its rows (cells joined by tabs), up to `max_cells` cells in all."""
    from openpyxl.worksheet._reader import WorkSheetParser

    cells = 0
    for sheet in workbook.worksheets:
        out.add(f"{sheet.title}\n")
        with sheet._get_source() as source:
            # The sheet's own rows only, as the XML has them (openpyxl's iteration pads absent
            # rows and columns up to the declared dimension: one cell at XFD1048576 costs 10^10).
            parser = WorkSheetParser(
                source, sheet._shared_strings, data_only=True, epoch=workbook.epoch,
                date_formats=workbook._date_formats, timedelta_formats=workbook._timedelta_formats,
            )
            for _row, row_cells in parser.parse():
                cells += len(row_cells)
                if cells > out.limits.max_cells:
                    out.truncated = True
                    return
                values = [str(c["value"]) for c in row_cells if c.get("value") not in (None, "")]
                if values and not out.add("\t".join(values) + "\n"):
                    out.truncated = True
                    return
                out.check_time()
        out.add("\n")


# --- Plain text -------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else charset-normalizer's guess, else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8")  # our cut fell inside a character
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[: 256 * 1024]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, "replace")
    except (ImportError, LookupError):
        pass
    return data.decode("cp1252", "replace")


def _text(path: str, out: Collector) -> None:
    max_bytes = 4 * out.limits.max_chars
    with open(path, "rb") as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        data, out.truncated = data[:max_bytes], True
    out.add(decode_text(data))


READERS = {PDF: _pdf, DOCX: _docx, XLSX: _xlsx, **{t: _text for t in TEXT_TYPES}}
