"""XTTS v2 through coqui-tts (extra ``xtts``).

A local checkpoint directory, voice cloning from a reference WAV of at least 6 s per preset.
GPU in production; not runnable on the build machines (no weights), where tests check only
its missing-extra message.
"""

from __future__ import annotations

import threading
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
from TTS.tts.configs.xtts_config import XttsConfig
from TTS.tts.models.xtts import Xtts

from api.voice.audio import float_to_pcm16, rechunk
from api.voice.threads import iterate_in_thread
from api.voice.tts import TextToSpeech, chunk_bytes
from api.voice.voices import PRESETS
from core.errors import BackendUnavailable
from core.settings import VOICES, Settings, VoiceName

MIN_REFERENCE_S = 6.0


def _reference_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


class XTTS(TextToSpeech):
    """Streams XTTS inference chunks; each preset clones its own reference speaker."""

    sample_rate = 24_000

    def __init__(self, settings: Settings) -> None:
        if settings.xtts_checkpoint_dir is None:
            raise BackendUnavailable("the xtts backend needs VOICE_XTTS_CHECKPOINT_DIR")
        config = XttsConfig()
        config.load_json(str(settings.xtts_checkpoint_dir / "config.json"))
        self.model = Xtts.init_from_config(config)
        self.model.load_checkpoint(config, checkpoint_dir=str(settings.xtts_checkpoint_dir))
        if settings.tts_device == "cuda":
            self.model.cuda()
        self.latents = {}
        for voice in VOICES:
            reference = settings.xtts_speaker_wavs.get(voice)
            if reference is None or _reference_seconds(reference) < MIN_REFERENCE_S:
                raise BackendUnavailable(
                    f"xtts voice {voice!r} needs a reference WAV of at least {MIN_REFERENCE_S:g} s"
                )
            self.latents[voice] = self.model.get_conditioning_latents(audio_path=[str(reference)])
        self.max_chunk = chunk_bytes(self.sample_rate, settings.tts_chunk_ms)
        self._lock = threading.Lock()

    def synthesize(self, text: str, voice: VoiceName) -> AsyncIterator[bytes]:
        """``inference_stream`` yields audio while it decodes."""
        gpt_latent, speaker_embedding = self.latents[voice]

        def audio() -> Iterator[bytes]:
            for piece in self.model.inference_stream(
                text, "en", gpt_latent, speaker_embedding, speed=PRESETS[voice].speed
            ):
                yield from rechunk([float_to_pcm16(np.asarray(piece.cpu()))], self.max_chunk)

        return iterate_in_thread(audio, lock=self._lock)
