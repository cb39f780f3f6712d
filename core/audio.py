"""The audio format the service speaks inward: PCM16 little-endian, mono, 16 kHz.

The microphone stream, speech-to-text, the spool and the stored FLAC all use it; text-to-speech
answers at its voice's own rate.
"""

from __future__ import annotations

SAMPLE_RATE = 16_000  # samples per second
SAMPLE_BYTES = 2  # PCM16
