"""A small exported dataset of the `dataset export` format, spoken by the bundled Piper voice.

Science sentences with terms the bundled tiny.en mishears, in three domain slices; the
splits use different sentences (and speakers, as an export's splits would). The format is
the export's: a ``DatasetDict`` saved with ``save_to_disk``; columns ``audio`` (16 kHz FLAC
bytes, ``Audio(sampling_rate=16000)``), ``text``, ``original_text``, ``domain``, ``intent``,
``speaker``, ``duration``, ``turn_id``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

# domain -> terms tiny.en mishears from this voice ("plank", "that a Gadrow", "Rebo so", ...)
TERMS = {
    "physics": ["Planck", "Coulomb"],
    "chemistry": ["Avogadro", "enthalpy"],
    "biology": ["ribosome", "chloroplast"],
    "astronomy": ["the Moon", "a planet"],  # heard right already: a slice that must not worsen
}
TRAIN_TEMPLATES = [
    "{t} is a word every student should know.",
    "Tell me more about {t}.",
    "What does {t} mean?",
    "Can you explain {t} in simple words?",
]
DEV_TEMPLATES = ["Please define {t} for me."]
TEST_TEMPLATES = ["Who first described {t}?", "Why is {t} important?"]
# (speaker, length_scale, noise_scale, noise_w_scale): one "user" per voice setting
SPEAKERS = {
    "train": [("joe-a", 1.0, 0.667, 0.8), ("joe-b", 1.1, 0.5, 0.6)],
    "dev": [("joe-c", 0.95, 0.7, 0.9)],
    "test": [("joe-d", 1.05, 0.6, 0.7)],
}


def _speak(voice: Any, text: str, speaker: tuple[str, float, float, float]) -> np.ndarray:
    from piper import SynthesisConfig
    from scipy.signal import resample_poly

    _, length, noise, noise_w = speaker
    config = SynthesisConfig(length_scale=length, noise_scale=noise, noise_w_scale=noise_w)
    pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text, config))
    audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768
    rate = voice.config.sample_rate
    return resample_poly(audio, 16_000, rate).astype(np.float32) if rate != 16_000 else audio


def _flac(audio: np.ndarray) -> bytes:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, audio, 16_000, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def rows_for(split: str, voice: Any, templates: list[str]) -> list[dict[str, Any]]:
    """Every (template, term, speaker) of a split, spoken."""
    rows = []
    for domain, terms in TERMS.items():
        for term in terms:
            for index, template in enumerate(templates):
                speaker = SPEAKERS[split][index % len(SPEAKERS[split])]
                text = template.format(t=term)
                audio = _speak(voice, text, speaker)
                turn_id = f"{split}-{term.lower()}-{index}"
                rows.append(
                    {
                        "audio": {"bytes": _flac(audio), "path": f"{turn_id}.flac"},
                        "text": text,
                        "original_text": text.lower(),
                        "domain": domain,
                        "intent": "scientific_query",
                        "speaker": speaker[0],
                        "duration": round(audio.size / 16_000, 3),
                        "turn_id": turn_id,
                    }
                )
    return rows


def build_dataset(
    out: Path, piper_paths: tuple[Path, Path], splits: tuple[str, ...] = ("train", "dev", "test")
) -> Path:
    """Write the dataset folder (``splits`` chooses which; a missing train split tests errors)."""
    import onnxruntime
    from datasets import Audio, Dataset, DatasetDict, Features, Value
    from piper import PiperVoice

    # Piper's noise is drawn by the ONNX graph; a seed set before the session is made fixes
    # it, so every run speaks the same dataset (and a fine-tune on it learns the same thing).
    onnxruntime.set_seed(0)
    voice = PiperVoice.load(piper_paths[0], config_path=piper_paths[1])
    features = Features(
        {
            "audio": Audio(sampling_rate=16_000),
            "text": Value("string"),
            "original_text": Value("string"),
            "domain": Value("string"),
            "intent": Value("string"),
            "speaker": Value("string"),
            "duration": Value("float32"),
            "turn_id": Value("string"),
        }
    )
    templates = {"train": TRAIN_TEMPLATES, "dev": DEV_TEMPLATES, "test": TEST_TEMPLATES}
    # Stored as the plain struct first, then cast: encoding through Audio needs torchcodec.
    raw = Features({**features, "audio": {"bytes": Value("binary"), "path": Value("string")}})
    parts = {}
    for split in splits:
        rows = rows_for(split, voice, templates[split])
        columns = {name: [row[name] for row in rows] for name in features}
        dataset = Dataset.from_dict(columns, features=raw)
        parts[split] = dataset.cast_column("audio", Audio(sampling_rate=16_000))
    DatasetDict(parts).save_to_disk(str(out))
    return out


def relabel(source: Path, out: Path, wrong: dict[str, str], split: str = "train") -> Path:
    """A copy of ``source`` whose ``split`` labels say ``wrong[term]`` where the audio says term.

    A fine-tune on it learns a mistake: the promotion gate must catch the slice it worsens.
    """
    from datasets import Audio, load_from_disk

    splits = load_from_disk(str(source))
    part = splits[split].cast_column("audio", Audio(decode=False))

    def mislabel(row: dict[str, Any]) -> dict[str, Any]:
        text = row["text"]
        for term, replacement in wrong.items():
            text = text.replace(term, replacement)
        return {"text": text}

    part = part.map(mislabel, keep_in_memory=True)  # no cache file in the source folder
    part = part.cast_column("audio", Audio(sampling_rate=16_000))
    splits[split] = part
    splits.save_to_disk(str(out))
    return out
