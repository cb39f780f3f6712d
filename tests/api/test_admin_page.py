"""The reviewer page (/admin) end to end: Chromium, the real service, captures made by the chain.

Log in, play an item, correct its transcript, approve the next one, redact a third; the
correction is on the database row and in the stored ``metadata.json``, the redaction in the
stored transcript, and the batch's progress follows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from api.app import create_app
from api.voice.models import Models
from capture.keys import object_key
from capture.models import Capture
from capture.store import open_store
from core.db import session_scope
from core.settings import Settings
from migrations import upgrade
from review.batches import build_batch
from review.keys import create_key
from tests.utils.browser import Tab, chromium, new_tab, playwright_or_skip
from tests.utils.capture import run_chain, spool_turn
from tests.utils.server import serve_app

SCREENSHOT = Path("/tmp/admin-page.png")
RATE = 16_000
TONE = (np.sin(np.arange(3 * RATE) * 2 * np.pi * 300 / RATE) * 8000).astype("<i2").tobytes()
# Python counts the pizza as one character, the browser as two (UTF-16 units): the flagged
# spans after it must still mark, and redact, the right words.
PII = "I love 🍕 and café, my name is John Smith and I live at 12 Elm Street"
CORRECTED = "what is a photon"
# In this order they become items 1, 2 and 3 of the batch.
TURNS: dict[str, dict[str, object]] = {
    "misheard": {"transcript": "what is a fotan", "feedback": "thumbs_down"},
    "doubtful": {"transcript": "what is a fallopian tube", "avg_logprob": -1.6},
    "personal": {"transcript": PII},
}

sync_api = playwright_or_skip()
expect = sync_api.expect


@dataclass
class Site:
    """The service with a reviewed batch's worth of captures, and a reviewer's key."""

    settings: Settings
    base: str
    key: str

    def capture(self, turn_id: str) -> Capture:
        with session_scope(self.settings) as session:
            row = session.get(Capture, turn_id)
            assert row is not None, f"no capture row for {turn_id}"
            return row

    def stored(self, turn_id: str, name: str) -> bytes:
        row = self.capture(turn_id)
        return open_store(self.settings, row.region).get(object_key(row.day, turn_id, name))


@pytest.fixture
def site(tmp_path: Path, settings: Settings, models: Models) -> Iterator[Site]:
    config = settings.model_copy(update={"data_dir": tmp_path})
    upgrade(config.resolved_database_url())
    now = datetime.now(UTC).isoformat()
    for turn_id, fields in TURNS.items():
        spool_turn(config, turn_id, pcm=TONE, timestamp=now, **fields)
        run_chain(config, turn_id)
    assert build_batch(config) is not None
    _, key = create_key(config, "rita", "reviewer")
    with serve_app(create_app(config, models=models)) as base:
        yield Site(config, base, key)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    with new_tab(browser, viewport={"width": 1100, "height": 1000}) as opened:
        yield opened


def log_in(page: Any, base: str, key: str) -> None:
    page.goto(f"{base}/admin")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()


def test_review_a_batch_log_in_play_correct_approve_redact(tab: Tab, site: Site) -> None:
    page = tab.page
    log_in(page, site.base, site.key)
    heading = page.locator("#item-heading")
    expect(heading).to_have_text("Item 1 of 3")
    expect(page.locator("#account-name")).to_have_text("rita")
    expect(page.locator("#item-reason")).to_have_text("Thumbs down")
    expect(page.locator("#item-status")).to_have_text("pending")
    expect(page.locator("#batch-progress-text")).to_have_text("0 of 3 reviewed")
    assert page.evaluate("sessionStorage.getItem('voice-admin-key')") == site.key
    assert page.evaluate("localStorage.length") == 0

    # Play the recording (fetched with the key, played from a blob: URL), then pause it.
    play = page.get_by_role("button", name="Play")
    expect(play).to_be_enabled()
    play.click()
    page.wait_for_function(
        "() => { const a = document.getElementById('audio');"
        " return !a.paused && a.currentTime > 0.2 && a.src.startsWith('blob:'); }",
        timeout=10_000,
    )
    expect(page.locator("#play")).to_have_text("Pause")
    page.locator("#play").click()
    expect(page.locator("#play")).to_have_text("Play")
    assert page.evaluate("document.getElementById('audio').paused") is True

    # Correct the transcript: a click on the text edits it in place.
    editor = page.get_by_role("textbox", name="Transcript")
    expect(editor).to_have_text("what is a fotan")
    editor.click()
    expect(editor).to_have_attribute("contenteditable", "plaintext-only")
    page.keyboard.press("Control+a")
    page.keyboard.type(CORRECTED)  # the letters are typed, not taken as shortcuts
    expect(editor).to_have_text(CORRECTED)
    expect(page.locator("#edited-note")).to_be_visible()
    page.get_by_label("Speech-to-text error").check()
    page.get_by_role("button", name="Correct").click()

    # The next item shows, and the batch's progress moved.
    expect(heading).to_have_text("Item 2 of 3")
    expect(page.locator("#item-reason")).to_have_text("Low STT confidence")
    expect(editor).to_have_text("what is a fallopian tube")
    expect(page.locator("#batch-progress-text")).to_have_text("1 of 3 reviewed")
    assert page.evaluate("document.getElementById('batch-progress').value") == 1
    expect(page.locator("#status")).to_contain_text("Item 1 corrected")

    # The correction is on the row and in metadata.json, the original transcript kept.
    row = site.capture("misheard")
    assert row.label == CORRECTED
    assert row.transcript == "what is a fotan"
    metadata = json.loads(site.stored("misheard", "metadata.json"))
    assert metadata["review"]["label"] == CORRECTED
    assert metadata["review"]["status"] == "corrected"
    assert metadata["review"]["tags"] == ["stt_error"]
    assert metadata["transcript"] == "what is a fotan"

    # Back to item 1 with K: the saved correction and the decision show.
    page.keyboard.press("k")
    expect(heading).to_have_text("Item 1 of 3")
    expect(page.locator("#item-status")).to_have_text("corrected")
    expect(page.locator("#label-text")).to_have_text(CORRECTED)
    expect(page.get_by_label("Speech-to-text error")).to_be_checked()
    page.keyboard.press("j")
    expect(heading).to_have_text("Item 2 of 3")
    expect(editor).to_have_text("what is a fallopian tube")

    # Approve item 2 with its button: item 3 shows, its flagged spans highlighted by type.
    page.get_by_role("button", name="Approve").click()
    expect(heading).to_have_text("Item 3 of 3")
    expect(page.locator("#batch-progress-text")).to_have_text("2 of 3 reviewed")
    expect(page.locator("#item-reason")).to_have_text("Personal data check")
    expect(editor.locator("mark[data-type='PERSON']")).to_have_text("John Smith")
    expect(editor.locator("mark[data-type='STREET_ADDRESS']")).to_have_text("12 Elm Street")
    expect(page.locator("#span-list li")).to_have_count(2)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # Redact: mark the name with its button, select the address by dragging, press R.
    page.get_by_role("button", name="Mark PERSON “John Smith” for redaction").click()
    expect(page.locator("#marks-line")).to_have_text("Marked for redaction: “John Smith”")
    box = editor.locator("mark[data-type='STREET_ADDRESS']").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.move(box["x"] + box["width"] - 1, y)
    page.mouse.up()
    assert page.evaluate("getSelection().toString()") == "12 Elm Street"
    page.keyboard.press("r")
    expect(page.locator("#batch-progress-text")).to_have_text("3 of 3 reviewed — complete")
    expect(page.locator("#status")).to_contain_text("Item 3 redacted")
    expect(page.locator("#item-status")).to_have_text("redacted")
    redacted = "I love 🍕 and café, my name is [PERSON] and I live at [STREET_ADDRESS]"
    expect(editor).to_have_text(redacted)
    assert site.capture("personal").transcript == redacted
    assert site.stored("personal", "transcript.txt").decode() == redacted
    assert json.loads(site.stored("personal", "metadata.json"))["transcript"] == redacted

    # Nothing went wrong on the way; logging out forgets the key.
    expect(page.get_by_role("alert")).to_have_text("")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_label("API key")).to_be_focused()
    assert page.evaluate("sessionStorage.getItem('voice-admin-key')") is None
    expect(page.locator("#review")).to_be_hidden()
    assert tab.errors == [], tab.console


def test_a_wrong_key_shows_an_error_and_stays_on_the_login_form(tab: Tab, site: Site) -> None:
    page = tab.page
    log_in(page, site.base, "vsk_not-a-real-key")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("That key was not accepted")
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page.get_by_label("API key")).to_be_focused()
    expect(page.locator("#review")).to_be_hidden()
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('voice-admin-key')") is None

    # The right key then works, and a reload keeps the tab logged in.
    page.get_by_label("API key").fill(site.key)
    page.keyboard.press("Enter")
    expect(page.locator("#item-heading")).to_have_text("Item 1 of 3")
    expect(alert).to_have_text("")
    page.reload()
    expect(page.locator("#item-heading")).to_have_text("Item 1 of 3")
    assert tab.errors == [], tab.console


def test_reject_asks_first_then_deletes_the_capture(tab: Tab, site: Site) -> None:
    page = tab.page
    log_in(page, site.base, site.key)
    heading = page.locator("#item-heading")
    expect(heading).to_have_text("Item 1 of 3")
    page.keyboard.press("j")
    expect(heading).to_have_text("Item 2 of 3")
    expect(page.get_by_role("textbox", name="Transcript")).to_have_text("what is a fallopian tube")
    page.get_by_label("Not speech").check()

    dialog = page.get_by_role("dialog", name="Reject this item?")
    page.keyboard.press("x")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")  # changed my mind: nothing happens
    expect(dialog).to_be_hidden()
    expect(page.locator("#item-status")).to_have_text("pending")
    assert site.capture("doubtful").transcript == "what is a fallopian tube"

    page.keyboard.press("x")
    dialog.get_by_role("button", name="Reject and delete").click()
    # The turn is gone with its items; the next pending item shows and progress counts it.
    expect(page.locator("#status")).to_contain_text("Item 2 rejected")
    expect(heading).to_have_text("Item 2 of 2")
    expect(page.locator("#item-reason")).to_have_text("Personal data check")
    expect(page.locator("#batch-progress-text")).to_have_text("1 of 3 reviewed")
    with session_scope(site.settings) as session:
        assert session.get(Capture, "doubtful") is None
    expect(page.get_by_role("alert")).to_have_text("")
    assert tab.errors == [], tab.console
