"""The trade-mission picker beyond partners.forms.INLINE_CHOICES_MAX: /missions/lookup/?q= (engagements.lookup_views),
the partner and contact lookups' JSON shape and access, and the meeting and commitment forms wired to it."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engagements.models import Engagement, TradeMission
from partners.forms import INLINE_CHOICES_MAX
from tests.factories import EngagementFactory, TradeMissionFactory
from tests.world import make_user

pytestmark = pytest.mark.django_db

LOOKUP = "/missions/lookup/"


def many_missions(n: int, *, newest=dt.date(2026, 6, 1)) -> list[TradeMission]:
    """n missions, one a week back from `newest` ("Routine mission 0" the newest)."""
    return TradeMission.objects.bulk_create([
        TradeMission(name=f"Routine mission {i}", countries=["FR"], cities="Lyon", start_date=newest - dt.timedelta(weeks=i),
                     end_date=newest - dt.timedelta(weeks=i) + dt.timedelta(days=3))
        for i in range(n)
    ])


def old_mission() -> TradeMission:
    return TradeMissionFactory(name="Mission économique à São Paulo", countries=["BR"], cities="São Paulo, Brasília",
                               start_date=dt.date(1998, 3, 2), end_date=dt.date(1998, 3, 9))


def test_an_old_mission_is_found_by_its_name_or_city_accents_and_case_folded(client_for):
    many_missions(INLINE_CHOICES_MAX + 5)
    old = old_mission()
    client = client_for("viewer")
    for q in ("sao paulo", "ECONOMIQUE", "brasilia", "mission sao"):
        results = client.get(LOOKUP, {"q": q}).json()["results"]
        assert [r["id"] for r in results] == [old.pk], q
    assert results == [{"id": old.pk, "name": "Mission économique à São Paulo", "start_date": "1998-03-02",
                        "text": "Mission économique à São Paulo (Mar 1998)"}]
    assert client.get(LOOKUP, {"q": "nairobi"}).json() == {"results": []}


def test_the_newest_twenty_come_first(client_for):
    missions = many_missions(30)
    results = client_for("staff").get(LOOKUP, {"q": "routine"}).json()["results"]
    assert [r["id"] for r in results] == [m.pk for m in missions[:20]]
    assert client_for("staff").get(LOOKUP).json()["results"][0]["name"] == "Routine mission 0"


def test_the_lookup_costs_the_same_queries_with_5_or_400_missions(client_for):
    client = client_for("staff")
    counts = {}
    for size in (5, 400):
        TradeMission.objects.all().delete()
        many_missions(size)
        client.get(LOOKUP, {"q": "routine"})  # warm per-process caches
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(LOOKUP, {"q": "routine lyon"})
        assert len(response.json()["results"]) == min(size, 20)
        counts[size] = len(ctx.captured_queries)
    assert counts[5] == counts[400] <= 5, counts  # session, user, role check, the missions


def test_a_mission_whose_only_meeting_is_restricted_is_found_without_the_meeting(client_for, staff_user):
    """Missions carry no confidentiality (engagements.selectors.missions_for: every role sees them); their
    restricted meetings stay hidden wherever the itinerary is shown, and the lookup shows none of them."""
    mission = TradeMissionFactory(name="Quiet mission to Geneva", cities="Geneva")
    EngagementFactory(title="ZQX-HIDDEN-MEETING talks", summary="ZQX-HIDDEN-SUMMARY", trade_mission=mission,
                      confidentiality=Engagement.Confidentiality.RESTRICTED, staff=[staff_user])
    for role in ("viewer", "other_staff", "staff", "officer"):
        response = client_for(role).get(LOOKUP, {"q": "geneva"})
        assert [r["id"] for r in response.json()["results"]] == [mission.pk], role
        assert b"ZQX-HIDDEN" not in response.content, role


def test_the_lookup_needs_a_login_and_a_role(client_for, django_user_model):
    TradeMissionFactory(name="Mission to Hanoi")
    anonymous = client_for("anonymous").get(LOOKUP, {"q": "hanoi"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    nobody = client_for(make_user(django_user_model, "no_role_nina"))
    response = nobody.get(LOOKUP, {"q": "hanoi"})
    assert response.status_code == 403 and b"Mission to Hanoi" not in response.content
    assert client_for("viewer").post(LOOKUP, {"q": "hanoi"}).status_code == 405


def test_odd_queries_are_answered(client_for):
    old = old_mission()
    client = client_for("viewer")
    for q in ("%", "_", "\\", "' OR 1=1 --", "\x00sao", "x" * 5000, "a b c d e f g h"):
        response = client.get(LOOKUP, {"q": q})
        assert response.status_code == 200, q
        assert "results" in response.json()
    assert [r["id"] for r in client.get(LOOKUP, {"q": "\x00sao"}).json()["results"]] == [old.pk]


def options(body: str, field: str) -> list[str]:
    select = re.search(rf'<select name="{field}"[^>]*>(.*?)</select>', body, re.S)
    assert select, field
    return re.findall(r'<option value="(\d*)"', select.group(1))


@pytest.mark.parametrize("url", ["/engagements/new/", "/commitments/new/"])
def test_up_to_the_limit_every_mission_is_inline_beyond_it_only_the_chosen_one(client_for, url):
    missions = many_missions(INLINE_CHOICES_MAX)
    client = client_for("staff")
    body = client.get(url).content.decode()
    assert 'data-lookup-url="/missions/lookup/"' in body
    assert {v for v in options(body, "trade_mission") if v} == {str(m.pk) for m in missions}
    assert "Routine mission 299 (" in body

    old = old_mission()  # the 301st
    body = client.get(url).content.decode()
    assert options(body, "trade_mission") == [] and "Routine mission 0 (" not in body
    chosen = client.get(url, {"trade_mission": old.pk}).content.decode()
    assert options(chosen, "trade_mission") == [str(old.pk)]
    assert "Mission économique à São Paulo (Mar 1998)" in chosen


def test_a_meeting_saved_on_a_mission_beyond_the_limit_shows_it_when_edited(client_for, staff_user, world):
    many_missions(INLINE_CHOICES_MAX + 1)
    old = old_mission()
    meeting = world["public"]
    meeting.trade_mission = old
    meeting.save()
    body = client_for(staff_user).get(f"/engagements/{meeting.pk}/edit/").content.decode()
    assert options(body, "trade_mission") == [str(old.pk)]
    assert re.search(rf'<option value="{old.pk}" selected>Mission économique à São Paulo \(Mar 1998\)</option>', body)
