"""The meeting form's trade-mission picker in real Chromium, with more missions than the form lists inline
(partners.forms.INLINE_CHOICES_MAX): an old mission is found by typing its name (/missions/lookup/) and saved."""

import datetime as dt

import pytest

from engagements.models import Engagement, TradeMission
from partners.forms import INLINE_CHOICES_MAX
from tests.factories import PartnerFactory, TradeMissionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PICKER = "#id_trade_mission-picker"


def test_an_old_mission_beyond_the_inline_list_is_found_by_typing_and_saved(web, staff_user):
    newest = dt.date(2026, 6, 1)
    TradeMission.objects.bulk_create([
        TradeMission(name=f"Routine mission {i}", countries=["FR"], cities="Lyon",
                     start_date=newest - dt.timedelta(weeks=i), end_date=newest - dt.timedelta(weeks=i))
        for i in range(INLINE_CHOICES_MAX)
    ])
    old = TradeMissionFactory(name="Mission économique à São Paulo", countries=["BR"], cities="São Paulo",
                              start_date=dt.date(1998, 3, 2), end_date=dt.date(1998, 3, 9))
    seoul = PartnerFactory(name="Seoul Metropolitan Government", country="KR", city="Seoul")
    page = web.page
    web.login("sam_staff")
    web.visit(f"/engagements/new/?partner={seoul.pk}")
    # Not in the page: the select holds only what is chosen (nothing yet).
    assert page.eval_on_selector("#id_trade_mission", "s => s.options.length") == 0
    page.locator("#id_title").fill("Call on the 1998 mission's follow-up")
    page.locator("#id_kind").select_option("call")
    page.get_by_text("More details: status, end, place").click()
    page.locator(PICKER).click()
    with page.expect_response("**/missions/lookup/?q=*"):
        page.keyboard.type("sao paulo")
    option = page.locator("#id_trade_mission-picker-list [role=option]")
    option.first.wait_for()
    assert option.all_inner_texts() == ["Mission économique à São Paulo (Mar 1998)"]
    page.keyboard.press("Enter")
    assert page.eval_on_selector("#id_trade_mission", "s => s.value") == str(old.pk)
    assert "Mission économique à São Paulo (Mar 1998)" in page.locator(".crm-picker__chip").all_inner_texts()[-1]
    with page.expect_navigation():
        page.get_by_role("button", name="Save meeting").click()
    engagement = Engagement.objects.get(title="Call on the 1998 mission's follow-up")
    assert engagement.trade_mission == old
    assert list(engagement.partners.all()) == [seoul]
    assert web.problems == []
