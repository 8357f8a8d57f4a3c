"""Bad input to the pickers' lookups (partners, contacts, trade missions): hostile `q` values are answered with
results (never a 5xx, never a restricted meeting's text), the JSON shape the picker reads."""

import pytest

from .bad_input import STATS
from .test_bad_input_requests import HOSTILE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bad_input_figures")]

LOOKUPS = ["/partners/lookup/", "/contacts/lookup/", "/missions/lookup/"]


@pytest.mark.parametrize("url", LOOKUPS)
def test_hostile_lookup_text_is_answered_with_results(matrix_world, url):
    client = matrix_world.client("viewer")
    forbidden = matrix_world.forbidden_markers("viewer")
    for q in [*HOSTILE, "%ED%A0%80"]:
        response = client.get(url, {"q": q, "partner": q})
        STATS["tried"] += 1
        if response.status_code >= 500:
            STATS["5xx"] += 1
        assert response.status_code == 200, (url, q, response.status_code)
        assert isinstance(response.json()["results"], list), (url, q)
        assert not any(m in response.content.decode() for m in forbidden), (url, q)


def test_the_mission_lookup_finds_the_worlds_mission_folded(matrix_world):
    results = matrix_world.client("viewer").get("/missions/lookup/", {"q": "  KANSAI  osaka "}).json()["results"]
    assert [r["id"] for r in results] == [matrix_world.mission.pk]
    assert results[0]["name"] == "Kansai mission" and results[0]["text"].startswith("Kansai mission (")
