#!/usr/bin/env python3
"""Dependency audit (issue 7, S9): known vulnerabilities in the installed packages.

pip-audit asks PyPI's per-release JSON (`/pypi/<name>/<version>/json`) or
OSV; on this network the first answers 404 and the second is unreachable, so
pip-audit would skip every package and still print "No known
vulnerabilities". This script asks what does answer, PyPI's project JSON
(`/pypi/<name>/json`), whose `vulnerabilities` list is PyPI's advisory data
(PYSEC/GHSA/OSV ids) for the project's newest release:

- a package installed at its newest release is audited from that list;
- an older release is audited from its per-release JSON when the index
  serves it, and is otherwise listed as "not audited" (never counted clean).

Exit status: 1 if any installed package has a known vulnerability (its
advisory ids and fixed versions are printed), 2 if the index could not be
reached at all, else 0. Usage: .venv/bin/python scripts/audit_deps.py
[--index https://pypi.org/pypi] [--strict] (--strict: unaudited packages fail too).
"""

import argparse
import json
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata

from packaging.utils import canonicalize_name


def fetch(url: str, timeout: float = 20.0):
    """The JSON at `url`, or None on 404."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "diplomacy-crm-audit"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310: fixed https index URL
            return json.load(response)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def audit_one(index: str, name: str, version: str) -> dict:
    result = {"name": name, "version": version, "vulns": [], "audited": False, "latest": None, "error": None}
    try:
        project = fetch(f"{index}/{name}/json")
        if project is None:
            result["error"] = "not on the index (a local package?)"
            return result
        result["latest"] = project["info"]["version"]
        if result["latest"] == version:
            result["vulns"], result["audited"] = project.get("vulnerabilities", []), True
            return result
        release = fetch(f"{index}/{name}/{version}/json")
        if release is not None and "vulnerabilities" in release:
            result["vulns"], result["audited"] = release["vulnerabilities"], True
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    return result


def installed() -> list[tuple[str, str]]:
    seen = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"] or "")
        if name and name not in ("pip", "setuptools", "wheel"):
            seen[name] = dist.version
    return sorted(seen.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="https://pypi.org/pypi")
    parser.add_argument("--strict", action="store_true", help="packages that could not be audited fail the run")
    args = parser.parse_args()
    packages = installed()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda p: audit_one(args.index.rstrip("/"), *p), packages))

    errors = [r for r in results if r["error"] and r["latest"] is None]
    if len(errors) == len(results):
        print(f"audit_deps: the index {args.index} could not be reached: {errors[0]['error']}", file=sys.stderr)
        return 2
    vulnerable = [r for r in results if r["vulns"]]
    unaudited = [r for r in results if not r["audited"]]
    for r in vulnerable:
        for v in r["vulns"]:
            ids = ", ".join([v.get("id", "?"), *v.get("aliases", [])])
            fixed = ", ".join(v.get("fixed_in") or []) or "no fixed release"
            print(f"VULNERABLE {r['name']} {r['version']}: {ids} (fixed in {fixed})")
    for r in unaudited:
        why = r["error"] or f"newest is {r['latest']}; the index serves no per-release data for {r['version']}"
        print(f"not audited {r['name']} {r['version']}: {why}")
    audited = len(results) - len(unaudited)
    print(f"audit_deps: {len(results)} installed packages, {audited} audited, {len(vulnerable)} vulnerable, "
          f"{len(unaudited)} not audited")
    if vulnerable:
        return 1
    return 1 if (args.strict and unaudited) else 0


if __name__ == "__main__":
    sys.exit(main())
