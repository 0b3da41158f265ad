"""What the browser tests share: launching Chromium, reading mail from the server's outbox,
axe-core, screenshots and the layout check at phone width.

Chromium is the Debian package (/usr/bin/chromium); Playwright never downloads a browser here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.conftest import Outbox
from tests.live import ROOT

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                 "--disable-dev-shm-usage"]
WIDTHS = (1280, 390)
PHONE_WIDTH = 360
CODE_RE = re.compile(r"\b(\d{6})\b")
LINK_RE = re.compile(r"https?://\S+")
BLOCKING_IMPACTS = {"serious", "critical"}
# Settings of every e2e server: all posts come from 127.0.0.1, so the per-IP burst limit
# would answer 429 to the test itself; mail cool-down short so a flow can send two codes.
SERVER_SETTINGS = {"ip_max_requests_per_minute": "10000", "mail_cooldown_seconds": "1"}
PASSWORD = "Tangerine-Harbour-42"
DEFAULT_TIMEOUT_MS = 15_000  # a loaded 2-core machine: argon2, the demo's own HTTP calls


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def unique_email(label: str) -> str:
    return f"{label}-{time.time_ns()}@example.com"


# --- mail -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str

    @property
    def code(self) -> str:
        match = CODE_RE.search(self.text)
        assert match, f"no 6-digit code in the mail {self.subject!r}:\n{self.text}"
        return match.group(1)

    @property
    def link(self) -> str:
        match = LINK_RE.search(self.text)
        assert match, f"no link in the mail {self.subject!r}:\n{self.text}"
        return match.group(0)


class Mailbox:
    """The .eml files the server's file backend writes (FRONTDESK_MAIL_OUTBOX)."""

    def __init__(self, folder: Path) -> None:
        self.outbox = Outbox(folder)

    def all_to(self, to: str) -> list[Mail]:
        return [Mail(to=m["To"], subject=str(m["Subject"]), text=Outbox.text(m))
                for m in self.outbox.messages() if m["To"] == to]

    def count(self, to: str) -> int:
        return len(self.all_to(to))

    def wait_for(self, to: str, subject: str, since: int = 0, timeout: float = 10.0) -> Mail:
        """The first message to `to` after the first `since` ones whose subject contains
        `subject`, waiting for the server to write it."""
        deadline = time.monotonic() + timeout
        while True:
            mails = self.all_to(to)[since:]
            found = [m for m in mails if subject.lower() in m.subject.lower()]
            if found:
                return found[0]
            assert time.monotonic() < deadline, (
                f"no mail {subject!r} to {to}; got {[m.subject for m in mails]}")
            time.sleep(0.1)


# --- accessibility, screenshots, layout ----------------------------------------------------


@dataclass
class PageAudit:
    """axe-core violations and horizontal overflow of one page, plus its screenshots."""

    name: str
    url: str
    violations: list[dict] = field(default_factory=list)
    scroll_width_at_phone: int = 0
    screenshots: list[Path] = field(default_factory=list)

    @property
    def blocking(self) -> list[dict]:
        return [v for v in self.violations if v["impact"] in BLOCKING_IMPACTS]

    def describe_blocking(self) -> str:
        return json.dumps(self.blocking, indent=2)


def run_axe(page) -> list[dict]:
    """axe-core on the current document. The pages' CSP (script-src 'self') blocks a <script>
    tag with inline content, so the library is evaluated over the DevTools protocol, which
    CSP does not govern; the page itself is left untouched."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text() + "\n;undefined")
    return page.evaluate("""async () => {
        const result = await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                             "wcag22aa", "best-practice"]},
            resultTypes: ["violations"]});
        return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))
        }));
    }""")


def scroll_width(page, width: int) -> int:
    page.set_viewport_size({"width": width, "height": 800})
    return page.evaluate("document.scrollingElement.scrollWidth")


def screenshot(page, name: str) -> list[Path]:
    """Full-page PNGs at 1280 and 390 px; the viewport is left at 1280."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    paths = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900 if width > 800 else 844})
        path = ARTIFACTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    page.set_viewport_size({"width": 1280, "height": 900})
    return paths


def audit_page(page, name: str) -> PageAudit:
    """Everything the page checks need, taken from the page as the browser shows it now."""
    audit = PageAudit(name=name, url=page.url)
    audit.scroll_width_at_phone = scroll_width(page, PHONE_WIDTH)
    audit.screenshots = screenshot(page, name)
    audit.violations = run_axe(page)
    return audit


# --- a relying party's redirect URI ----------------------------------------------------------


class RelyingParty:
    """A real HTTP server on 127.0.0.1 standing for a client app: it records every request
    (path, query, headers) to its redirect URI and answers a small page titled `title`."""

    def __init__(self, title: str = "Photo Printer") -> None:
        self.hits: list[dict] = []
        self.title = title
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.origin = f"http://127.0.0.1:{self._server.server_port}"
        self.redirect_uri = self.origin + "/callback"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handler(self):
        rp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                rp.hits.append({"url": rp.origin + self.path, "headers": dict(self.headers)})
                body = f"<!doctype html><title>{rp.title}</title><p>back at the app</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        return Handler

    def _callbacks(self) -> list[dict]:
        """Requests to the redirect URI (the browser also asks for /favicon.ico)."""
        found = [h for h in self.hits if h["url"].split("?")[0] == self.redirect_uri]
        assert found, "the browser never came back to the client"
        return found

    @property
    def last(self) -> dict[str, str]:
        """Query parameters of the last request to the redirect URI."""
        return query(self._callbacks()[-1]["url"])

    @property
    def last_headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self._callbacks()[-1]["headers"].items()}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- CLI commands that run while the browser works -------------------------------------------


class BackgroundCommand:
    """`frontdesk <args> --json` started now, read when needed: each CLI call costs seconds
    of interpreter start-up, which the browser steps can overlap."""

    def __init__(self, server, *args: str) -> None:
        self.args = args
        self._process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args, "--json"], env=server.env, cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._result: dict | None = None

    def result(self, timeout: float = 120) -> dict:
        if self._result is None:
            out, err = self._process.communicate(timeout=timeout)
            assert self._process.returncode == 0, f"frontdesk {' '.join(self.args)}: {err}"
            self._result = json.loads(out)
        return self._result

    def finish(self, timeout: float = 60) -> None:
        """Wait for the process (kill it if it hangs), whatever its outcome."""
        try:
            self._process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.communicate()

    def __getitem__(self, key: str):
        return self.result()[key]
