"""Helpers shared by the import tests: files built in memory, the sample partner rows, row counts.

The fixtures (`topics`, `partners_csv`) are in tests/integration/conftest.py.
"""

import csv
import io
from pathlib import Path


from partners.models import Topic

DATA = Path(__file__).resolve().parent.parent / "data" / "imports"


def csv_bytes(rows: list[list], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def fixture_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


def snapshot() -> dict:
    """Row counts of every table an import or a merge may touch (history included)."""
    from engagements.models import Commitment, Engagement, Gift
    from partners.models import Agreement, Contact, Partner

    models = [Partner, Contact, Engagement, Commitment, Agreement, Gift, Topic]
    counts = {m.__name__: m.objects.count() for m in models}
    counts.update({f"history:{m.__name__}": m.history.count() for m in models})
    return counts


PARTNER_HEADER = ["name", "kind", "country", "city", "topics", "priority", "external_id"]
PARTNER_ROWS = [
    ["Ho Chi Minh City", "city", "Viet Nam", "Ho Chi Minh City", "trade", "1", ""],
    ["Seoul", "city", "Korea, Republic of", "Seoul", "trade; climate", "", ""],
    ["Embassy of Japan", "diplomatic_mission", "JP", "Washington", "", "2", "Q1"],
]
