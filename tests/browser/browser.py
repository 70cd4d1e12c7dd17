"""Shared Playwright set-up for the browser tests and scripts/screenshots.py.

Debian's chromium, never `playwright install` (it downloads a browser; there is no network).
Pages are checked for WCAG 2.1 A/AA with the vendored axe-core, for their transferred size,
and for requests to any other origin.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from respijt import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
AXE_JS = os.path.join(PROJECT_ROOT, "static", "vendor", "axe-core", "axe.min.js")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGE_BUDGET_BYTES = 200 * 1024
PHONE = {"width": 375, "height": 812}


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)


@dataclass
class Traffic:
    """Every response of a page, with the bytes it took on the wire."""

    base: str
    responses: list[tuple[str, int]] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        own = urlsplit(self.base).netloc

        def on_request(request: Any) -> None:
            parts = urlsplit(request.url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != own:
                self.foreign.append(request.url)

        def on_finished(request: Any) -> None:
            sizes = request.sizes()
            self.responses.append(
                (request.url, sizes["responseBodySize"] + sizes["responseHeadersSize"])
            )

        page.on("request", on_request)
        page.on("requestfinished", on_finished)

    def reset(self) -> None:
        self.responses.clear()

    def total(self) -> int:
        return sum(size for _, size in self.responses)


@lru_cache(maxsize=1)
def _axe_source() -> str:
    with open(AXE_JS, encoding="utf-8") as fh:
        return fh.read()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Inject the vendored axe-core and run the WCAG 2.1 A/AA rules on the page.

    Every rule of those tags runs; only the violations are collected in full (`resultTypes`),
    which halves the time of a run on a long page.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's CSP (script-src 'self',
        # no inline script) does not govern; a <script> tag with inline content would be blocked.
        page.evaluate(_axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


def sign_in(page: Any, base: str, email: str, password: str, totp_secret: str | None) -> None:
    """Log in through the forms, with the second factor when the account has one."""
    import pyotp

    page.goto(base + "/login", wait_until="load")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Aanmelden").click()
    if totp_secret is not None:
        page.locator("input[name=code]").fill(pyotp.TOTP(totp_secret).now())
        with page.expect_navigation():
            page.get_by_role("button", name="Controleren").click()


# Every word of the matched elements' text, measured where the browser laid it out: a word whose
# characters sit on more than one line was broken inside (a hyphen's own break is allowed, a soft
# hyphen's is not). Words are runs without white space, split after "-".
_SPLIT_WORDS_JS = """
selector => {
  const split = [];
  for (const element of document.querySelectorAll(selector)) {
    if (element.getClientRects().length === 0) continue;  // not rendered
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/[^\\s-]+-?/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set();
        for (const rect of range.getClientRects()) {
          if (rect.width > 0) tops.add(Math.round(rect.top));
        }
        if (tops.size > 1) split.push(`${element.tagName.toLowerCase()}: ${match[0]}`);
      }
    }
  }
  return split;
}
"""
WORD_SELECTOR = "main h1, main h2, main h3, main caption, main th, main td"


def split_words(page: Any, selector: str = WORD_SELECTOR) -> list[str]:
    """The words of the page's headings and table cells that a line break cuts in two, each as
    'td: Wannee…' (its element and the whole word); [] when every word is on one line."""
    return list(page.evaluate(_SPLIT_WORDS_JS, selector))
