"""The reviewer page's "rate this answer's voice" control, in Chromium against the service.

A reviewer plays an item's answer as the real Piper voice speaks it, rates it 4, changes the
voice (the control clears: that voice is unrated), and the rating is in the database with
the TTS version that spoke it; reloading the item shows it again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from api.app import create_app
from api.voice.models import Models
from capture.models import VoiceRating
from core.db import session_scope
from review.batches import build_batch
from review.keys import create_key
from tests.learning.conftest import Captured
from tests.utils.browser import Tab, chromium, new_tab, playwright_or_skip
from tests.utils.server import serve_app

sync_api = playwright_or_skip()
expect = sync_api.expect


@pytest.fixture
def tab() -> Iterator[Tab]:
    with (
        chromium() as browser,
        new_tab(browser, viewport={"width": 1100, "height": 1000}) as opened,
    ):
        yield opened


def test_rate_the_answer_voice(tab: Tab, captured: Captured, models: Models) -> None:
    settings = captured.settings
    assert build_batch(settings) is not None  # the thumbs-down turns
    _, key = create_key(settings, "rita", "reviewer")
    page: Any = tab.page
    with serve_app(create_app(settings, models=models)) as base:
        page.goto(f"{base}/admin")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#item-heading")).to_contain_text("Item 1 of")
        section = page.get_by_role("region", name="The answer's voice")
        expect(section).to_be_visible()
        expect(page.locator("#rating-line")).to_have_text("No rating of the friendly voice yet.")

        page.get_by_role("button", name="Hear the answer").click()
        page.wait_for_function(
            "() => { const a = document.getElementById('answer-audio');"
            " return !a.paused && a.currentTime > 0.1 && a.src.startsWith('blob:'); }",
            timeout=20_000,
        )
        expect(page.get_by_role("button", name="Stop the answer")).to_be_visible()

        group = page.get_by_role("group", name="Rate this answer's voice")
        group.get_by_label("4").check()
        expect(page.locator("#status")).to_have_text("Rated the friendly voice 4 of 5.")
        expect(page.locator("#rating-line")).to_have_text(
            "1 reviewer rated the friendly voice: mean 4.0 of 5."
        )

        page.get_by_label("Voice", exact=True).select_option("technical")
        expect(group.get_by_label("4")).not_to_be_checked()
        expect(page.locator("#rating-line")).to_have_text("No rating of the technical voice yet.")
        page.get_by_label("Voice", exact=True).select_option("friendly")
        expect(group.get_by_label("4")).to_be_checked()

        with session_scope(settings) as session:
            rows = session.scalars(select(VoiceRating)).all()
            stored = [(r.reviewer, r.voice, r.score, r.tts) for r in rows]
        assert stored == [("rita", "friendly", 4, models.describe()["tts"])]

        page.reload()
        expect(page.locator("#item-heading")).to_contain_text("Item 1 of")
        expect(
            page.get_by_role("group", name="Rate this answer's voice").get_by_label("4")
        ).to_be_checked()
        expect(page.get_by_role("alert")).to_have_text("")
    assert tab.errors == []
    assert [line for line in tab.console if line.startswith("error")] == []
