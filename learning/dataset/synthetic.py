"""The synthetic split: science terms in sentences, said by the bundled Piper voice.

The brief's "TTS → STT loop": STT mishears rare science words, so the dataset carries a
separate, labelled split of them that a fine-tune can mix in (or not). Each term is said once
per configured speaking rate (``dataset_synthetic_length_scales``), each time in another
sentence; the speaker column names the voice and rate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from core.settings import Settings
from learning.dataset.options import Progress
from learning.dataset.quality import to_16k
from learning.dataset.terms import Term, science_terms

TEMPLATES = (
    "What is {term}?",
    "Can you explain {term} to me?",
    "Tell me about {term}.",
    "How does {term} work?",
    "I have a question about {term}.",
)


@dataclass(frozen=True)
class Utterance:
    """One synthetic clip and its labels."""

    turn_id: str
    text: str
    domain: str
    speaker: str
    samples: np.ndarray  # int16, 16 kHz


def sentences(term: Term, count: int) -> list[str]:
    """``count`` sentences that say the term, templates chosen by its hash (stable)."""
    start = int(hashlib.sha256(term.text.encode()).hexdigest(), 16) % len(TEMPLATES)
    return [TEMPLATES[(start + n) % len(TEMPLATES)].format(term=term.text) for n in range(count)]


def synthesize(settings: Settings, progress: Progress) -> Iterator[Utterance]:
    """Every term's sentences, spoken; ``progress`` counts them."""
    from piper import PiperVoice, SynthesisConfig

    model, config = settings.resolved_piper_paths()
    voice = PiperVoice.load(model, config_path=config)
    terms = science_terms(settings)
    if settings.dataset_synthetic_max_terms:
        terms = terms[: settings.dataset_synthetic_max_terms]
    scales = settings.dataset_synthetic_length_scales
    total, done = len(terms) * len(scales), 0
    for term in terms:
        for scale, text in zip(scales, sentences(term, len(scales)), strict=True):
            chunks = voice.synthesize(text, SynthesisConfig(length_scale=scale))
            pcm = b"".join(chunk.audio_int16_bytes for chunk in chunks)
            audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32_768
            resampled = to_16k(audio, voice.config.sample_rate)
            samples = np.clip(resampled * 32_768, -32_768, 32_767).astype(np.int16)
            key = hashlib.sha256(f"{model.name}|{scale}|{text}".encode()).hexdigest()[:16]
            done += 1
            progress("synthetic", done, total)
            yield Utterance(
                turn_id=f"synthetic-{key}",
                text=text,
                domain=term.domain,
                speaker=f"piper-{model.stem}-x{scale:g}",
                samples=samples,
            )
