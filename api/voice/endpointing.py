"""Deciding when the speaker has finished: Silero VAD's silence, stretched by a classifier.

At each pause the end-of-turn classifier (``turn_detector``) reads the utterance and says
how likely it is to be complete; ``TurnTiming`` turns that into the silence that must follow
before the turn is committed: short when it is sure, up to ``incomplete_turn_silence_ms``
when it says the speaker is mid-sentence. The classifier runs on a thread, once per pause.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import numpy as np

from api.voice.turn_detector import TurnDetector, TurnTiming

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """The classifier's answer at one pause and the silence it asks for."""

    probability: float
    silence_ms: int


class EndOfTurn:
    """Shared by the sessions of a process; keeps no per-session state."""

    def __init__(self, detector: TurnDetector, timing: TurnTiming) -> None:
        self.detector, self.timing = detector, timing

    async def judge(self, audio: np.ndarray, text: str) -> Verdict:
        """The verdict on an utterance whose speaker has just paused."""
        probability = await asyncio.to_thread(self.detector.probability, audio, text)
        verdict = Verdict(probability, self.timing.silence_needed_ms(probability))
        # never the text: what users say stays out of the logs
        log.debug("end of turn: P(complete)=%.2f, wait %d ms", probability, verdict.silence_ms)
        return verdict
