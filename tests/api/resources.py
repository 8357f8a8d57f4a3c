"""The API's resources, described once for the parametrized tests.

Each entry knows its path, the Django model permission codename, how to make
a record with the factories (`make(api_world)`), a valid body to create one
(`create(api_world)`) and a change to apply (`patch`, with the field it touches).
`api_world` is the `api_world` fixture (tests/api/conftest.py): a few related records every body may need.
"""

from dataclasses import dataclass, field
from typing import Any, Callable

from engagements.models import Commitment, Engagement, Gift, TradeMission
from partners.models import Agreement, Contact, Partner, Topic
from tests import factories

API = "/api/v1/"


@dataclass(frozen=True)
class Resource:
    name: str
    model: type
    make: Callable[[dict], Any]
    create: Callable[[dict], dict]
    patch: dict
    staff_can: frozenset = field(default_factory=frozenset)  # of "add", "change"

    @property
    def url(self) -> str:
        return f"{API}{self.name}/"

    def detail(self, pk) -> str:
        return f"{API}{self.name}/{pk}/"

    @property
    def perm(self) -> str:
        return f"{self.model._meta.app_label}.%s_{self.model._meta.model_name}"


RESOURCES = [
    Resource(
        "topics",
        Topic,
        make=lambda w: factories.TopicFactory(),
        create=lambda w: {"name": "Water policy", "slug": "water-policy"},
        patch={"name": "Water and sanitation"},
    ),
    Resource(
        "partners",
        Partner,
        make=lambda w: factories.PartnerFactory(),
        create=lambda w: {"name": "Consulate General of Mexico", "kind": "diplomatic_mission", "country": "MX"},
        patch={"city": "Guadalajara"},
        staff_can=frozenset({"add"}),
    ),
    Resource(
        "contacts",
        Contact,
        make=lambda w: factories.ContactFactory(partner=w["partner"]),
        create=lambda w: {"partner": w["partner"].pk, "full_name": "Ana Morales"},
        patch={"title": "Deputy Consul"},
        staff_can=frozenset({"add", "change"}),
    ),
    Resource(
        "engagements",
        Engagement,
        make=lambda w: factories.EngagementFactory(partners=[w["partner"]]),
        create=lambda w: {
            "title": "Call with the consul",
            "kind": "call",
            "starts_at": "2025-05-01T10:00:00-07:00",
            "partners": [w["partner"].pk],
        },
        patch={"location": "Video call"},
        staff_can=frozenset({"add", "change"}),
    ),
    Resource(
        "trade-missions",
        TradeMission,
        make=lambda w: factories.TradeMissionFactory(),
        create=lambda w: {
            "name": "Mission to Vietnam",
            "start_date": "2025-01-06",
            "end_date": "2025-01-10",
            "countries": ["VN"],
        },
        patch={"lead": "The Deputy Mayor"},
    ),
    Resource(
        "commitments",
        Commitment,
        make=lambda w: factories.CommitmentFactory(partner=w["partner"]),
        create=lambda w: {"description": "Send the letter of thanks", "partner": w["partner"].pk},
        patch={"description": "Send the signed letter of thanks"},
        staff_can=frozenset({"add", "change"}),
    ),
    Resource(
        "agreements",
        Agreement,
        make=lambda w: factories.AgreementFactory(partners=[w["partner"]]),
        create=lambda w: {"title": "Memorandum on ports", "kind": "mou", "partners": [w["partner"].pk]},
        patch={"summary": "Cooperation between the two ports."},
    ),
    Resource(
        "gifts",
        Gift,
        make=lambda w: factories.GiftFactory(partner=w["partner"]),
        create=lambda w: {
            "direction": "received",
            "exchanged_on": "2024-05-01",
            "giver": "H.E. the Ambassador",
            "recipient": "The Mayor",
            "description": "Porcelain vase",
        },
        patch={"disposition": "archived"},
        staff_can=frozenset({"add", "change"}),
    ),
]
BY_NAME = {r.name: r for r in RESOURCES}
