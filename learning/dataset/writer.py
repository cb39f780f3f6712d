"""The output folder: refused when in use, built aside, published whole; HF and NeMo formats.

Clips are staged as 16 kHz mono FLAC files under ``audio/{split}/`` of a hidden folder beside
the destination. NeMo keeps them there with one manifest per split; the Hugging Face format
moves them into a ``DatasetDict`` saved with ``save_to_disk`` (its audio bytes inside) and
drops the files. The folder replaces the destination only when complete.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from core.audio import SAMPLE_RATE
from learning.dataset.options import SPLITS, DatasetError

REPORT = "report.json"
COLUMNS = (  # besides ``audio``; the fine-tune reads exactly these
    "text",
    "original_text",
    "domain",
    "intent",
    "speaker",
    "duration",
    "turn_id",
    "augmentation",
)


@dataclass
class Row:
    """One clip of the dataset; ``file`` is relative to the output folder."""

    split: str
    file: str
    text: str
    original_text: str
    domain: str
    intent: str
    speaker: str
    duration: float
    turn_id: str
    augmentation: str = ""  # the copy's JSON record; empty for an original clip


def check_destination(out: Path, overwrite: bool) -> None:
    """Refuse a destination in use: a file, or a non-empty folder (unless ``overwrite``).

    Even with ``overwrite``, only a folder this command wrote (it holds ``report.json``) is
    replaced, so a mistyped path never deletes anything else.
    """
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} exists and is not a folder", code="dataset_exists")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not overwrite:
        raise DatasetError(
            f"{out} exists and is not empty; pass --overwrite to replace it", code="dataset_exists"
        )
    if not (out / REPORT).is_file():
        raise DatasetError(
            f"{out} is not a dataset this command wrote (no {REPORT}); not replacing it",
            code="dataset_exists",
        )


def staging_folder(out: Path) -> Path:
    """A new hidden folder beside ``out`` where the dataset is built."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        folder = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
        folder.mkdir(mode=0o700)
    except OSError as exc:
        raise DatasetError(f"cannot write beside {out}: {exc.strerror}") from None
    return folder


def publish(folder: Path, out: Path) -> None:
    """Put the finished folder in place of ``out`` (an old dataset there goes)."""
    old = None
    if out.is_dir():
        old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
        out.rename(old)
    folder.rename(out)
    if old is not None:
        shutil.rmtree(old)


def write_nemo(folder: Path, rows: list[Row], splits: list[str]) -> None:
    """``{split}_manifest.jsonl`` per split; audio paths relative to the folder (NeMo's way)."""
    for split in splits:
        with (folder / f"{split}_manifest.jsonl").open("w", encoding="utf-8") as manifest:
            for row in rows:
                if row.split == split:
                    fields = asdict(row)
                    line = {"audio_filepath": fields.pop("file"), **fields}
                    del line["split"]
                    manifest.write(json.dumps(line, ensure_ascii=False) + "\n")


def write_hf(folder: Path, rows: list[Row], splits: list[str]) -> None:
    """A ``DatasetDict`` (train, dev, test, and synthetic when made) saved into ``folder``.

    The Arrow tables are built here, the audio column in the ``Audio`` feature's own storage
    (FLAC bytes and a file name), because ``datasets`` 4 and later encode audio only through
    torch and torchcodec; loading the folder needs neither.
    """
    import pyarrow as pa
    from datasets import (
        Audio,
        Dataset,
        DatasetDict,
        DatasetInfo,
        Features,
        Value,
        disable_progress_bars,
    )
    from datasets.table import InMemoryTable

    disable_progress_bars()  # the export draws its own

    types = {name: pa.float32() if name == "duration" else pa.string() for name in COLUMNS}
    features = Features(
        {
            "audio": Audio(sampling_rate=SAMPLE_RATE),
            **{name: Value(str(kind)) for name, kind in types.items()},
        }
    )
    storage = pa.struct({"bytes": pa.binary(), "path": pa.string()})
    tables = {}
    for split in splits:
        chosen = [row for row in rows if row.split == split]
        audio = [
            {"bytes": (folder / r.file).read_bytes(), "path": Path(r.file).name} for r in chosen
        ]
        columns = {"audio": pa.array(audio, type=storage)}
        for name, kind in types.items():
            columns[name] = pa.array([getattr(row, name) for row in chosen], type=kind)
        table = InMemoryTable(pa.table(columns))
        tables[split] = Dataset(table, info=DatasetInfo(features=features), split=split)
    for split in splits:
        shutil.rmtree(folder / split, ignore_errors=True)  # a second write replaces the first
    # one shard each: an empty split would otherwise be saved with none, and fail to load
    DatasetDict(tables).save_to_disk(str(folder), num_shards=dict.fromkeys(splits, 1))


def output_splits(synthetic: bool) -> list[str]:
    """train, dev, test always (empty or not), and synthetic when asked for."""
    return [*SPLITS, "synthetic"] if synthetic else list(SPLITS)
