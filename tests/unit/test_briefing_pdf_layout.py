"""The PDF briefing as a reader gets it: labels beside their values at any length, CJK glyphs drawn with an
embedded CJK font, a tagged PDF (PDF/UA-1), a diplomatic mission's place told right, and a past meeting's
briefing that keeps earlier and later engagements apart.

The PDF is read back with poppler (pdftotext -layout, pdffonts, pdfinfo), the tools CI installs.
"""

import datetime as dt
import io
import re
import shutil
import subprocess

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone
from pypdf import PdfReader

from dashboard.briefing.pdf import render_pdf
from engagements.models import Engagement
from tests.factories import EngagementFactory, PartnerFactory, TopicFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"),
]


def _poppler(tool: str, pdf: bytes, tmp_path, *args: str) -> str:
    path = tmp_path / f"briefing-{tool}.pdf"
    path.write_bytes(pdf)
    out = [str(tmp_path / f"{tool}.txt")] if tool == "pdftotext" else []
    result = subprocess.run([tool, *args, str(path), *out], capture_output=True, text=True, timeout=60, check=True)
    return (tmp_path / f"{tool}.txt").read_text() if tool == "pdftotext" else result.stdout


def _layout_lines(pdf: bytes, tmp_path) -> list[str]:
    return [re.sub(r"\s+", " ", line).strip() for line in _poppler("pdftotext", pdf, tmp_path, "-layout").splitlines()]


def _line_with(lines: list[str], label: str) -> str:
    found = [line for line in lines if line.startswith(label)]
    assert found, f"no line starts with {label!r}:\n" + "\n".join(lines[:60])
    return found[0]


def _pdf(client, url: str) -> bytes:
    response = client.get(url, {"format": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return response.content


def test_the_stylesheet_floats_no_label():
    css = open(finders.find("css/briefing.css")).read()
    assert not re.search(r"float\s*:", css), "floated <dt>s put values beside the wrong label once a label wraps"


def test_each_label_stays_beside_its_value_with_long_values(client, officer, django_user_model, tmp_path):
    owner = django_user_model.objects.create_user(
        "long_owner", first_name="Maximiliana Theodora Konstantinopoulou-Vanderbilt", last_name="de la Santísima Trinidad"
    )
    partner = PartnerFactory(name="Ministry of Land, Infrastructure, Transport and Tourism", owner=owner, country="JP")
    partner.topics.set([
        TopicFactory(name=f"Long policy topic number {i} on resilient infrastructure", slug=f"long-{i}") for i in range(6)
    ])
    EngagementFactory(title="Talks on ports", partners=[partner], starts_at=timezone.now() - dt.timedelta(days=30))
    client.force_login(officer)
    lines = _layout_lines(_pdf(client, f"/partners/{partner.pk}/briefing/"), tmp_path)

    assert _line_with(lines, "Kind").startswith("Kind City or region")
    assert _line_with(lines, "Where").startswith("Where Tokyo, Japan")
    assert _line_with(lines, "Relationship").startswith("Relationship owner Maximiliana") or (
        _line_with(lines, "Relationship").startswith("Relationship Maximiliana")
    )
    assert _line_with(lines, "Topics").startswith("Topics Long policy topic number 0")
    last_contact = _line_with(lines, "Last contact")
    assert re.match(r"Last contact [A-Z][a-z]{2} \d{1,2}, \d{4}$", last_contact), last_contact
    assert _line_with(lines, "Last met the").startswith("Last met the no meeting with the Mayor") or _line_with(
        lines, "Last met the"
    ).startswith("Last met the Mayor no meeting")
    assert not any(line.startswith("Topics") and re.search(r"\d{4}", line) for line in lines)


def test_a_label_that_wraps_keeps_its_value_on_its_first_line(tmp_path):
    """The stylesheet itself: labels long enough to wrap over three lines, each value still on its label's row."""
    labels = [
        ("Relationship owner of this partner on our side, in the Office of International Affairs", "VALUE-ONE"),
        ("Topics", "VALUE-TWO"),
        ("A second label long enough to wrap over more than one line in the label column", "VALUE-THREE"),
        ("Last contact", "VALUE-FOUR"),
    ]
    facts = "".join(f'<div class="briefing-fact"><dt>{label}</dt><dd>{value}</dd></div>' for label, value in labels)
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Layout</title>'
        '<link rel="stylesheet" href="/static/css/briefing.css"></head>'
        f'<body class="briefing briefing--pdf"><main class="briefing-main"><dl class="briefing-facts">{facts}</dl></main></body></html>'
    )
    lines = _layout_lines(render_pdf(html, "http://testserver/"), tmp_path)
    for label, value in labels:
        first_word = label.split()[0]
        row = [line for line in lines if line.startswith(first_word) and value in line]
        assert row, f"{value} is not on the first line of {label!r}:\n" + "\n".join(lines[:30])
    # The wrapped labels really did wrap (their last words sit on lines of their own, without a value).
    assert any("Affairs" in line and "VALUE" not in line for line in lines), "\n".join(lines[:30])
    assert any("column" in line and "VALUE" not in line for line in lines), "\n".join(lines[:30])


@pytest.mark.parametrize(
    "name, country, city",
    [("東京都庁 国際部", "JP", "東京"), ("上海市人民政府外事办公室", "CN", "上海"), ("서울특별시 국제협력과", "KR", "서울")],
)
def test_a_partner_named_in_cjk_prints_its_glyphs(client, officer, tmp_path, name, country, city):
    partner = PartnerFactory(name=name, country=country, city=city, description=f"{name}との協力 — 合作")
    client.force_login(officer)
    pdf = _pdf(client, f"/partners/{partner.pk}/briefing/")
    fonts = _poppler("pdffonts", pdf, tmp_path)
    assert re.search(r"Noto\S*CJK", fonts), fonts
    # Digits and Latin text stay in the text font: the emoji font (which has digits too) is only a fallback.
    assert "DejaVu-Sans" in fonts and "Color-Emoji" not in fonts, fonts
    text = _poppler("pdftotext", pdf, tmp_path)
    assert name in text and city in text


def test_emoji_and_other_scripts_get_a_font_of_their_own(client, officer, tmp_path):
    partner = PartnerFactory(name="Partners 🤝 مدينة दिल्ली กรุงเทพ")
    client.force_login(officer)
    fonts = _poppler("pdffonts", _pdf(client, f"/partners/{partner.pk}/briefing/"), tmp_path)
    for family in ("Noto-Color-Emoji", "Noto-Sans-Devanagari", "Noto-Sans-Thai"):
        assert family in fonts, fonts


def test_the_pdf_is_tagged_for_screen_readers(client, officer, tmp_path):
    partner = PartnerFactory(name="Consulate General of Italy")
    client.force_login(officer)
    pdf = _pdf(client, f"/partners/{partner.pk}/briefing/")
    info = _poppler("pdfinfo", pdf, tmp_path)
    assert re.search(r"^Tagged:\s+yes$", info, re.M), info
    assert re.search(r"^Title:\s+Briefing: Consulate General of Italy", info, re.M), info
    root = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root
    assert root["/Lang"] == "en"


def test_a_consulate_is_told_as_the_country_it_represents_and_the_city_it_sits_in(client, officer, tmp_path):
    consulate = PartnerFactory(
        name="Consulate General of Japan in Los Angeles", kind="diplomatic_mission", country="JP", city="Los Angeles"
    )
    planned = EngagementFactory(
        title="Courtesy call by the Consul General", partners=[consulate], status="planned",
        starts_at=timezone.now() + dt.timedelta(days=4),
    )
    client.force_login(officer)
    page = client.get(f"/partners/{consulate.pk}/briefing/").content.decode()
    assert "Los Angeles, Japan" not in page
    assert "<dt>Represents</dt><dd>Japan</dd>" in page and "<dt>Located in</dt><dd>Los Angeles</dd>" in page
    lines = _layout_lines(_pdf(client, f"/partners/{consulate.pk}/briefing/"), tmp_path)
    assert "Represents Japan" in lines and "Located in Los Angeles" in lines
    assert not any("Los Angeles, Japan" in line for line in lines)

    page = client.get(f"/engagements/{planned.pk}/briefing/").content.decode()
    assert "Diplomatic mission of Japan in Los Angeles" in page
    assert "Los Angeles · Japan" not in page


def test_a_past_meetings_briefing_lists_only_earlier_engagements_as_earlier(client, officer, tmp_path):
    partner = PartnerFactory(name="City of Milan")
    now = timezone.now()
    EngagementFactory(title="First visit (before)", partners=[partner], starts_at=now - dt.timedelta(days=300))
    past = EngagementFactory(title="The briefed meeting", partners=[partner], starts_at=now - dt.timedelta(days=200))
    EngagementFactory(title="Follow-up call (after)", partners=[partner], starts_at=now - dt.timedelta(days=100))
    EngagementFactory(
        title="Planned return visit", partners=[partner], status=Engagement.Status.PLANNED,
        starts_at=now + dt.timedelta(days=10),
    )
    client.force_login(officer)
    page = client.get(f"/engagements/{past.pk}/briefing/").content.decode()
    earlier = page.split("Earlier engagements with these partners", 1)[1].split("</section>", 1)[0]
    assert "First visit (before)" in earlier
    assert "Follow-up call (after)" not in earlier and "Planned return visit" not in earlier
    since = page.split("Since this engagement", 1)[1].split("</section>", 1)[0]
    assert "Follow-up call (after)" in since and "First visit (before)" not in since

    text = " ".join(_poppler("pdftotext", _pdf(client, f"/engagements/{past.pk}/briefing/"), tmp_path).split())
    earlier_pdf = text.split("Earlier engagements with these partners", 1)[1].split("Since this engagement", 1)[0]
    assert "First visit (before)" in earlier_pdf and "Follow-up call (after)" not in earlier_pdf
    assert "Follow-up call (after)" in text.split("Since this engagement", 1)[1]


def test_an_upcoming_meetings_briefing_has_no_since_section(client, officer):
    partner = PartnerFactory(name="City of Turin")
    EngagementFactory(title="Held before", partners=[partner], starts_at=timezone.now() - dt.timedelta(days=3))
    upcoming = EngagementFactory(
        title="Next week", partners=[partner], status="planned", starts_at=timezone.now() + dt.timedelta(days=7)
    )
    client.force_login(officer)
    page = client.get(f"/engagements/{upcoming.pk}/briefing/").content.decode()
    assert "Since this engagement" not in page
    assert "Held before" in page.split("Earlier engagements with these partners", 1)[1]
