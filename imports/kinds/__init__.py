"""The importer's kinds: one module per kind of record, and the registry the pipeline looks them up in.

Each module holds the kind's importer class (see base.py for how run.py drives
it and the matching rule they share); its columns are in imports/importer.py
(FIELDS). To add a kind: write its module, add it here and its columns there.
"""

from .agreements import AgreementImporter
from .contacts import ContactImporter
from .engagements import EngagementImporter
from .gifts import GiftImporter
from .missions import MissionImporter
from .partners import PartnerImporter

IMPORTERS = {
    "partners": PartnerImporter,
    "contacts": ContactImporter,
    "engagements": EngagementImporter,
    "gifts": GiftImporter,
    "agreements": AgreementImporter,
    "missions": MissionImporter,
}


def register(kind: str, importer) -> None:
    IMPORTERS[kind] = importer
