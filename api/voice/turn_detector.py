"""End of turn: a model says whether the speaker has finished; the silence needed follows it.

The default model is Pipecat's smart-turn v3.2 (BSD-2-Clause), an 8 MB ONNX classifier over
Whisper log-mel features of the last 8 s of the utterance, shipped inside the ``pipecat-ai``
wheel. Only the file is used: it is located through the package's installed file list,
without importing ``pipecat`` (which would pull in its own frameworks). The features are
computed here with numpy, as Pipecat's ``_whisper_features.py`` does (itself a copy of
``transformers.WhisperFeatureExtractor(chunk_length=8)``).

The classifier answers at each pause of the speaker (about 30 ms of CPU on 2 cores); the
silence that then ends the turn is short when it says "complete" with confidence and long
when it says "incomplete" (``TurnTiming``). A model that fails to load is an error at
start-up naming ``VOICE_TURN_MODEL_PATH``, never a silent fallback to word rules.
"""

from __future__ import annotations

import importlib.metadata
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from api.voice.registry import Registry
from core.audio import SAMPLE_RATE
from core.errors import BackendUnavailable
from core.settings import Settings

WINDOW_S = 8  # the model reads the last 8 s of the utterance
SMART_TURN_PACKAGE = "pipecat-ai"
SMART_TURN_FILE = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"


@dataclass(frozen=True)
class TurnTiming:
    """Silence (ms) that ends a turn, given the classifier's probability that it is complete.

    At or above ``sure`` the short wait applies; at or below ``unsure`` the long one; in
    between the wait falls linearly from long to short. At or below ``hesitant`` (words cut
    off mid-phrase: "um", "what is the") the longest applies: people pause longest there.
    """

    complete_ms: int = 300
    incomplete_ms: int = 1300
    sure: float = 0.95
    unsure: float = 0.9
    hesitant_ms: int = 2000
    hesitant: float = 0.1

    def silence_needed_ms(self, probability: float) -> int:
        """The trailing silence after which an utterance with this probability is finished."""
        if probability >= self.sure:
            return self.complete_ms
        if probability <= self.hesitant:
            return self.longest_ms
        if probability <= self.unsure:
            return self.incomplete_ms
        share = (probability - self.unsure) / (self.sure - self.unsure)
        return round(self.incomplete_ms - share * (self.incomplete_ms - self.complete_ms))

    @property
    def longest_ms(self) -> int:
        """The longest silence any utterance may need."""
        return max(self.hesitant_ms, self.incomplete_ms)

    @classmethod
    def from_settings(cls, settings: Settings) -> TurnTiming:
        """The timing configured in ``settings``."""
        return cls(
            complete_ms=settings.end_of_turn_silence_ms,
            incomplete_ms=settings.incomplete_turn_silence_ms,
            sure=settings.turn_complete_probability,
            unsure=settings.turn_incomplete_probability,
            hesitant_ms=settings.hesitant_turn_silence_ms,
            hesitant=settings.turn_hesitant_probability,
        )


class TurnDetector(ABC):
    """Says how likely it is that the speaker has finished, from the utterance's audio."""

    name: str = "turn"

    @abstractmethod
    def probability(self, audio: np.ndarray, text: str = "") -> float:
        """P(the turn is complete) for 16 kHz mono float32 ``audio`` (blocking: run on a thread).

        ``text`` is the transcript so far, for detectors that read words; it may be empty.
        """


def smart_turn_path(settings: Settings) -> Path:
    """The ONNX file: ``VOICE_TURN_MODEL_PATH``, else the one inside the ``pipecat-ai`` wheel."""
    if settings.turn_model_path is not None:
        return settings.turn_model_path
    try:
        distribution = importlib.metadata.distribution(SMART_TURN_PACKAGE)
    except importlib.metadata.PackageNotFoundError as exc:
        raise BackendUnavailable(
            f"VOICE_TURN_MODEL_PATH is unset and {SMART_TURN_PACKAGE} (which ships the "
            "smart-turn model) is not installed: pip install 'voice-service[turn-audio]'"
        ) from exc
    return Path(str(distribution.locate_file(SMART_TURN_FILE)))


class SmartTurn(TurnDetector):
    """Pipecat's smart-turn v3 ONNX model on CPU; one session shared by every voice session."""

    name = "smart-turn-v3.2"

    def __init__(self, settings: Settings) -> None:
        import onnxruntime

        path = smart_turn_path(settings)
        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), providers=["CPUExecutionProvider"], sess_options=options
            )
        except Exception as exc:  # a missing or corrupt file: onnxruntime's own errors vary
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
            raise BackendUnavailable(
                f"VOICE_TURN_MODEL_PATH: the end-of-turn model {path} could not be loaded "
                f"({first_line})"
            ) from exc
        self.input_name = self.session.get_inputs()[0].name
        self._lock = threading.Lock()

    def probability(self, audio: np.ndarray, text: str = "") -> float:
        """P(complete) for the last 8 s of ``audio`` (zero-padded in front when shorter)."""
        window = WINDOW_S * SAMPLE_RATE
        audio = np.asarray(audio, np.float32)[-window:]
        audio = np.pad(audio, (window - audio.size, 0))
        features = log_mel(audio)[None, :, :]
        with self._lock:
            (out,) = self.session.run(None, {self.input_name: features})[:1]
        return float(np.asarray(out).reshape(-1)[0])


# ---- Whisper log-mel features (80 bins, 25 ms windows every 10 ms) --------------------------

_N_FFT, _HOP, _N_MELS = 400, 160, 80


def _hz_to_mel(freq: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    freq = np.asarray(freq, np.float64)
    mels = 3.0 * freq / 200.0
    log_region = freq >= 1000.0
    mels[log_region] = 15.0 + np.log(freq[log_region] / 1000.0) * (27.0 / np.log(6.4))
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    mels = np.asarray(mels, np.float64)
    freq = 200.0 * mels / 3.0
    log_region = mels >= 15.0
    freq[log_region] = 1000.0 * np.exp(np.log(6.4) / 27.0 * (mels[log_region] - 15.0))
    return freq


def _mel_filters() -> np.ndarray:
    """Slaney-normalised triangular filters, shape (n_fft // 2 + 1, 80)."""
    low, high = _hz_to_mel(np.array([0.0, SAMPLE_RATE / 2]))
    mel_points = np.linspace(float(low), float(high), _N_MELS + 2)
    filter_freqs = _mel_to_hz(mel_points)
    fft_freqs = np.linspace(0, SAMPLE_RATE // 2, _N_FFT // 2 + 1)
    slopes = filter_freqs[None, :] - fft_freqs[:, None]
    widths = np.diff(filter_freqs)
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(down, up))
    return filters * (2.0 / (filter_freqs[2:] - filter_freqs[:-2]))[None, :]


_FILTERS = _mel_filters()
_WINDOW = np.hanning(_N_FFT + 1)[:-1]  # periodic Hann, as torch.hann_window


def log_mel(audio: np.ndarray) -> np.ndarray:
    """Whisper's normalised log-mel spectrogram of 8 s of audio: float32 (80, 800)."""
    x = np.asarray(audio, np.float32)
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)  # zero mean, unit variance first
    padded = np.pad(x.astype(np.float64), (_N_FFT // 2, _N_FFT // 2), mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, _N_FFT)[::_HOP]
    power = np.abs(np.fft.rfft(frames * _WINDOW, axis=-1)) ** 2
    mel = np.maximum(1e-10, power @ _FILTERS).T
    spec = np.log10(mel)[:, :-1]
    spec = np.maximum(spec, spec.max() - 8.0)
    return ((spec + 4.0) / 4.0).astype(np.float32)


registry: Registry[TurnDetector] = Registry("turn detector")
registry.register("smart_turn", "api.voice.turn_detector:SmartTurn")
registry.register("text", "api.voice.turn_text:TextTurnClassifier")
registry.register("combined", "api.voice.turn_text:Combined")


def load_turn_detector(settings: Settings) -> TurnDetector:
    """The configured end-of-turn classifier, loaded (fails with one line naming the setting)."""
    backend = registry.load(settings.turn_detector)
    return backend(settings)  # type: ignore[call-arg]
