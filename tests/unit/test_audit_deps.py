"""scripts/audit_deps.py: a vulnerable release is reported, an unknown one is never counted clean."""

import importlib.util
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"
spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
audit_deps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_deps)

ADVISORY = {"id": "PYSEC-2099-1", "aliases": ["GHSA-xxxx"], "fixed_in": ["2.0.1"]}
# What a PyPI-like index answers: project JSON (newest release + its advisories), some per-release JSON.
DOCUMENTS = {
    "/pypi/insecure/json": {"info": {"version": "2.0.0"}, "vulnerabilities": [ADVISORY]},
    "/pypi/current/json": {"info": {"version": "1.4.0"}, "vulnerabilities": []},
    "/pypi/behind/json": {"info": {"version": "3.0.0"}, "vulnerabilities": []},
    "/pypi/old-known/json": {"info": {"version": "5.0.0"}, "vulnerabilities": []},
    "/pypi/old-known/4.0.0/json": {"info": {"version": "4.0.0"}, "vulnerabilities": [ADVISORY]},
}


class Index(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        document = DOCUMENTS.get(self.path)
        self.send_response(200 if document else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if document:
            self.wfile.write(json.dumps(document).encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def index():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/pypi"
    server.shutdown()


def test_the_newest_release_with_an_advisory_is_reported(index):
    result = audit_deps.audit_one(index, "insecure", "2.0.0")
    assert result["audited"] and [v["id"] for v in result["vulns"]] == ["PYSEC-2099-1"]


def test_the_newest_release_without_advisories_is_clean(index):
    result = audit_deps.audit_one(index, "current", "1.4.0")
    assert result["audited"] and result["vulns"] == []


def test_an_older_release_is_audited_from_its_own_json_when_served(index):
    result = audit_deps.audit_one(index, "old-known", "4.0.0")
    assert result["audited"] and result["vulns"][0]["fixed_in"] == ["2.0.1"]


def test_an_older_release_without_data_is_not_audited_rather_than_clean(index):
    result = audit_deps.audit_one(index, "behind", "2.9.0")
    assert not result["audited"] and result["latest"] == "3.0.0"


def test_a_package_missing_from_the_index_is_not_audited(index):
    result = audit_deps.audit_one(index, "local-only", "0.1")
    assert not result["audited"] and "not on the index" in result["error"]


def test_an_unreachable_index_is_an_error_not_a_clean_bill():
    result = audit_deps.audit_one("http://127.0.0.1:9/pypi", "current", "1.4.0")
    assert not result["audited"] and result["error"]
