"""The briefing as a PDF: WeasyPrint, reading the stylesheet and fonts from the static files on disk, never the network."""

import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders


class StaticFetcher:
    """WeasyPrint's url_fetcher: static files from disk (STATIC_ROOT, then the finders); anything else refused.

    Built lazily so importing this module does not import WeasyPrint.
    """

    def __new__(cls):
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        class _Fetcher(URLFetcher):
            def fetch(self, url, headers=None):
                path = static_path(url)
                if path is None:
                    raise ValueError(f"Only static files are fetched for a PDF, not {url[:80]}")
                mime, _ = mimetypes.guess_type(str(path))
                return URLFetcherResponse(
                    url=path.as_uri(), body=path.read_bytes(), headers={"Content-Type": mime or "application/octet-stream"}
                )

        return _Fetcher(allowed_protocols=("http", "https", "file"))


def static_path(url: str) -> Path | None:
    """The file on disk behind a static URL (hashed or not), or None."""
    path = unquote(urlsplit(url).path)
    prefix = urlsplit(settings.STATIC_URL).path
    if not path.startswith(prefix):
        return None
    name = path[len(prefix):]
    if ".." in Path(name).parts:
        return None
    candidates = [name]
    # ManifestStaticFilesStorage: "css/briefing.3f2a….css" → "css/briefing.css" for the finders.
    unhashed = re.sub(r"\.[0-9a-f]{12}(\.[^./]+)$", r"\1", name)
    if unhashed != name:
        candidates.append(unhashed)
    root = Path(settings.STATIC_ROOT) if settings.STATIC_ROOT else None
    for candidate in candidates:
        if root is not None:
            on_disk = (root / candidate).resolve()
            if on_disk.is_file() and root.resolve() in on_disk.parents:
                return on_disk
        found = finders.find(candidate)
        if found:
            return Path(found)
    return None


# PDF/UA-1: a tagged PDF (headings, lists, tables and the reading order marked up from the HTML, the document's
# language and title declared), which screen readers can follow. WeasyPrint >= 63 knows the variant.
PDF_VARIANT = "pdf/ua-1"


def render_pdf(html: str, base_url: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url, url_fetcher=StaticFetcher()).write_pdf(pdf_variant=PDF_VARIANT)
