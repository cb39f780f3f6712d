"""Debian's Chromium driven by Playwright, for the page tests; they skip where it is absent."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--headless=new",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def playwright_or_skip() -> Any:
    """Playwright's sync API; skips the calling module where Chromium or Playwright is absent."""
    if not CHROMIUM.is_file():
        pytest.skip(
            f"{CHROMIUM} is absent (Debian's browser: apt-get install chromium)",
            allow_module_level=True,
        )
    return pytest.importorskip("playwright.sync_api", reason="pip install playwright")


@contextmanager
def chromium(extra_args: Sequence[str] = ()) -> Iterator[Any]:
    """A headless Chromium until the block ends."""
    sync_api = playwright_or_skip()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    """A page in a fresh browser context, with what it reported."""

    page: Any
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


@contextmanager
def new_tab(browser: Any, **context_options: Any) -> Iterator[Tab]:
    """A page in its own context (own storage), recording page errors and console lines."""
    context = browser.new_context(**context_options)
    tab = Tab(context.new_page())
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.page.on("console", lambda message: tab.console.append(f"{message.type}: {message.text}"))
    try:
        yield tab
    finally:
        context.close()
