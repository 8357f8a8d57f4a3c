"""Office time lives in diplomacy_crm/officetime.py (the base layer, shared with the dashboard and the importer).

This name remains for notifications/tasks.py, which is edited in parallel this
round; point it at diplomacy_crm.officetime and delete this module.
"""

from diplomacy_crm.officetime import parse_now

__all__ = ["parse_now"]
