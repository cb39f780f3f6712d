"""The user's audio, one utterance at a time: frames in, VAD per 32 ms, the utterance kept.

Between utterances the recorder keeps ``PREROLL_S`` of audio, so an utterance starts a
little before its first voiced frame (Silero needs a frame or two to be sure). It does not
decide when an utterance starts or ends: the session does, on what ``hear`` says.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np

from api.voice.audio import pcm16_to_float
from api.voice.vad import SileroVAD, SpeechTracker
from core.audio import SAMPLE_RATE

PREROLL_S = 0.3  # audio kept from before the first voiced frame


class UtteranceRecorder:
    """Per session: the VAD's state, the pre-roll, and the utterance being recorded."""

    def __init__(self, vad: SileroVAD, *, threshold: float, max_s: float) -> None:
        self.vad = vad.stream()
        self.tracker = SpeechTracker(threshold=threshold)
        self.max_samples = max_s * SAMPLE_RATE
        self.preroll: list[np.ndarray] = []
        self.chunks: list[np.ndarray] | None = None  # the utterance, while one is recorded
        self.samples = 0  # in ``chunks``
        self.last_frame_at = time.monotonic()  # when the last frame was received
        self.speech_end = 0.0  # perf_counter of the last voiced VAD frame

    @property
    def recording(self) -> bool:
        """Whether an utterance is being recorded."""
        return self.chunks is not None

    async def push(self, pcm: bytes) -> list[float]:
        """Take one frame of PCM16; the speech probability of each VAD frame it completes.

        The frame is kept (in the utterance or the pre-roll) before the caller hears the
        probabilities, so an utterance started by them includes it.
        """
        self.last_frame_at = time.monotonic()  # received: it may wait for the VAD a while
        audio = pcm16_to_float(pcm)
        probabilities = await asyncio.to_thread(self.vad.push, audio)
        self._keep(audio)
        return probabilities

    def hear(self, probability: float) -> bool:
        """Account for one VAD frame; whether it was voiced."""
        voiced = self.tracker.update(probability)
        if voiced:
            self.speech_end = time.perf_counter()
        return voiced

    def start(self) -> bool:
        """Start an utterance from the pre-roll, unless one is under way; True if started."""
        if self.chunks is not None:
            return False
        self.chunks, self.preroll = self.preroll, []
        self.samples = sum(a.size for a in self.chunks)
        return True

    def audio(self) -> np.ndarray:
        """The utterance so far (empty when none)."""
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)

    def stop(self) -> np.ndarray:
        """End the utterance; its audio. Frames from now on go to the pre-roll."""
        audio = self.audio()
        self.chunks = None
        return audio

    def prepend(self, pcm: bytes) -> None:
        """Put earlier speech (PCM16) before the utterance under way: a resumed turn."""
        assert self.chunks is not None
        self.chunks.insert(0, pcm16_to_float(pcm))
        self.samples += len(pcm) // 2

    def too_long(self) -> bool:
        """Whether the utterance under way is over the maximum length."""
        return self.chunks is not None and self.samples > self.max_samples

    def _keep(self, audio: np.ndarray) -> None:
        if self.chunks is not None:
            self.chunks.append(audio)
            self.samples += audio.size
            return
        self.preroll.append(audio)
        while sum(a.size for a in self.preroll[1:]) > PREROLL_S * SAMPLE_RATE:
            self.preroll.pop(0)
