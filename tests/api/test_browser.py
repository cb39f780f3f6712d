"""The browser client end to end: Chromium, its fake microphone playing JFK, the real service."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from api.app import create_app
from api.voice.audio import decode_audio, float_to_pcm16
from api.voice.models import Models
from core.settings import Settings
from tests.conftest import speech_clip
from tests.utils.browser import Tab, chromium, new_tab, playwright_or_skip
from tests.utils.server import serve_app

FAKE_MIC_RATE = 48_000
JFK_WORDS = "ask not what your country can do for you"
SCREENSHOT = Path("/tmp/voice-page.png")

sync_api = playwright_or_skip()


@pytest.fixture(scope="module")
def fake_mic_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JFK's clip with 3 s of silence after it, as 16-bit mono 48 kHz WAV (what Chromium reads)."""
    speech = decode_audio(speech_clip("jfk.flac"), max_seconds=60)
    audio = np.concatenate([speech, np.zeros(3 * 16_000, np.float32)])
    target = np.linspace(0, audio.size - 1, audio.size * FAKE_MIC_RATE // 16_000)
    resampled = np.interp(target, np.arange(audio.size), audio).astype(np.float32)
    path = tmp_path_factory.mktemp("mic") / "jfk-48k.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(FAKE_MIC_RATE)
        wav.writeframes(float_to_pcm16(resampled))
    return path


@pytest.fixture(scope="module")
def base_url(settings: Settings, models: Models) -> Iterator[str]:
    with serve_app(create_app(settings, models=models)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(fake_mic_wav: Path) -> Iterator[Any]:
    fake_mic = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        # %noloop: play the clip once, then silence (a second JFK would barge in)
        f"--use-file-for-fake-audio-capture={fake_mic_wav}%noloop",
    ]
    with chromium(fake_mic) as launched:
        yield launched


class VoiceTab(Tab):
    """The voice page, with a wait that reports what the page shows when it times out."""

    def wait_for(self, script: str, what: str, timeout_s: float, arg: Any = None) -> None:
        """Wait until ``script`` is truthy in the page; on a timeout, fail with what it shows."""
        try:
            self.page.wait_for_function(script, arg=arg, timeout=timeout_s * 1000, polling=200)
        except sync_api.TimeoutError:
            status = self.page.locator("#status").text_content()
            log = self.page.locator("#transcript-log").inner_text()
            pytest.fail(
                f"no {what} within {timeout_s:g} s; status: {status!r}; log: {log!r}; "
                f"page errors: {self.errors}; console: {self.console[-20:]}"
            )


@pytest.fixture
def tab(browser: Any) -> Iterator[VoiceTab]:
    options = {"permissions": ["microphone"], "viewport": {"width": 1000, "height": 900}}
    with new_tab(browser, **options) as opened:
        yield VoiceTab(opened.page, opened.errors, opened.console)


def test_a_spoken_question_is_transcribed_answered_and_played(tab: VoiceTab, base_url: str) -> None:
    page = tab.page
    page.goto(f"{base_url}/")
    dialog = page.locator("#consent-dialog")
    sync_api.expect(dialog).to_be_visible()
    sync_api.expect(dialog).to_contain_text("Help Improve Voice Quality")
    sync_api.expect(dialog.get_by_role("link", name="Learn More")).to_have_attribute(
        "href", "/policy.html"
    )
    page.click("#consent-allow")
    sync_api.expect(dialog).to_be_hidden()

    page.click("#start")
    tab.wait_for(
        """(words) => [...document.querySelectorAll('#transcript-log .user-text')]
            .some((el) => el.textContent.toLowerCase().replace(/,/g, '').includes(words))""",
        "transcript of JFK's words",
        60,
        arg=JFK_WORDS,
    )
    tab.wait_for(
        """() => [...document.querySelectorAll('#transcript-log .assistant-text')]
                .some((el) => el.textContent.trim() !== '')
            && window.voiceDebug.audioChunksPlayed > 0
            && window.voiceDebug.lastTurnEnd !== null""",
        "spoken answer",
        60,
    )

    turn_end = page.evaluate("window.voiceDebug.lastTurnEnd")
    assert turn_end["type"] == "turn_end" and turn_end["latency"]["first_audio_ms"] > 0
    assert page.evaluate("localStorage.getItem('voice-consent')") == "granted"
    sync_api.expect(page.locator("#consent-toggle")).to_be_checked()
    sync_api.expect(page.locator(".turn-meta").first).to_contain_text("ms")
    thumbs_up = page.locator("#transcript-log .turn").last.locator(".thumb.up")
    thumbs_up.click()
    sync_api.expect(thumbs_up).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(300)  # an unknown_turn error would show by now
    sync_api.expect(page.locator("#status")).not_to_contain_text("Error")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.click("#start")  # Stop
    sync_api.expect(page.locator("#start")).to_have_text("Start")
    assert tab.errors == []


def test_denied_consent_is_remembered(tab: VoiceTab, base_url: str) -> None:
    page = tab.page
    page.goto(f"{base_url}/")
    dialog = page.locator("#consent-dialog")
    sync_api.expect(dialog).to_be_visible()
    page.click("#consent-deny")
    sync_api.expect(dialog).to_be_hidden()
    assert page.evaluate("localStorage.getItem('voice-consent')") == "denied"
    sync_api.expect(page.locator("#consent-toggle")).not_to_be_checked()

    page.reload()
    page.wait_for_function("() => window.voiceDebug !== undefined")
    assert page.evaluate("document.getElementById('consent-dialog').open") is False
    sync_api.expect(dialog).to_be_hidden()
    assert page.evaluate("localStorage.getItem('voice-consent')") == "denied"
    sync_api.expect(page.locator("#consent-toggle")).not_to_be_checked()

    page.locator("#consent-toggle").check()
    assert page.evaluate("localStorage.getItem('voice-consent')") == "granted"
    page.locator("#consent-toggle").uncheck()
    assert page.evaluate("localStorage.getItem('voice-consent')") == "denied"
    sync_api.expect(page.locator("#consent-note")).to_contain_text("erased")

    policy = page.request.get(f"{base_url}/policy.html")
    assert policy.ok and "90 days" in policy.text()
    assert tab.errors == []
