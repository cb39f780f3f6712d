"""The exported dataset (a ``datasets`` folder) as Whisper features and token ids.

The export's format: a ``DatasetDict`` saved with ``save_to_disk``, splits ``train``, ``dev``,
``test``, columns ``audio`` (``Audio(sampling_rate=16000)``), ``text``, ``original_text``,
``domain``, ``intent``, ``speaker``, ``duration``, ``turn_id``. Audio is read without the
``datasets`` decoder (which needs torchcodec): the stored bytes or file go through PyAV.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.audio import SAMPLE_RATE
from learning.errors import LearningError

REQUIRED_COLUMNS = ("audio", "text")


@dataclass
class Clip:
    """One utterance: 16 kHz audio, its label, its domain slice."""

    audio: np.ndarray
    text: str
    domain: str
    turn_id: str


def load_splits(path: Path) -> dict[str, Any]:
    """The dataset's splits, checked: a train split and the columns training needs."""
    if not (path / "dataset_dict.json").is_file():
        raise LearningError(f"{path} is not a dataset folder (no dataset_dict.json)")
    from datasets import Audio, load_from_disk

    splits = load_from_disk(str(path))
    if "train" not in splits or len(splits["train"]) == 0:
        raise LearningError(f"dataset {path} has no train split (or it is empty)")
    checked: dict[str, Any] = {}
    for name, split in splits.items():
        missing = [c for c in REQUIRED_COLUMNS if c not in split.column_names]
        if missing:
            raise LearningError(f"split {name!r} of {path} lacks columns {missing}")
        checked[name] = split.cast_column("audio", Audio(decode=False))
    return checked


def decode(audio: dict[str, Any], root: Path) -> np.ndarray:
    """A stored ``audio`` value (bytes or a path) as 16 kHz mono float32."""
    from faster_whisper import decode_audio

    if audio.get("bytes"):
        return np.asarray(decode_audio(io.BytesIO(audio["bytes"]), sampling_rate=SAMPLE_RATE))
    path = Path(audio.get("path") or "")
    if not path.is_absolute():
        path = root / path
    if not path.is_file():
        raise LearningError(f"audio {path} of the dataset is missing")
    return np.asarray(decode_audio(str(path), sampling_rate=SAMPLE_RATE))


def clips(split: Any, root: Path) -> list[Clip]:
    """Every row of ``split`` decoded."""
    columns = split.column_names
    return [
        Clip(
            audio=decode(row["audio"], root),
            text=str(row["text"]),
            domain=str(row["domain"]) if "domain" in columns else "none",
            turn_id=str(row["turn_id"]) if "turn_id" in columns else str(index),
        )
        for index, row in enumerate(split)
    ]


def dataset_digest(path: Path) -> str:
    """The dataset folder's content hash (every file), for the registry."""
    from learning.registry.artefacts import folder_digest

    return folder_digest(path)


def dataset_id(path: Path) -> str:
    """The export's own id when its report names one, else the folder's name."""
    for report in ("report.json", "export.json"):
        file = path / report
        if file.is_file():
            try:
                value = json.loads(file.read_text()).get("id")
            except (json.JSONDecodeError, AttributeError):
                value = None
            if value:
                return str(value)
    return path.resolve().name


class Tokens:
    """Whisper's prompt and text tokens from the model folder's ``tokenizer.json``."""

    def __init__(self, model_dir: Path, vocab_size: int) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))

        def ids(token: str) -> int:
            found = self.tokenizer.token_to_id(token)
            if found is None:
                raise LearningError(f"{model_dir}/tokenizer.json lacks {token}", code="bad_model")
            return int(found)

        self.eot = ids("<|endoftext|>")
        self.sot = ids("<|startoftranscript|>")
        self.no_timestamps = ids("<|notimestamps|>")
        multilingual = vocab_size >= 51865  # as transformers' Whisper tokenizer decides
        extra = [ids("<|en|>"), ids("<|transcribe|>")] if multilingual else []
        self.prefix = [self.sot, *extra, self.no_timestamps]

    def encode(self, text: str) -> list[int]:
        """Token ids of the text as Whisper writes it (a leading space)."""
        ids: list[int] = self.tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids
        return ids

    def decode(self, ids: list[int]) -> str:
        """Text of token ids, special tokens dropped."""
        text: str = self.tokenizer.decode([i for i in ids if i < self.eot])
        return text.strip()
