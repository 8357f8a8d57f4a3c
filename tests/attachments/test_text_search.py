"""Search inside documents (issue 20): the text of PDF, DOCX, XLSX and plain-text attachments is read (bounded
in time and size), joins the one search box with the same accent folding, ranking, escaped snippets and the
same confidentiality, and a file that cannot be read says why without breaking its upload.

The text is read here by the same service the Celery task calls (textindex.extract_attachment);
tests/integration/test_attachment_text_worker.py runs it in a real worker. Both databases.
"""

import datetime as dt
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from attachments import textindex
from attachments.models import Attachment
from dashboard.search import selectors as search
from engagements.models import Engagement
from tests.factories import AgreementFactory, CommitmentFactory, EngagementFactory, GiftFactory, PartnerFactory, TradeMissionFactory

from . import documents
from .files import png
from .helpers import attach

pytestmark = pytest.mark.django_db
URL = "/search/"
DONE, FAILED, PENDING = Attachment.TextStatus.DONE, Attachment.TextStatus.FAILED, Attachment.TextStatus.PENDING


def hits(user, q, key="document"):
    return search.search(user, q, type_key=key).group.hits


def hit_ids(user, q):
    return [hit.obj.pk for hit in hits(user, q)]


@pytest.fixture
def meeting(db):
    return EngagementFactory(title="Harbour talks", confidentiality=Engagement.Confidentiality.INTERNAL)


# --- Each type's words are found -------------------------------------------------------------------


def test_a_pdfs_words_are_found_with_a_snippet_and_a_link_to_its_record(officer, client_for, meeting):
    data = documents.pdf("The Quillfeather delegation signs the port twinning memorandum.", "Annex: tariffs.")
    mou = attach(meeting, "MOU 2026.pdf", data, actor=officer)
    assert (mou.text_status, mou.text_note) == (DONE, "")
    assert "Quillfeather delegation signs" in mou.text and "Memorandum of Understanding" in mou.text
    (hit,) = hits(officer, "quillfeather")
    assert hit.obj.pk == mou.pk and "<mark>Quillfeather</mark>" in hit.snippet_html
    assert hit.url == meeting.get_absolute_url()
    assert hit.meta.startswith("PDF · ") and "Engagement: Harbour talks" in hit.meta
    body = client_for("officer").get(URL, {"q": "quillfeather"}).content.decode()
    assert '<h2 id="search-document">Documents</h2>' in body
    assert f'href="{meeting.get_absolute_url()}">MOU 2026.pdf</a>' in body
    assert f'href="{reverse("attachments:download", args=[mou.pk])}"' in body
    assert "<mark>Quillfeather</mark> delegation" in body


def test_docx_xlsx_and_plain_text_words_are_found(officer, meeting):
    word = attach(meeting, "programme.docx", documents.docx("Day one: Vexillology museum.", "Day two: harbour."), actor=officer)
    sheet = attach(
        meeting, "budget.xlsx", documents.xlsx([["Item", "Cost"], ["Zeppelinhangar rental", 1200]]), actor=officer
    )
    notes = attach(meeting, "notes.txt", "Talking points: Oystercatcher reserve.\n".encode(), actor=officer)
    latin = attach(meeting, "latin1.txt", "Café crème at the Bürgermeister's Ratskeller.".encode("cp1252"), actor=officer)
    assert {a.text_status for a in (word, sheet, notes, latin)} == {DONE}
    assert "Day one: Vexillology museum.\nDay two: harbour." in word.text
    assert "Programme" in sheet.text and "Zeppelinhangar rental 1200" in sheet.text
    assert "Bürgermeister" in latin.text  # not UTF-8: read by its guessed encoding
    assert hit_ids(officer, "vexillology") == [word.pk]
    assert hit_ids(officer, "zeppelinhangar") == [sheet.pk]
    assert hit_ids(officer, "oystercatcher") == [notes.pk]
    assert hit_ids(officer, "ratskeller") == [latin.pk]


def test_accents_are_folded_inside_documents_both_ways(officer, meeting):
    sao = attach(meeting, "visit.pdf", documents.pdf("Reception at the Prefeitura de São Paulo."), actor=officer)
    zurich = attach(meeting, "zurich.txt", b"Tram study for Zurich.", actor=officer)
    assert hit_ids(officer, "Sao Paulo") == [sao.pk]
    assert "<mark>São</mark>" in hits(officer, "sao paulo")[0].snippet_html
    assert hit_ids(officer, "Zürich") == [zurich.pk]


def test_a_name_hit_outranks_a_text_hit_and_the_name_is_marked(officer, meeting):
    in_text = attach(meeting, "letter.txt", b"We enclose the Kelpfarm study as promised.", actor=officer)
    in_name = attach(meeting, "kelpfarm_study-final.txt", b"Contents to follow.", actor=officer)
    found = hits(officer, "kelpfarm")
    assert [h.obj.pk for h in found] == [in_name.pk, in_text.pk]
    assert found[0].title_html == "<mark>kelpfarm</mark>_study-final.txt"


def test_snippets_escape_the_documents_text(officer, client_for, meeting):
    # (A file libmagic takes for HTML is refused at upload; markup inside plain text is still just text.)
    attach(meeting, "page.txt", b'Minutes of the Quokka council: a <b>bold</b> claim & <img src=x onerror=alert(1)>.',
           actor=officer)
    body = client_for("officer").get(URL, {"q": "quokka"}).content.decode()
    assert "<mark>Quokka</mark>" in body
    assert "<b>bold</b>" not in body and "<img src=x" not in body
    assert "&lt;img src=x" in body or "&lt;b&gt;" in body  # ts_headline drops some tags; what is left is escaped


# --- The same confidentiality ----------------------------------------------------------------------

MARKER = "ZQXDOCLEAK7781"


@pytest.mark.parametrize("who, sees", [("viewer", False), ("other_staff", False), ("staff_user", True),
                                       ("officer", True), ("superuser", True)])
def test_a_restricted_engagements_pdf_is_found_only_by_those_who_see_the_engagement(
    request, client, officer, staff_user, who, sees
):
    secret = EngagementFactory(
        title="Closed-door talks", confidentiality=Engagement.Confidentiality.RESTRICTED, staff=[staff_user]
    )
    commitment = CommitmentFactory(description="Follow up", engagement=secret)
    attach(secret, f"Narwhal {MARKER}.pdf", documents.pdf(f"Narwhal basin concession {MARKER}."), actor=officer)
    attach(commitment, "narwhal-followup.txt", f"Narwhal follow-up {MARKER}".encode(), actor=officer)
    attach(GiftFactory(engagement=secret), "narwhal-gift.txt", f"Narwhal tusk replica {MARKER}".encode(), actor=officer)
    user = request.getfixturevalue(who)
    assert len(hit_ids(user, "narwhal")) == (3 if sees else 0)
    client.force_login(user)
    for params in ({"q": "narwhal"}, {"q": "narwhal", "type": "document"}, {"q": "concession basin"}):
        body = client.get(URL, params).content.decode()
        assert (MARKER in body) is sees, params
        assert ('id="search-document"' in body) is sees, params
        assert ("Closed-door talks" in body) is sees, params
        assert ("Nothing matches" in body) is not sees, params
    # Searching for the marker itself (echoed back in the box): no result, nothing but the echo.
    body = client.get(URL, {"q": MARKER, "type": "document"}).content.decode()
    assert ("search-result--document" in body) is sees and ("Nothing matches" in body) is not sees


def test_documents_of_every_kind_of_record_link_to_that_record(officer):
    records = {
        "engagement": EngagementFactory(title="Tern meeting"),
        "mission": TradeMissionFactory(name="Tern mission"),
        "commitment": CommitmentFactory(description="Tern promise"),
        "gift": GiftFactory(),
        "partner": PartnerFactory(name="Tern council"),
        "agreement": AgreementFactory(title="Tern MOU"),
    }
    made = {kind: attach(record, f"{kind}.txt", b"Ternwatch report", actor=officer) for kind, record in records.items()}
    found = {hit.obj.pk: hit for hit in hits(officer, "ternwatch")}
    assert set(found) == {a.pk for a in made.values()}
    assert found[made["gift"].pk].url == reverse("gifts:edit", args=[records["gift"].pk])
    for kind in ("engagement", "mission", "commitment", "partner", "agreement"):
        assert found[made[kind].pk].url == records[kind].get_absolute_url()


def _seed_documents(n, officer):
    for i in range(n):
        record = [EngagementFactory, TradeMissionFactory, CommitmentFactory, AgreementFactory][i % 4]()
        attach(record, f"budgetary-{i}.txt", b"Budgetary annex", actor=officer)


@pytest.mark.parametrize("size", [2, 12])
def test_one_query_for_documents_whatever_their_number(client, staff_user, officer, django_assert_num_queries, size):
    _seed_documents(size, officer)
    client.force_login(staff_user)
    with django_assert_num_queries(5):  # session, user, role, the documents, own permissions
        response = client.get(URL, {"q": "budgetary", "type": "document"})
    assert response.content.decode().count('class="search-result search-result--document"') == min(size, search.PAGE_SIZE)


# --- Bounded, and never breaking the upload --------------------------------------------------------


def test_text_beyond_the_limit_is_cut_and_says_so(settings, officer, meeting):
    settings.ATTACHMENT_TEXT_MAX_CHARS = 40
    long = attach(meeting, "long.txt", ("Early words here. " + "filler " * 50 + "Latecomer.").encode(), actor=officer)
    assert long.text_status == DONE and len(long.text) <= 40
    assert long.text_note == f"Only the first {len(long.text)} characters of the text are searchable."
    assert hit_ids(officer, "early") == [long.pk] and hit_ids(officer, "latecomer") == []


def test_a_pdf_with_more_text_than_kept_stops_pdftotext_and_is_cut(settings, officer, meeting):
    settings.ATTACHMENT_TEXT_MAX_CHARS = 50  # pdftotext may write 4 × 50 + 4,096 bytes; this PDF holds ~12,000
    data = documents.pdf("Cassowary opening words.", *[f"Paragraph {i} of the long annex, " * 12 for i in range(30)])
    long = attach(meeting, "annex.pdf", data, actor=officer)
    assert long.text_status == DONE and len(long.text) <= 50 and "Only the first" in long.text_note
    assert hit_ids(officer, "cassowary") == [long.pk]


def test_a_workbook_beyond_the_cell_limit_is_cut(settings, officer, meeting):
    settings.ATTACHMENT_EXTRACT_MAX_CELLS = 10
    book = attach(meeting, "big.xlsx", documents.xlsx([[f"Firstrow{i}" for i in range(5)]] + [["x"] * 5] * 20
                                                      + [["Lastrow"]]), actor=officer)
    assert book.text_status == DONE and "Only the first" in book.text_note
    assert "Firstrow4" in book.text and "Lastrow" not in book.text


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_a_timed_out_read_fails_with_a_clear_status_and_the_file_stays(settings, officer, client_for, meeting, kind):
    data = documents.pdf("Slowpoke text.") if kind == "pdf" else documents.docx("Slowpoke text.")
    settings.ATTACHMENT_EXTRACT_TIMEOUT_SECONDS = 0
    slow = attach(meeting, f"slow.{kind}", data, actor=officer)
    assert slow.text_status == FAILED and slow.text == ""
    assert slow.text_note.startswith("Reading the") and "took longer than 0 s" in slow.text_note
    # The upload stands: listed (saying why its words are not searchable), downloadable, found by its name.
    panel = client_for("officer").get(reverse("attachments:panel", args=["engagement", meeting.pk])).content.decode()
    assert f"slow.{kind}</a>" in panel and f"Not searchable: {slow.text_note}" in panel.replace("&#x27;", "'")
    response = client_for("officer").get(reverse("attachments:download", args=[slow.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == data
    assert hit_ids(officer, "slow") == [slow.pk] and hit_ids(officer, "slowpoke") == []


def test_a_zip_bomb_docx_is_refused_before_it_is_inflated(officer, meeting):
    data = documents.docx_bomb(1024)  # 1 GB of text in a 1 MB file
    assert len(data) < 2 * 1024 * 1024
    started = time.monotonic()
    bomb = attach(meeting, "bomb.docx", data, actor=officer)
    assert time.monotonic() - started < 10
    assert bomb.text_status == FAILED
    assert bomb.text_note == "The file expands to 1024.0 MB when unpacked; at most 100.0 MB is read, so it was not."


def test_a_bomb_that_lies_about_its_size_is_read_no_further_than_the_limit(settings, officer, meeting):
    settings.ATTACHMENT_EXTRACT_MAX_EXPANDED_BYTES = 1024 * 1024
    honest = attach(meeting, "honest.docx", documents.docx_bomb(20), actor=officer)
    assert honest.text_status == FAILED and "expands to 20.0 MB when unpacked" in honest.text_note
    lying = documents.understate(documents.docx_bomb(20), "word/document.xml", stated=1000)
    liar = attach(meeting, "liar.docx", lying, actor=officer)
    assert liar.text_status == FAILED and liar.text_note == "The Word file is damaged (a part of it does not unpack)."


def test_a_damaged_or_hostile_document_fails_with_a_reason(officer, meeting):
    dtd = '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaa">]><w:document xmlns:w="x">&a;</w:document>'
    laughs = attach(meeting, "laughs.docx", documents.docx(document=dtd), actor=officer)
    assert laughs.text_status == FAILED and "declares a DTD" in laughs.text_note
    broken = attach(meeting, "broken.docx", documents.docx(document="<w:document><w:p>"), actor=officer)
    assert broken.text_status == FAILED and "not valid XML" in broken.text_note


def test_types_whose_text_is_not_read_are_marked_unsupported_and_found_by_name(officer, meeting):
    photo = attach(meeting, "gift_photo_lantern.png", png(), actor=officer)
    assert photo.text_status == Attachment.TextStatus.UNSUPPORTED
    assert photo.text_note == "The text of PNG files is not read for search."
    assert hit_ids(officer, "lantern") == [photo.pk]


def test_a_file_missing_from_the_storage_fails_and_says_so(officer, meeting, attachment_storage):
    gone = attach(meeting, "gone.txt", b"Vanished words", actor=officer, extract=False)
    (attachment_storage / gone.blob).unlink()
    assert textindex.extract_attachment(gone.pk) == FAILED
    gone.refresh_from_db()
    assert gone.text_note == "The file is missing from the storage."


# --- Idempotent: replace, reruns, the sweep and the command -----------------------------------------


def test_a_replaced_files_old_words_leave_the_search_and_history_keeps_no_text(officer, meeting):
    from attachments import services
    from django.core.files.uploadedfile import SimpleUploadedFile

    old = attach(meeting, "draft.txt", b"Pelican draft wording", actor=officer)
    assert hit_ids(officer, "pelican") == [old.pk]
    services.replace_file(attachment=old, upload=SimpleUploadedFile("final.txt", b"Cormorant final wording"), actor=officer)
    old.refresh_from_db()
    assert (old.text_status, old.text) == (PENDING, "")  # before the worker runs, the old words are gone
    assert hit_ids(officer, "pelican") == []
    assert textindex.extract_attachment(old.pk) == DONE
    assert hit_ids(officer, "cormorant") == [old.pk] and hit_ids(officer, "pelican") == []
    assert "text" in Attachment.objects.get(pk=old.pk).get_deferred_fields()  # lists and pages never load it
    history_fields = {f.name for f in Attachment.history.model._meta.fields}
    assert "text" not in history_fields and "text_status" not in history_fields
    assert old.history.count() == 2  # the upload and the replace; reading the text is no change of the user's


def test_a_second_run_does_nothing_and_a_run_under_way_is_left_alone(officer, meeting):
    done = attach(meeting, "once.txt", b"Once only", actor=officer)
    assert textindex.extract_attachment(done.pk) is None
    assert Attachment.objects.get(pk=done.pk).text_attempts == 1
    busy = attach(meeting, "busy.txt", b"Busy words", actor=officer, extract=False)
    Attachment.objects.filter(pk=busy.pk).update(text_started_at=timezone.now(), text_attempts=1)
    assert textindex.extract_attachment(busy.pk) is None  # another worker started it a moment ago
    Attachment.objects.filter(pk=busy.pk).update(text_started_at=timezone.now() - textindex.lease() * 2)
    assert textindex.extract_attachment(busy.pk) == DONE  # that worker died: the lease ran out
    assert textindex.extract_attachment(10**9) is None  # deleted meanwhile


def test_a_file_that_stopped_its_worker_three_times_is_failed_not_retried_forever(officer, meeting):
    poison = attach(meeting, "poison.txt", b"Poison", actor=officer, extract=False)
    long_ago = timezone.now() - textindex.lease() * 2
    Attachment.objects.filter(pk=poison.pk).update(text_attempts=textindex.MAX_ATTEMPTS, text_started_at=long_ago)
    assert poison.pk in set(textindex.pending_for_sweep().values_list("pk", flat=True))
    assert textindex.extract_attachment(poison.pk) is None
    poison.refresh_from_db()
    assert poison.text_status == FAILED and poison.text_note.startswith("Reading the text stopped 3 times")
    assert poison.pk not in set(textindex.pending_for_sweep().values_list("pk", flat=True))


def test_the_sweep_takes_old_pending_files_not_fresh_uploads(officer, meeting):
    fresh = attach(meeting, "fresh.txt", b"Fresh", actor=officer, extract=False)
    old = attach(meeting, "old.txt", b"Old", actor=officer, extract=False)
    Attachment.objects.filter(pk=old.pk).update(uploaded_at=timezone.now() - dt.timedelta(days=300))
    pending = set(textindex.pending_for_sweep().values_list("pk", flat=True))
    assert old.pk in pending and fresh.pk not in pending
    assert fresh.pk in set(textindex.pending_for_sweep(now=timezone.now() + dt.timedelta(minutes=5)).values_list("pk", flat=True))


def test_the_command_reads_pending_files_and_again_failed_ones(settings, officer, meeting, capsys):
    before = attach(meeting, "before.txt", b"Albatross archive from before text search", actor=officer, extract=False)
    settings.ATTACHMENT_EXTRACT_MAX_EXPANDED_BYTES = 1024
    big = attach(meeting, "big.docx", documents.docx("Gannet " * 400), actor=officer)
    assert big.text_status == FAILED
    call_command("extract_attachment_text")
    assert capsys.readouterr().out.strip() == "Attachment text: done: 1."
    assert hit_ids(officer, "albatross") == [before.pk]
    settings.ATTACHMENT_EXTRACT_MAX_EXPANDED_BYTES = 1024 * 1024
    call_command("extract_attachment_text", "--failed")
    assert capsys.readouterr().out.strip() == "Attachment text: done: 1."
    assert hit_ids(officer, "gannet") == [big.pk]
    call_command("extract_attachment_text")
    assert capsys.readouterr().out.strip() == "Attachment text: nothing to read."


def test_a_text_too_big_for_the_search_index_is_halved_until_it_fits(settings, officer, meeting):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's tsvector limit (1 MB)")
    settings.ATTACHMENT_TEXT_MAX_CHARS = 3_000_000
    words = " ".join(f"w{i:x}q" for i in range(300_000))  # 300,000 distinct words: a vector of several MB
    huge = attach(meeting, "huge.txt", ("Firstword " + words).encode(), actor=officer)
    assert huge.text_status == DONE and len(huge.text) < len(words) // 2
    assert huge.text_note.endswith("characters of the text are searchable (the search index holds no more).")
    assert hit_ids(officer, "firstword") == [huge.pk]
