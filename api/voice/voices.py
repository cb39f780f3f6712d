"""The three voice presets.

Piper varies rate, expressiveness and pauses; XTTS also clones a reference speaker per preset.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import VoiceName


@dataclass(frozen=True)
class VoicePreset:
    """How one preset sounds."""

    length_scale: float  # > 1 slower
    noise_scale: float  # generator noise: expressiveness
    noise_w_scale: float  # phoneme-duration noise: rhythm variation
    sentence_pause_s: float  # silence after each sentence
    volume: float
    speed: float  # XTTS speaking rate


PRESETS: dict[VoiceName, VoicePreset] = {
    # Calm, even, measured.
    "professional": VoicePreset(1.0, 0.45, 0.5, 0.35, 0.9, 1.0),
    # Quicker, livelier, shorter pauses.
    "friendly": VoicePreset(0.88, 0.8, 0.9, 0.2, 1.0, 1.1),
    # Slow and precise, long pauses between sentences for numbers to sink in.
    "technical": VoicePreset(1.18, 0.3, 0.35, 0.6, 0.85, 0.9),
}
