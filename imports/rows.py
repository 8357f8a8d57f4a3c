"""The importer's rows: the registry of kinds (imports/kinds/) and what run.py needs to drive them.

One module per kind lives in imports/kinds/; this module keeps the names run.py imports.
"""

from django.core.exceptions import ValidationError

from .kinds import IMPORTERS  # noqa: F401 (the registry run.py looks kinds up in)
from .kinds.base import Cells  # noqa: F401
from .kinds.contacts import ContactImporter  # noqa: F401
from .kinds.engagements import EngagementImporter  # noqa: F401
from .kinds.partners import PartnerImporter  # noqa: F401
from .kinds.engagements import COMMITMENT_ERROR_FIELDS


def validation_errors(exc: ValidationError, kind: str, in_commitment: bool) -> list[tuple[str, str]]:
    if not hasattr(exc, "error_dict"):
        return [("", " ".join(exc.messages))]
    errors = []
    for name, messages in exc.message_dict.items():
        if in_commitment:
            name = COMMITMENT_ERROR_FIELDS.get(name, name)
        if name.startswith("commitments["):
            name = "commitment_description"
        errors.append(("" if name == "__all__" else name, " ".join(messages)))
    return errors
