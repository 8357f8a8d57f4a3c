"""The layers of docs/architecture.md, checked on the source: no app imports from a layer above it.

Bottom to top:

0. `diplomacy_crm` (settings, shared base, save_record, deletes) and `accounts`
   (roles, the access rule): the base; they may import each other.
1. `partners`: partners, contacts, topics, agreements.
2. `engagements`: engagements, missions, commitments (and the Gift model).
3. `attachments`: files kept with the records of the layers below (the
   search, a room, finds their words).
4. The rooms of the top layer, each reading the layers below and never each
   other: `dashboard` (the combining pages), `gifts`, `notifications`,
   `imports`, `history` (record history), `devdata` (demo and benchmark data).
5. `webhooks`: events of record writes, delivered with the outbox's task
   base (notifications); `mailcapture`: email capture, which logs engagements
   with their files (attachments).
6. `api`: the REST surface over all of it, webhook endpoints included.

A module-level import, an import inside a function and a `from x import y`
count alike (an AST walk). Only `diplomacy_crm/urls.py` and
`diplomacy_crm/celery.py` wire every layer together; tests, bench and
migrations are not checked.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LAYERS = [
    {"diplomacy_crm", "accounts"},
    {"partners"},
    {"engagements"},
    {"attachments"},
    {"dashboard", "gifts", "notifications", "imports", "history", "devdata"},
    {"webhooks", "mailcapture"},
    {"api"},
]
LAYER_OF = {app: level for level, apps in enumerate(LAYERS) for app in apps}
ROOMS = 4  # the layer whose apps never import each other
WIRING = {"diplomacy_crm/urls.py", "diplomacy_crm/celery.py"}


def project_apps() -> list[str]:
    """Every top-level package of ours: a directory with an apps.py (or the project package)."""
    return sorted(p.parent.name for p in ROOT.glob("*/apps.py"))


def imported_apps(source: str, apps: set[str]):
    """(line, app) for each import of one of `apps` in `source`, wherever it is written."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in apps:
                yield node.lineno, top


def offending_imports(app: str) -> list[str]:
    """The imports in `app`'s modules that reach a higher layer, or a sibling room of the top layer."""
    level = LAYER_OF[app]
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "migrations" in path.parts or relative in WIRING:
            continue
        for line, other in imported_apps(path.read_text(), set(LAYER_OF) - {app}):
            other_level = LAYER_OF[other]
            if other_level > level or (other_level == level == ROOMS):
                found.append(f"{relative}:{line} imports {other} (layer {other_level}) from layer {level}")
    return found


def test_every_app_has_a_layer():
    unplaced = [app for app in project_apps() if app not in LAYER_OF]
    assert unplaced == [], f"place these apps in LAYERS (and in docs/architecture.md): {unplaced}"


@pytest.mark.parametrize("app", sorted(app for app in LAYER_OF if (ROOT / app).is_dir()))
def test_no_app_imports_from_a_layer_above_it(app):
    assert offending_imports(app) == []


def test_the_check_sees_an_upward_import_even_inside_a_function():
    source = "def view(request):\n    from engagements.selectors import engagements_for\n"
    assert list(imported_apps(source, {"engagements"})) == [(2, "engagements")]
    assert list(imported_apps("import dashboard.home.selectors\n", {"dashboard"})) == [(1, "dashboard")]
    assert list(imported_apps("from .models import Partner\n", {"partners"})) == []
