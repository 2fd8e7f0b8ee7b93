"""Real headless Chromium for the pages people see (Playwright driving the system browser).

Without a Chromium on the machine these tests skip, unless ADVOCATE_REQUIRE_BROWSER is
set (CI sets it), where a missing browser is a failure.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# Stands in for Shopify's CDN App Bridge in the browser tests: idToken() answers with the
# token the page was loaded with, the way App Bridge would hand a fresh one.
APP_BRIDGE_STUB = """
window.shopify = { idToken: function () {
  return Promise.resolve(new URLSearchParams(location.search).get("id_token"));
} };
"""


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def artifacts_dir() -> Path:
    path = Path(os.environ.get("ADVOCATE_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts")) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        if os.environ.get("ADVOCATE_REQUIRE_BROWSER"):
            pytest.fail("No Chromium found: install Debian's chromium package (CI does).")
        pytest.skip("No Chromium on this machine: browser tests skipped (install the chromium package).")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the
    # live server thread are not affected, but test-thread ORM calls need this.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser):
    """open_page(url, width="phone"|"desktop") -> a Playwright page with Shopify's CDN stubbed."""
    contexts = []

    def open_(url: str, width: str = "desktop", javascript: bool = True):
        context = browser.new_context(viewport=WIDTHS[width], java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        # Every error the page logs (a failed load, an exception), for tests to assert none.
        page.console_errors = []
        page.on("console", lambda m: page.console_errors.append(f"{m.text} {m.location.get('url', '')}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        page.route("https://cdn.shopify.com/**", lambda route: route.fulfill(
            status=200, content_type="application/javascript", body=APP_BRIDGE_STUB))
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    path = artifacts_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def right_edge(locator) -> float:
    box = locator.bounding_box()
    return box["x"] + box["width"]


def accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical findings, as readable lines."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} elements)"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
