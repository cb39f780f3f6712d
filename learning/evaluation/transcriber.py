"""A Whisper (CTranslate2) transcriber for evaluation, from a model folder; no service needed.

It decodes as the live service does (``api/voice/backends/stt_faster_whisper``): greedy or
the configured beam, no temperature fallback unless set, no VAD filter, no previous-text
conditioning, so figures measure the model the service would run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.settings import Settings, get_settings


class WhisperTranscriber:
    """``transcriber(audio) -> text`` for 16 kHz mono float32 audio."""

    def __init__(
        self,
        model_path: Path,
        *,
        settings: Settings | None = None,
        version: str | None = None,
    ) -> None:
        from faster_whisper import WhisperModel

        self.settings = settings or get_settings()
        if not (model_path / "model.bin").is_file():
            from learning.evaluation.sets import BadEvalSet

            raise BadEvalSet(f"{model_path} is not a CTranslate2 Whisper folder (no model.bin)")
        self.model = WhisperModel(
            str(model_path),
            device=self.settings.stt_device,
            compute_type=self.settings.stt_compute_type,
            cpu_threads=self.settings.stt_cpu_threads or 2,
            local_files_only=True,
        )
        self.version = version or f"faster_whisper:{model_path.name}"

    def __call__(self, audio: np.ndarray) -> str:
        """The whole audio's text."""
        settings = self.settings
        segments, _info = self.model.transcribe(
            audio,
            language=settings.stt_language,
            beam_size=settings.stt_beam_size,
            hotwords=" ".join(settings.stt_hotwords) or None,
            condition_on_previous_text=False,
            temperature=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
            if settings.stt_temperature_fallback
            else 0.0,
            vad_filter=False,
        )
        return " ".join(s.text.strip() for s in segments).strip()  # lazy: this does the work
