"""No module writes the confidentiality rule or the officer role itself.

`accounts/access.py` is the one home of the rule and `accounts/roles.py` the
one place that names the roles (ARCHITECTURE.md, "one access module"). A
module anywhere else that names the restricted value or the officer role is
writing its own copy of the rule, which the next role or the next door will
miss. So this test reads every Python module of the project and fails on:

- the name `RESTRICTED` (e.g. `Confidentiality.RESTRICTED` in a filter, an
  exclude, a Q or a comparison): ask `access.is_restricted`,
  `access.engagement_q` & co. instead;
- the string "restricted" (the stored value, e.g. in a query);
- the name `OFFICER` or the string "officer"/"officers": ask
  `access.sees_all_restricted` for confidentiality, `user.has_perm` for writes;
- a lookup on a group's name (`groups__name`, `group__name`): roles in SQL
  come from `accounts.roles.officer_membership` / `access.user_sees_all_q`.

It reads tokens, not text, so comments, docstrings and words such as
"Restricted" in a label do not count.
"""

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Where the rule and the roles live.
HOME = {"accounts/access.py", "accounts/roles.py"}
# Generators of demo and benchmark data: they only *write* the value and the roles.
DATA_GENERATORS = {
    "devdata/management/commands/load_demo.py",
    "devdata/demo.py",
    "devdata/management/commands/seed_bench.py",
    "devdata/bench_people.py",
    "devdata/bench_records.py",
    "devdata/benchdata.py",
}
# Not application code (or frozen history).
SKIPPED_DIRS = {".git", ".venv", "node_modules", "var", "static", "staticfiles", "docs", "tests", "bench", "migrations", "__pycache__"}
# Single lines allowed elsewhere, with why.
ALLOWED_LINES = {
    # The choice itself: the model's value is access.RESTRICTED.
    ("engagements/models.py", 'RESTRICTED = access.RESTRICTED, "Restricted"'),
}

# TEMPORARY: modules whose own copies of the rule are being moved onto
# accounts/access.py in parallel this round (notifications/: h4, issue 14;
# imports/: h3, issue 13). Empty this set once that work is merged; the test
# below fails as soon as an entry no longer offends, to say so.
PENDING: set[str] = set()

FORBIDDEN_NAMES = {"RESTRICTED", "OFFICER"}
FORBIDDEN_STRINGS = {"restricted", "officer", "officers"}
GROUP_NAME_LOOKUP = re.compile(r"^groups?__name(__\w+)?$")


def _string_value(token: str) -> str | None:
    body = re.sub(r"^[rRbBuU]*", "", token)
    for quote in ('"""', "'''", '"', "'"):
        if body.startswith(quote) and body.endswith(quote) and len(body) >= 2 * len(quote):
            return body[len(quote) : -len(quote)]
    return None


def offences(source: str) -> list[tuple[int, str]]:
    """(line number, line) of every place `source` names the restricted value or the officer role.

    A string used as a dict key (`{"restricted": …}`, a template's flag) names
    a field, not the value, and does not count.
    """
    found = []
    lines = source.splitlines()
    skip = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type not in skip]
    for index, token in enumerate(tokens):
        following = tokens[index + 1].string if index + 1 < len(tokens) else ""
        preceding = tokens[index - 1].string if index else ""
        dict_key = following == ":" and preceding in ("{", ",")
        bad = False
        if token.type == tokenize.NAME:
            bad = token.string in FORBIDDEN_NAMES or bool(GROUP_NAME_LOOKUP.match(token.string))
        elif token.type == tokenize.STRING:
            bad = _string_value(token.string) in FORBIDDEN_STRINGS and not dict_key
        elif token.type == getattr(tokenize, "FSTRING_MIDDLE", None):
            bad = token.string in FORBIDDEN_STRINGS
        if bad and (not found or found[-1][0] != token.start[0]):
            found.append((token.start[0], lines[token.start[0] - 1].strip()))
    return found


def modules():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS & set(relative.parts[:-1]):
            continue
        yield relative.as_posix(), path


def scan() -> dict[str, list[tuple[int, str]]]:
    result = {}
    for name, path in modules():
        if name in HOME or name in DATA_GENERATORS:
            continue
        found = [(n, line) for n, line in offences(path.read_text()) if (name, line) not in ALLOWED_LINES]
        if found:
            result[name] = found
    return result


def test_no_module_outside_the_access_module_writes_the_rule():
    found = {name: lines for name, lines in scan().items() if name not in PENDING}
    report = "\n".join(f"{name}:{n}: {line}" for name, lines in found.items() for n, line in lines)
    assert not found, (
        "These modules name the restricted value or the officer role; ask accounts.access "
        "(is_restricted, engagement_q, sees_all_restricted, user_sees_all_q…) instead:\n" + report
    )


def test_pending_modules_still_offend_else_remove_them_from_the_list():
    offenders = scan()
    stale = sorted(name for name in PENDING if name not in offenders)
    assert not stale, f"No longer offending: remove {stale} from PENDING in {Path(__file__).name}."


def test_the_scan_sees_what_it_must_and_nothing_else():
    assert [n for n, _ in offences('qs.filter(confidentiality=Confidentiality.RESTRICTED)\n')] == [1]
    assert [n for n, _ in offences('x = 1\nif e.confidentiality != "restricted":\n    pass\n')] == [2]
    assert [n for n, _ in offences("Q(groups__name=OFFICER)\n")] == [1]
    assert [n for n, _ in offences("User.objects.filter(groups__name='officer')\n")] == [1]
    assert [n for n, _ in offences("has = u.groups.filter(group__name__in=names)\n")] == [1]
    assert [n for n, _ in offences('x = {"k": "restricted"}\n')] == [1]
    harmless = (
        'ctx = {"restricted": flag, "officer": name}\n'
        '"""Restricted records: only officers see them; "restricted" in prose."""\n'
        "# Confidentiality.RESTRICTED in a comment\n"
        'label = "Restricted"\n'
        "if access.is_restricted(e.confidentiality) and not access.sees_all_restricted(user):\n"
        "    pass\n"
    )
    assert offences(harmless) == []


def test_the_allow_lists_name_real_files():
    names = {name for name, _ in modules()}
    for name in HOME | DATA_GENERATORS | PENDING | {name for name, _ in ALLOWED_LINES}:
        assert name in names, name
