"""Fake backends for fast, deterministic session tests: a scripted timeline instead of speech.

These stand in for the models only to test the session's state machine (utterances,
partials, end of turn, merges, barge-in) in milliseconds; every behaviour they stand in for
is also tested with the real models elsewhere.

A ``Script`` makes audio in which each phrase is a constant "voiced" level of its own: the
fake VAD hears any level as speech, the fake STT maps each voiced run back to its phrase by
its level, and the fake turn detector says "complete" unless the words so far end with a
phrase the script marks as unfinished. They register through the stages' own registries
under the name ``fake``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from api.voice import llm, nlu, stt, tts, turn_detector
from api.voice.llm import LanguageModel
from api.voice.nlu import LanguageUnderstanding
from api.voice.stt import SpeechToText
from api.voice.tts import TextToSpeech
from api.voice.turn_detector import TurnDetector
from core.messages import ChatMessage, NLUResult, Transcript, Word
from core.settings import Settings, VoiceName

RATE = 16_000
FRAME = 512
_LEVEL_STEP = 0.01  # phrase i is a constant level of (i + 2) * _LEVEL_STEP


@dataclass
class Script:
    """A timeline of phrases and pauses, as audio the fakes understand."""

    phrases: ClassVar[list[str]] = []  # by level index; shared with the fake STT
    unfinished: ClassVar[set[str]] = set()  # phrases after which the detector says "incomplete"
    parts: list[np.ndarray] = field(default_factory=list)

    def say(self, text: str, seconds: float, *, unfinished: bool = False) -> Script:
        """``text`` spoken for ``seconds``."""
        if text not in Script.phrases:
            Script.phrases.append(text)
        if unfinished:
            Script.unfinished.add(text)
        level = (Script.phrases.index(text) + 2) * _LEVEL_STEP
        self.parts.append(np.full(int(seconds * RATE), level, np.float32))
        return self

    def pause(self, seconds: float) -> Script:
        """Silence."""
        self.parts.append(np.zeros(int(seconds * RATE), np.float32))
        return self

    def audio(self) -> np.ndarray:
        """The whole timeline at 16 kHz."""
        return np.concatenate(self.parts)


def _runs(audio: np.ndarray) -> list[tuple[int, int, float]]:
    """(start, end, level) of each constant voiced run in ``audio``."""
    runs: list[tuple[int, int, float]] = []
    voiced = np.abs(audio) >= _LEVEL_STEP
    start = None
    for index in range(audio.size + 1):
        on = index < audio.size and voiced[index]
        same = on and start is not None and abs(audio[index] - audio[start]) < _LEVEL_STEP / 2
        if start is not None and not same:
            runs.append((start, index, float(audio[start])))
            start = None
        if on and start is None:
            start = index
    return runs


def phrase_at(level: float) -> str:
    """The phrase a voiced level stands for."""
    index = round(level / _LEVEL_STEP) - 2
    return Script.phrases[index] if 0 <= index < len(Script.phrases) else ""


class FakeVAD:
    """Voiced wherever the timeline says something (the shared model of ``SileroVAD``)."""

    def stream(self) -> FakeVadStream:
        """Per-session state."""
        return FakeVadStream()


@dataclass
class FakeVadStream:
    """One probability per 32 ms frame: 1.0 when the frame holds a phrase, else 0.0."""

    pending: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def push(self, audio: np.ndarray) -> list[float]:
        """Probabilities for the frames completed by ``audio``."""
        self.pending = np.concatenate([self.pending, audio])
        out = []
        while self.pending.size >= FRAME:
            frame, self.pending = self.pending[:FRAME], self.pending[FRAME:]
            out.append(1.0 if np.abs(frame).max() >= _LEVEL_STEP else 0.0)
        return out


class FakeSTT(SpeechToText):
    """Transcribes each voiced run to its phrase (at least a third of it must be there)."""

    calls: ClassVar[list[str]] = []  # every final text, for tests that count passes

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def transcribe(
        self, audio: np.ndarray, *, hotwords: list[str] | None = None, prompt: str | None = None
    ) -> AsyncIterator[Transcript]:
        """One segment with the phrases of ``audio``, words spread over their runs."""
        await asyncio.sleep(0)
        words: list[Word] = []
        for start, end, level in _runs(audio):
            phrase = phrase_at(level)
            if not phrase or (end - start) < 0.1 * RATE:
                continue
            tokens = phrase.split()
            step = (end - start) / RATE / len(tokens)
            for i, token in enumerate(tokens):
                begin = start / RATE + i * step
                words.append(Word(text=token, start=begin, end=begin + step, probability=1.0))
        text = " ".join(w.text for w in words)
        FakeSTT.calls.append(text)
        if text:
            yield Transcript(text=text, words=words, avg_logprob=-0.1, duration_s=audio.size / RATE)


class FakeTurnDetector(TurnDetector):
    """P(complete) is 0.05 after a phrase the script marks unfinished, else 0.99."""

    name = "fake"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def probability(self, audio: np.ndarray, text: str = "") -> float:
        """Read from the script."""
        unfinished = any(text.endswith(phrase) for phrase in Script.unfinished)
        return 0.05 if unfinished else 0.99


class FakeNLU(LanguageUnderstanding):
    """Every utterance is a physics question."""

    def __init__(self, settings: Settings, model: LanguageModel | None = None) -> None:
        self.settings = settings

    async def _understand(self, text: str) -> NLUResult:
        """A fixed reading."""
        return NLUResult(intent="scientific_query", domain="physics", entities=[])


class FakeLLM(LanguageModel):
    """Answers "You said: <the last user message>." one word at a time."""

    name = "fake"
    delay_s: ClassVar[float] = 0.0  # per piece: how long "generation" takes

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def generate(self, messages: list[ChatMessage], *, max_tokens: int) -> AsyncIterator[str]:
        """The reply, piece by piece."""
        for piece in f"You said: {messages[-1].content}.".split(" "):
            await asyncio.sleep(FakeLLM.delay_s)
            yield piece + " "

    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, Any], *, max_tokens: int = 96
    ) -> str:
        """A fixed, schema-valid reading."""
        return json.dumps({"intent": "scientific_query", "domain": "physics", "entities": []})


class FakeTTS(TextToSpeech):
    """0.25 s of quiet audio per word, in 100 ms chunks."""

    sample_rate = RATE
    name = "fake"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def synthesize(self, text: str, voice: VoiceName) -> AsyncIterator[bytes]:
        """Chunks of silence as long as the sentence would take."""
        samples = int(0.25 * RATE * len(text.split()))
        for start in range(0, samples, RATE // 10):
            await asyncio.sleep(0)
            yield b"\x00\x00" * min(RATE // 10, samples - start)


stt.registry.register("fake", "tests.utils.fakes:FakeSTT")
nlu.registry.register("fake", "tests.utils.fakes:FakeNLU")
llm.registry.register("fake", "tests.utils.fakes:FakeLLM")
tts.registry.register("fake", "tests.utils.fakes:FakeTTS")
turn_detector.registry.register("fake", "tests.utils.fakes:FakeTurnDetector")


def fake_settings(settings: Settings, **overrides: Any) -> Settings:
    """``settings`` with every model stage faked, and the answer always the fake LLM's (no
    action answers by itself: the fact store would answer "how many moons" on its own)."""
    return settings.model_copy(
        update={
            "stt_backend": "fake",
            "nlu_backend": "fake",
            "llm_backend": "fake",
            "tts_backend": "fake",
            "turn_detector": "fake",
            "actions": {"scientific_query": [], "unit_conversion": [], "other": []},
            "correct_transcripts": False,
            # answers and speech come from the fakes every time (tests of caches turn them on)
            "response_cache": False,
            "speech_cache": False,
            **overrides,
        }
    )
