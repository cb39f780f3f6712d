"""Evaluation sets: a folder with ``manifest.jsonl``, or a Hugging Face dataset folder.

A manifest folder (like tests/data/speech/turns) has one JSON object a line with ``file`` (a
path relative to the folder) and ``text`` (the reference); ``domain``, ``speaker`` and
``turn_id`` are read when present. A dataset folder is one saved with ``save_to_disk`` (a
``DatasetDict`` with train/dev/test, or one ``Dataset``) whose columns include ``audio`` and
``text`` (``learning.dataset``'s export). Every utterance needs a reference: a set where some
lack one is refused with their names, never scored as if they said nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import VoiceServiceError


class BadEvalSet(VoiceServiceError):
    """The eval set cannot be read, or some of its utterances have no reference."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="bad_eval_set")


@dataclass(frozen=True)
class Utterance:
    """One utterance to transcribe: its audio (loaded on demand) and its reference text."""

    id: str
    reference: str
    domain: str
    speaker: str
    load: Callable[[], np.ndarray]  # 16 kHz mono float32


@dataclass(frozen=True)
class EvalSet:
    """The utterances of a set, and where they came from."""

    source: str
    utterances: list[Utterance]

    def __iter__(self) -> Iterator[Utterance]:
        return iter(self.utterances)

    def __len__(self) -> int:
        return len(self.utterances)


def decode(source: str | Path | bytes) -> np.ndarray:
    """Any audio PyAV reads (a path or the file's bytes) as 16 kHz mono float32."""
    import io

    from faster_whisper import decode_audio

    audio = decode_audio(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    return np.asarray(audio, dtype=np.float32)


def _missing(names: list[str]) -> BadEvalSet:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return BadEvalSet(f"{len(names)} utterance(s) have no reference text: {shown}")


def load_set(path: Path, *, split: str = "test") -> EvalSet:
    """The set at ``path``: a manifest folder, or a saved dataset (``split`` of it)."""
    if (path / "manifest.jsonl").is_file():
        return load_manifest(path)
    if (path / "dataset_dict.json").is_file() or (path / "dataset_info.json").is_file():
        return load_dataset_folder(path, split=split)
    raise BadEvalSet(f"{path}: neither a folder with manifest.jsonl nor a saved dataset")


def load_manifest(folder: Path) -> EvalSet:
    """The utterances of ``folder/manifest.jsonl``."""
    manifest = folder / "manifest.jsonl"
    try:
        rows = [
            json.loads(line) for line in manifest.read_text("utf-8").splitlines() if line.strip()
        ]
    except (OSError, ValueError) as exc:
        raise BadEvalSet(f"cannot read {manifest}: {exc}") from exc
    if not rows or not all(isinstance(r, dict) and r.get("file") for r in rows):
        raise BadEvalSet(f"{manifest}: every line needs a 'file'")
    lacking = [str(r["file"]) for r in rows if not str(r.get("text") or "").strip()]
    if lacking:
        raise _missing(lacking)
    absent = [str(r["file"]) for r in rows if not (folder / str(r["file"])).is_file()]
    if absent:
        raise BadEvalSet(f"{folder}: audio files missing: {', '.join(absent[:5])}")
    utterances = [
        Utterance(
            id=str(r.get("turn_id") or r["file"]),
            reference=str(r["text"]),
            domain=str(r.get("domain") or "none"),
            speaker=str(r.get("speaker") or r.get("voice") or ""),
            load=_file_loader(folder / str(r["file"])),
        )
        for r in rows
    ]
    return EvalSet(str(folder), utterances)


def _file_loader(path: Path) -> Callable[[], np.ndarray]:
    return lambda: decode(path)


def load_dataset_folder(folder: Path, *, split: str = "test") -> EvalSet:
    """The ``split`` of a dataset saved with ``save_to_disk`` (audio decoded by PyAV)."""
    try:
        from datasets import Audio, DatasetDict, load_from_disk
    except ImportError as exc:
        raise BadEvalSet("reading a dataset folder needs the 'datasets' package") from exc
    try:
        loaded = load_from_disk(str(folder))
    except (OSError, ValueError) as exc:
        raise BadEvalSet(f"cannot load the dataset at {folder}: {exc}") from exc
    if isinstance(loaded, DatasetDict):
        if split not in loaded:
            raise BadEvalSet(f"{folder} has no split {split!r} (it has {', '.join(loaded)})")
        table = loaded[split]
        where = f"{folder}[{split}]"
    else:
        table, where = loaded, str(folder)
    if "audio" not in table.column_names or "text" not in table.column_names:
        raise BadEvalSet(f"{where} needs the columns 'audio' and 'text'")
    table = table.cast_column("audio", Audio(decode=False))  # PyAV decodes: no torch needed
    rows: list[dict[str, Any]] = list(table)
    names = [_row_id(r, i) for i, r in enumerate(rows)]
    lacking = [n for n, r in zip(names, rows, strict=True) if not str(r.get("text") or "").strip()]
    if lacking:
        raise _missing(lacking)
    utterances = [
        Utterance(
            id=name,
            reference=str(r["text"]),
            domain=str(r.get("domain") or "none"),
            speaker=str(r.get("speaker") or ""),
            load=_audio_loader(r["audio"], folder),
        )
        for name, r in zip(names, rows, strict=True)
    ]
    return EvalSet(where, utterances)


def _row_id(row: dict[str, Any], index: int) -> str:
    audio = row.get("audio") or {}
    path = audio.get("path") if isinstance(audio, dict) else None
    return str(row.get("turn_id") or path or f"row {index}")


def _audio_loader(audio: dict[str, Any], folder: Path) -> Callable[[], np.ndarray]:
    data, path = audio.get("bytes"), audio.get("path")
    if data:
        return lambda: decode(bytes(data))
    if path:
        file = Path(path) if Path(path).is_absolute() else folder / path
        return lambda: decode(file)
    raise BadEvalSet(f"{folder}: an audio cell holds neither bytes nor a path")
