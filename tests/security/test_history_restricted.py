"""History hides what a record said while it was restricted (issue 13).

The finding: a commitment written on a restricted engagement, then moved off
it, showed its old text to a viewer on /history/commitment/<id>/. A version
written while the record was restricted (an engagement whose confidentiality
was restricted then; a commitment or gift tied to an engagement that is or
ever was restricted) shows its text only to those who see that engagement;
others see who changed it and when.
"""

import datetime as dt

import pytest
from django.urls import reverse

from engagements import services
from tests.factories import EngagementFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
SECRET = "Pay the informant in Zurich"


def page(client, user, model, pk) -> str:
    assert client.login(username=user.username, password=PASSWORD)
    response = client.get(reverse("audit:record", args=[model, pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def restricted(officer):
    return EngagementFactory(title="Back channel", confidentiality="restricted", staff=[officer])


@pytest.fixture
def internal(db):
    return EngagementFactory(title="Trade fair", confidentiality="internal")


@pytest.fixture
def moved_commitment(officer, restricted, internal):
    commitment = services.commitment_create(actor=officer, engagement=restricted, description=SECRET,
                                            due_date=dt.date(2026, 1, 10))
    return services.commitment_update(commitment=commitment, actor=officer, engagement=internal,
                                      description="Send the brochure")


class TestACommitmentMovedOffARestrictedEngagement:
    def test_a_viewer_sees_who_and_when_but_not_the_old_text(self, client, viewer, moved_commitment, restricted):
        html = page(client, viewer, "commitment", moved_commitment.pk)
        assert SECRET not in html and "informant" not in html
        assert "Back channel" not in html
        assert html.count("Omar Officer") == 2  # both versions: who changed it
        assert "Created" in html and "Changed" in html
        assert "Send the brochure" in html  # today's version is the viewer's to read
        assert "hidden" in html

    def test_a_staff_member_who_did_not_take_part_sees_no_more(self, client, staff_user, moved_commitment):
        assert SECRET not in page(client, staff_user, "commitment", moved_commitment.pk)

    def test_officers_and_the_engagements_staff_read_it_all(self, client, officer, staff_user, moved_commitment,
                                                            restricted):
        assert SECRET in page(client, officer, "commitment", moved_commitment.pk)
        restricted.staff.add(staff_user)
        client.logout()
        assert SECRET in page(client, staff_user, "commitment", moved_commitment.pk)

    def test_officers_can_still_restore_the_old_version(self, client, officer, moved_commitment):
        historical = moved_commitment.history.order_by("history_id").first()
        assert client.login(username=officer.username, password=PASSWORD)
        response = client.post(reverse("audit:restore", args=["commitment", moved_commitment.pk, historical.history_id]))
        assert response.status_code == 302
        moved_commitment.refresh_from_db()
        assert moved_commitment.description == SECRET


class TestAnEngagementThatWasRestricted:
    def test_its_restricted_versions_are_hidden_from_a_viewer(self, client, viewer, officer):
        engagement = EngagementFactory(title="Quiet talks", summary="Before", confidentiality="internal")
        services.engagement_update(engagement=engagement, actor=officer, confidentiality="restricted",
                                   summary="The minister will resign")
        services.engagement_update(engagement=engagement, actor=officer, confidentiality="internal",
                                   summary="Talks held")
        html = page(client, viewer, "engagement", engagement.pk)
        assert "resign" not in html
        assert "Talks held" in html
        assert html.count("Omar Officer") == 2
        assert "resign" in page(client, officer, "engagement", engagement.pk)


class TestAGiftMovedOffARestrictedEngagement:
    def test_its_old_text_is_hidden(self, client, viewer, officer, restricted, internal):
        gift = services.gift_create(actor=officer, engagement=restricted, direction="received",
                                    exchanged_on=dt.date(2025, 5, 1), giver="The informant", recipient="The Mayor",
                                    description="A Swiss watch", currency="CHF")
        services.gift_update(gift=gift, actor=officer, engagement=internal, description="A book")
        html = page(client, viewer, "gift", gift.pk)
        assert "Swiss watch" not in html and "informant" not in html
        assert "A book" in html


class TestTheHistoryOnDetailPages:
    """The record pages' own history table (who, when, which fields) hides the fields of such versions too."""

    def history_section(self, client, user, url) -> str:
        client.force_login(user)
        html = client.get(url).content.decode()
        start = html.index('id="history-heading"')
        return html[start:html.index("</section>", start)]

    def test_a_viewer_sees_the_changes_but_not_which_fields_a_hidden_version_changed(
        self, client, viewer, officer, restricted, internal
    ):
        commitment = services.commitment_create(actor=officer, engagement=restricted, description="Draft")
        services.commitment_update(commitment=commitment, actor=officer, description=SECRET, due_date=dt.date(2026, 2, 1))
        services.commitment_update(commitment=commitment, actor=officer, engagement=internal)
        url = f"/commitments/{commitment.pk}/"
        section = self.history_section(client, viewer, url)
        assert section.count("Omar Officer") == 3 and "Created" in section
        assert "(details hidden)" in section
        assert "changed: engagement" in section.lower()  # the move itself is the viewer's to read
        assert "description" not in section.lower() and "due date" not in section.lower()
        client.logout()
        assert "description" in self.history_section(client, officer, url).lower()

    def test_an_engagement_that_was_restricted_keeps_its_fields_to_itself(self, client, viewer, officer):
        engagement = EngagementFactory(title="Quiet talks", summary="Before", confidentiality="restricted",
                                       staff=[officer])
        services.engagement_update(engagement=engagement, actor=officer, summary="The minister will resign")
        services.engagement_update(engagement=engagement, actor=officer, confidentiality="internal", summary="Held")
        section = self.history_section(client, viewer, f"/engagements/{engagement.pk}/")
        # The last change (restricted → internal) is the viewer's to read; the one before it is not.
        assert "(details hidden)" in section
        assert section.lower().count("summary") == 1


@pytest.mark.parametrize("who", ["viewer", "officer"])
def test_the_history_page_costs_the_same_queries_whatever_the_number_of_versions(client, who, request, officer,
                                                                                restricted, internal):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = request.getfixturevalue(who)
    client.force_login(user)
    counts = []
    for versions in (2, 20):
        commitment = services.commitment_create(actor=officer, engagement=restricted, description="v0")
        for n in range(1, versions):
            services.commitment_update(commitment=commitment, actor=officer, description=f"v{n}",
                                       engagement=internal if n % 2 else restricted)
        url = reverse("audit:record", args=["commitment", commitment.pk])
        client.get(url)  # warm the session and permission caches
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
