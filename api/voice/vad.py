"""Frame-by-frame voice activity detection with the Silero model bundled in faster-whisper.

One ONNX session is shared by every session (``run`` is thread-safe); each live session
keeps its own recurrent state in a ``VadStream``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from core.audio import SAMPLE_RATE

FRAME_SAMPLES = 512  # 32 ms at 16 kHz: the frame Silero v6 is trained on
FRAME_MS = FRAME_SAMPLES * 1000 // SAMPLE_RATE
_CONTEXT = 64


class SileroVAD:
    """The shared model."""

    def __init__(self) -> None:
        import onnxruntime
        from faster_whisper.vad import get_assets_path

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        self.session = onnxruntime.InferenceSession(
            os.path.join(get_assets_path(), "silero_vad_v6.onnx"),
            providers=["CPUExecutionProvider"],
            sess_options=options,
        )

    def stream(self) -> VadStream:
        """Fresh per-session state."""
        return VadStream(self)


@dataclass
class VadStream:
    """Feeds audio of any length; returns one speech probability per complete 32 ms frame."""

    model: SileroVAD
    h: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 128), np.float32))
    c: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 128), np.float32))
    context: np.ndarray = field(default_factory=lambda: np.zeros(_CONTEXT, np.float32))
    pending: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def push(self, audio: np.ndarray) -> list[float]:
        """Probabilities for the frames completed by ``audio`` (about 0.1 ms of CPU each)."""
        self.pending = np.concatenate([self.pending, audio.astype(np.float32)])
        probabilities = []
        while self.pending.size >= FRAME_SAMPLES:
            frame, self.pending = self.pending[:FRAME_SAMPLES], self.pending[FRAME_SAMPLES:]
            window = np.concatenate([self.context, frame])[None, :]
            out, self.h, self.c = self.model.session.run(
                None, {"input": window, "h": self.h, "c": self.c}
            )
            self.context = frame[-_CONTEXT:]
            probabilities.append(float(np.asarray(out).reshape(-1)[0]))
        return probabilities


@dataclass
class SpeechTracker:
    """Turns frame probabilities into voiced and silent stretches, with hysteresis.

    A frame is voiced above ``threshold``; once in speech, it stays voiced until the
    probability falls under ``threshold - 0.15`` (Silero's recommended hysteresis).
    """

    threshold: float = 0.5
    in_speech: bool = False
    voiced_run_ms: int = 0  # voiced audio in the current run of speech
    silence_ms: int = 0  # silence since the last voiced frame
    frames: int = 0  # frames seen in total
    last_voiced_frame: int = -1

    def update(self, probability: float) -> bool:
        """Account for one frame; returns whether it was voiced."""
        self.frames += 1
        limit = self.threshold - 0.15 if self.in_speech else self.threshold
        voiced = probability >= limit
        if voiced:
            self.in_speech = True
            self.voiced_run_ms += FRAME_MS
            self.silence_ms = 0
            self.last_voiced_frame = self.frames - 1
        else:
            self.in_speech = False
            self.silence_ms += FRAME_MS
            if self.silence_ms >= 3 * FRAME_MS:  # a short dip does not reset a run
                self.voiced_run_ms = 0
        return voiced
