#!/usr/bin/env python
"""`make screenshots`: PNGs of the main pages at 1366 and 390 px, and the PDF briefing's first page.

Builds a throw-away SQLite database in a temporary folder, migrates it, loads
the demo data (`load_demo`), starts `manage.py runserver` on a free loopback
port, signs in as the demo officer in Chromium (Playwright driving
/usr/bin/chromium, never a downloaded browser) and writes:

    docs/screenshots/<page>-1366.png, <page>-390.png   for dashboard, partner, meeting-form,
                                                        commitments, search
    docs/screenshots/briefing-pdf.png                   the partner briefing PDF's first page (pdftoppm)

Every run starts from an empty database, so it is repeatable and leaves
nothing behind but the PNGs (which it overwrites). Pages taller than
MAX_HEIGHT are cut there; the PNGs are reduced to a 256-colour palette to stay small.

Options: --out DIR, --browser PATH (default /usr/bin/chromium), --keep (keep the temporary folder).
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
DEMO_USER, DEMO_PASSWORD = "olivia", "diplomacy-demo-2028"
WIDTHS = {1366: 900, 390: 844}  # viewport width: height
MAX_HEIGHT = 2400
PARTNER_NAME = "Consulate General of Japan in Los Angeles"
PAGES = (
    ("dashboard", "/"),
    ("partner", "/partners/{partner}/"),
    ("meeting-form", "/engagements/new/"),
    ("commitments", "/commitments/"),
    ("search", "/search/?q=hydrogen"),
)


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server stopped (exit {server.returncode}); see its log")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"the server did not answer {url} within {seconds:.0f} s")


def shrink(path: Path, max_height: int = MAX_HEIGHT) -> None:
    """Cut to max_height and reduce to a 256-colour palette (UI screenshots lose nothing visible)."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        if image.height > max_height:
            image = image.crop((0, 0, image.width, max_height))
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            path, optimize=True
        )


def capture(base: str, partner_id: int, out: Path, browser_path: str, workdir: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=browser_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--font-render-hinting=none"],
        )
        try:
            for width, height in WIDTHS.items():
                context = browser.new_context(
                    viewport={"width": width, "height": height}, device_scale_factor=1, locale="en-US",
                    timezone_id="America/Los_Angeles", reduced_motion="reduce",
                )
                page = context.new_page()
                page.goto(f"{base}/accounts/login/")
                page.fill("input[name=username]", DEMO_USER)
                page.fill("input[name=password]", DEMO_PASSWORD)
                page.locator("form button[type=submit], form input[type=submit]").first.click()
                page.wait_for_load_state("networkidle")
                if "/accounts/login/" in page.url:
                    sys.exit("could not sign in as the demo officer")
                for name, path in PAGES:
                    response = page.goto(base + path.format(partner=partner_id), wait_until="networkidle")
                    if response is None or response.status != 200:
                        sys.exit(f"{path} answered {response.status if response else 'nothing'}")
                    page.evaluate("document.fonts.ready")
                    page.mouse.move(0, 0)
                    target = out / f"{name}-{width}.png"
                    page.screenshot(path=str(target), full_page=True, animations="disabled", caret="hide")
                    shrink(target)
                    written.append(target)
                if width == max(WIDTHS):
                    pdf = page.request.get(f"{base}/partners/{partner_id}/briefing/?format=pdf")
                    if pdf.status != 200 or pdf.headers.get("content-type") != "application/pdf":
                        sys.exit(f"the briefing PDF answered {pdf.status} {pdf.headers.get('content-type')}")
                    pdf_path = workdir / "briefing.pdf"
                    pdf_path.write_bytes(pdf.body())
                    stem = workdir / "briefing-page"
                    subprocess.run(
                        ["pdftoppm", "-png", "-f", "1", "-l", "1", "-singlefile", "-scale-to-x", "1020",
                         "-scale-to-y", "-1", str(pdf_path), str(stem)],
                        check=True, timeout=120,
                    )
                    target = out / "briefing-pdf.png"
                    shutil.move(str(stem) + ".png", target)
                    shrink(target)
                    written.append(target)
                context.close()
        finally:
            browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--browser", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary database and server log")
    args = parser.parse_args()
    for tool in ("pdftoppm",):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: apt-get install poppler-utils")
    if not Path(args.browser).exists():
        sys.exit(f"no browser at {args.browser}: apt-get install chromium (or pass --browser)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    workdir = Path(tempfile.mkdtemp(prefix="crm-screenshots-"))
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "TIME_ZONE": "America/Los_Angeles",
        "EMBEDDED_DEFAULTS": "1",
    }
    for name in ("REDIS_URL", "EMAIL_URL", "EMAIL_HOST"):  # nothing outside the temporary folder
        env.pop(name, None)
    server = None
    log = open(workdir / "server.log", "w")
    try:
        print(f"Database in {workdir}: migrating and loading the demo data…", flush=True)
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "load_demo")
        code = (
            "from partners.models import Partner; from django.db.models import Count; "
            f"p = Partner.objects.filter(name={PARTNER_NAME!r}).first() or "
            "Partner.objects.annotate(n=Count('engagements')).order_by('-n', 'id').first(); print(p.pk)"
        )
        partner_id = int(manage(env, "shell", "-c", code).strip().splitlines()[-1])
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(f"{base}/healthz", server)
        written = capture(base, partner_id, out, args.browser, workdir)
        for path in written:
            print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {path.stat().st_size // 1024} KB")
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        log.close()
        if args.keep:
            print(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
