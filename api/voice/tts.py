"""Text-to-speech: the base class and its registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

from api.voice.registry import Registry
from core.settings import Settings, VoiceName


class TextToSpeech(ABC):
    """Speaks one sentence at a time as PCM16 chunks of at most ``Settings.tts_chunk_ms``."""

    sample_rate: int
    name: str = "tts"

    @abstractmethod
    def synthesize(self, text: str, voice: VoiceName) -> AsyncIterator[bytes]:
        """Yield mono PCM16 little-endian chunks at ``sample_rate`` as they are produced."""


registry: Registry[TextToSpeech] = Registry("tts")
registry.register("piper", "api.voice.backends.tts_piper:PiperTTS")
registry.register("xtts", "api.voice.backends.tts_xtts:XTTS", extra="xtts")


def load_tts(settings: Settings) -> TextToSpeech:
    """The configured text-to-speech backend, loaded."""
    backend = registry.load(settings.tts_backend)
    return backend(settings)  # type: ignore[call-arg]


def chunk_bytes(sample_rate: int, chunk_ms: int) -> int:
    """Bytes of PCM16 mono audio in one chunk of ``chunk_ms``."""
    return sample_rate * chunk_ms // 1000 * 2
