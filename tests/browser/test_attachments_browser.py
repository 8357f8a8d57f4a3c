"""Attachments in real Chromium: drop files on a record's panel, or choose them with the plain file input
(with and without JavaScript); download one; axe finds no serious or critical violation."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from attachments.models import Attachment
from tests.factories import EngagementFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SERIOUS = {"serious", "critical"}


@pytest.fixture(autouse=True)
def _files_in_the_tests_directory(attachment_storage):
    return attachment_storage


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"] if v["impact"] in SERIOUS]


DROP = """([names, texts]) => {
  const form = document.querySelector("[data-attachments-drop]");
  const data = new DataTransfer();
  names.forEach((name, i) => data.items.add(new File([texts[i]], name, {type: "text/plain"})));
  for (const type of ["dragenter", "dragover", "drop"]) {
    form.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: data}));
  }
}"""


def test_files_dropped_on_the_panel_or_chosen_are_attached_and_downloaded(web, staff_user, tmp_path):
    meeting = EngagementFactory(title="Signing of the MOU", staff=[staff_user])
    page = web.page
    web.login("sam_staff", next_path=meeting.get_absolute_url())
    web.visit(meeting.get_absolute_url())
    panel = page.locator("#attachments")
    panel.get_by_text("No files yet.").wait_for()
    assert serious_violations(page) == []

    # Drag and drop: two files dropped on the form are sent at once.
    with page.expect_navigation():
        page.evaluate(DROP, [["agenda.txt", "minutes.txt"], ["Agenda: trade.\n", "Minutes: agreed.\n"]])
    page.wait_for_load_state("networkidle")
    panel.get_by_role("link", name="agenda.txt").wait_for()
    assert panel.get_by_role("link", name="minutes.txt").count() == 1
    assert "Sam Staff" in panel.inner_text()

    # The plain file input and the Upload button.
    signed = tmp_path / "signed MOU.pdf"
    signed.write_bytes(PDF)
    page.get_by_label("Add files").set_input_files([str(signed)])
    with page.expect_navigation():
        page.get_by_role("button", name="Upload").click()
    page.wait_for_load_state("networkidle")
    link = panel.get_by_role("link", name="signed MOU.pdf")
    link.wait_for()
    assert sorted(Attachment.objects.values_list("filename", flat=True)) == ["agenda.txt", "minutes.txt", "signed MOU.pdf"]
    assert serious_violations(page) == []

    # Download: the same bytes, under the file's own name.
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "signed MOU.pdf"
    assert open(download.path(), "rb").read() == PDF

    # A refused file: the message, on the record's attachments page.
    fake = tmp_path / "report.pdf"
    fake.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 300)
    page.get_by_label("Add files").set_input_files([str(fake)])
    with page.expect_navigation():
        page.get_by_role("button", name="Upload").click()
    assert page.get_by_role("alert").inner_text().strip() == "report.pdf is a Windows executable, not a PDF."
    assert serious_violations(page) == []
    assert Attachment.objects.count() == 3
    assert web.problems == [], web.problems


def test_without_javascript_the_link_and_the_file_input_do_it_all(crm_browser, live_server, staff_user, tmp_path):
    meeting = EngagementFactory(title="Consulate letter")
    context = crm_browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/accounts/login/?next=" + meeting.get_absolute_url())
        page.get_by_label("Username").fill("sam_staff")
        page.get_by_label("Password").fill("correct horse battery staple")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        page.goto(live_server.url + meeting.get_absolute_url())
        with page.expect_navigation():
            page.get_by_role("link", name="Files kept with this record").click()
        letter = tmp_path / "letter.txt"
        letter.write_text("Invitation to the national day reception.\n")
        page.get_by_label("Add files").set_input_files([str(letter)])
        with page.expect_navigation():
            page.get_by_role("button", name="Upload").click()
        assert page.url.endswith(meeting.get_absolute_url() + "#attachments")
        attachment = Attachment.objects.get()
        assert attachment.filename == "letter.txt" and attachment.uploaded_by == staff_user
        page.goto(live_server.url + f"/attachments/engagement/{meeting.pk}/")
        assert page.get_by_role("link", name="letter.txt").count() == 1
    finally:
        context.close()
