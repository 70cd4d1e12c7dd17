"""Screenshots of the main public pages into docs/screenshots/ (Debian's chromium, Playwright).

    .venv/bin/python scripts/screenshots.py [BASE_URL]

Without BASE_URL it starts `respijt serve --no-scheduler` on a fresh SQLite database with the
demo data in a temporary folder. Also prints each page's bytes on the wire and axe findings.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.browser import PHONE, Traffic, axe_violations, launch  # noqa: E402

OUT = os.path.join(ROOT, "docs", "screenshots")
DESKTOP = {"width": 1280, "height": 900}


def _pages(today: date) -> list[tuple[str, str, dict[str, int]]]:
    week = f"van={today + timedelta(days=7)}&tot={today + timedelta(days=14)}"
    return [
        ("home", "/", DESKTOP),
        ("beschikbaarheid", f"/beschikbaarheid?{week}&regio=H5&doelgroep=ouderen", DESKTOP),
        ("beschikbaarheid-telefoon", f"/beschikbaarheid?{week}&doelgroep=dementie", PHONE),
        ("locatie", "/locaties/1", DESKTOP),
        ("aanvragen-telefoon", "/aanvragen", PHONE),
        ("contact", "/contact", DESKTOP),
    ]


@contextmanager
def _server() -> Iterator[str]:
    import requests

    with tempfile.TemporaryDirectory() as tmp:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(
            os.environ,
            RESPIJT_INSTANCE_PATH=tmp,
            DATABASE_URL=f"sqlite:///{tmp}/screens.db",
            RESPIJT_SECRET_KEY="screenshots",
        )
        respijt = [sys.executable, "-m", "respijt.cli"]
        subprocess.run([*respijt, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([*respijt, "demo"], env=env, check=True, capture_output=True)
        proc = subprocess.Popen(
            [*respijt, "serve", "--port", str(port), "--no-scheduler"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if requests.get(base + "/health", timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def take(base: str) -> None:
    from playwright.sync_api import sync_playwright

    os.makedirs(OUT, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for name, path, viewport in _pages(date.today()):
            context = browser.new_context(viewport=viewport, locale="nl-NL")
            page = context.new_page()
            traffic = Traffic(base)
            traffic.watch(page)
            page.goto(base + path, wait_until="load")
            if name == "beschikbaarheid-telefoon":  # the calendar, not the form
                page.evaluate(
                    "document.getElementById('resultaten').scrollIntoView({behavior: 'instant'})"
                )
            if name == "aanvragen-telefoon":  # show the errors beside the fields
                page.get_by_role("button", name="Aanvraag versturen").click()
                page.wait_for_load_state("load")
            page.screenshot(
                path=os.path.join(OUT, f"{name}.png"), full_page=name != "beschikbaarheid-telefoon"
            )
            print(f"{name}: {traffic.total()} bytes, axe: {axe_violations(page) or 'geen fouten'}")
            context.close()
        browser.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        take(sys.argv[1].rstrip("/"))
    else:
        with _server() as base:
            take(base)
