"""Real Chromium (Debian's, never a downloaded one) against pytest-django's live server.

`crm_browser` starts Chromium once per session through Playwright's sync API.
`web` opens a fresh context per test and watches everything that can go
wrong on a page: JavaScript errors, console errors, failed requests, static
files answered with an error, alert/confirm dialogs, and CSP violations
(reported from the page by a `securitypolicyviolation` listener installed
before any page script runs). Tests assert `web.problems == []`.
"""

import os
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Error as PlaywrightError

PASSWORD = "correct horse battery staple"  # the cast's password (tests/conftest.py)

CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__crmReport && window.__crmReport({
    directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile
  });
});
"""

# A page at rest: loaded, and htmx neither requesting, swapping nor settling anything.
SETTLED_JS = """() => document.readyState === "complete"
  && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")"""
NEXT_FRAME_JS = "() => new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0)))"


@pytest.fixture(autouse=True)
def _role_groups(transactional_db):
    """The roles' groups come from a migration; a transactional test's flush empties them, so make them again."""
    from accounts.roles import sync_role_groups

    sync_role_groups()


@dataclass
class Web:
    """One browser context on the live server, with the problems it saw."""

    page: object
    base_url: str
    problems: list = field(default_factory=list)
    dialogs: list = field(default_factory=list)
    csp_violations: list = field(default_factory=list)
    visited: list = field(default_factory=list)
    in_flight: set = field(default_factory=set)  # requests sent and not yet finished or failed

    def url(self, path: str) -> str:
        return self.base_url + path

    def visit(self, path: str):
        response = self.page.goto(self.url(path), wait_until="load")
        self.settle()
        self.visited.append(path)
        assert response is not None and response.status < 400, f"{path} answered {response and response.status}"
        return response

    def login(self, username: str, password: str = PASSWORD, next_path: str = "/"):
        """Sign in through the real login form."""
        self.visit(f"/accounts/login/?next={next_path}")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Sign in").click()
        self.settle()
        assert "/accounts/login/" not in self.page.url, "login failed"

    def settle(self, timeout: float = 60):
        """Wait until the page has settled: loaded, no request in flight, no htmx request, swap or settle
        under way, twice in a row one animation frame apart.

        What visit and login waited for with Playwright's "networkidle" (no connection for 500 ms,
        a fixed half second a page), as a condition: the requests a page starts by itself (htmx
        `hx-trigger="load"` panels, what their content loads) start while it loads or while htmx
        swaps, so once none is in flight and htmx is done, nothing more is coming.
        """
        deadline = time.monotonic() + timeout
        quiet_checks = 0
        while quiet_checks < 2:
            if time.monotonic() > deadline:
                pending = sorted(request.url for request in self.in_flight)
                raise AssertionError(f"{self.page.url} did not settle in {timeout}s; in flight: {pending}")
            # evaluate() also lets Playwright deliver the request events that update in_flight.
            try:
                settled = self.page.evaluate(SETTLED_JS)
                self.page.evaluate(NEXT_FRAME_JS)
            except PlaywrightError:  # the page navigated meanwhile (a script reloaded it): not settled
                settled = False
            quiet_checks = quiet_checks + 1 if settled and not self.in_flight else 0

    def path(self) -> str:
        return urlparse(self.page.url).path


@pytest.fixture
def web(crm_browser, live_server):
    context = crm_browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    # Generous: the live server is single-threaded per request and CI machines have 2 cores.
    context.set_default_timeout(60_000)
    page = context.new_page()
    web = Web(page=page, base_url=live_server.url)

    def on_console(message):
        if message.type == "error":
            web.problems.append(f"console error on {page.url}: {message.text}")

    def on_response(response):
        if response.status >= 400 and "/static/" in response.url:
            web.problems.append(f"static file {response.url} answered {response.status}")

    def on_request_failed(request):
        # A download the test asked for is "aborted" from the page's point of view, and so is a
        # request still in flight when the page moves on (a lazily loaded panel, then a click
        # that navigates): the browser cancelled it, nothing failed. Errors the server answers
        # are responses, caught above and by the pages' own checks.
        if "format=csv" in request.url or request.failure == "net::ERR_ABORTED":
            return
        web.problems.append(f"request failed: {request.url} ({request.failure})")

    def on_dialog(dialog):
        web.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_csp(violation):
        web.csp_violations.append(violation)
        web.problems.append(f"CSP violation on {page.url}: {violation}")

    page.on("request", lambda request: web.in_flight.add(request))
    page.on("requestfinished", lambda request: web.in_flight.discard(request))
    page.on("requestfailed", lambda request: web.in_flight.discard(request))
    page.on("console", on_console)
    page.on("pageerror", lambda error: web.problems.append(f"JavaScript error on {page.url}: {error}"))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    page.on("dialog", on_dialog)
    page.expose_function("__crmReport", on_csp)
    page.add_init_script(CSP_LISTENER)
    yield web
    context.close()


@pytest.fixture
def screenshot_dir():
    """Where screenshots go when SCREENSHOT_DIR is set (for eyeballing the pages); None otherwise."""
    path = os.environ.get("SCREENSHOT_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
    return path
