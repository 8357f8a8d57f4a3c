"""Real documents with words in them, for the text-search tests: PDF (weasyprint, as the briefing book),
DOCX (the minimal WordprocessingML package Word opens), XLSX (openpyxl), and zip bombs."""

import html
import io
import struct
import zipfile

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def pdf(*paragraphs: str, title: str = "Memorandum of Understanding") -> bytes:
    from weasyprint import HTML

    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return HTML(string=f"<html><body><h1>{html.escape(title)}</h1>{body}</body></html>").write_pdf()


def document_xml(*paragraphs: str) -> str:
    runs = "".join(f'<w:p><w:r><w:t xml:space="preserve">{html.escape(p)}</w:t></w:r></w:p>' for p in paragraphs)
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}"><w:body>{runs}</w:body></w:document>'


def _package(archive: zipfile.ZipFile) -> None:
    archive.writestr("[Content_Types].xml", CONTENT_TYPES)
    archive.writestr("_rels/.rels", RELS)


def docx(*paragraphs: str, document: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        _package(archive)
        archive.writestr("word/document.xml", document if document is not None else document_xml(*paragraphs))
    return out.getvalue()


def docx_bomb(inflated_mb: int) -> bytes:
    """A DOCX whose word/document.xml inflates to `inflated_mb` MB (one endless run of spaces in a w:t),
    written in 1 MB pieces so the test itself never holds it in memory; about 1 KB per MB compressed."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        _package(archive)
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0"?><w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>'.encode())
            piece = b" " * (1024 * 1024)
            for _ in range(inflated_mb):
                part.write(piece)
            part.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return out.getvalue()


def understate(data: bytes, member: str, stated: int) -> bytes:
    """`data` (a zip) whose central directory claims `member` inflates to only `stated` bytes: a lying bomb."""
    archive = bytearray(data)
    name = member.encode()
    position = 0
    while True:
        at = archive.find(b"PK\x01\x02", position)
        assert at >= 0, "member not in the central directory"
        name_length = struct.unpack_from("<H", archive, at + 28)[0]
        if archive[at + 46 : at + 46 + name_length] == name:
            size = struct.unpack_from("<I", archive, at + 24)[0]
            if size == 0xFFFFFFFF:
                raise ValueError("a zip64 member: build a smaller bomb")
            struct.pack_into("<I", archive, at + 24, stated)
            return bytes(archive)
        position = at + 4


def xlsx(rows: list[list], *, sheet: str = "Programme") -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = sheet
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
