"""Dataset export against PostgreSQL and moto's S3, from turns stored by the real capture chain."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import soundfile
from datasets import Audio, DatasetDict, load_from_disk
from sqlalchemy import select

from capture.consent import request_change
from capture.erasure import apply_change
from capture.flac import decode_flac
from capture.keys import object_key
from capture.models import ConsentEvent, ReviewItem
from capture.store import open_store
from core.db import session_scope
from core.messages import Word
from core.settings import Settings
from learning.dataset.export import export_dataset
from learning.dataset.options import ExportOptions
from review.decisions import Decision, decide
from tests.learning.conftest import RECENT, capture, clips, pcm_of, user

COLUMNS = {"audio", "text", "original_text", "domain", "intent", "speaker", "duration"}
COLUMNS |= {"turn_id", "augmentation"}


def item_of(settings: Settings, turn_id: str) -> int:
    with session_scope(settings) as session:
        return session.scalars(select(ReviewItem.id).where(ReviewItem.turn_id == turn_id)).one()


def rows(dataset: DatasetDict) -> dict[str, dict[str, object]]:
    """Every row of every split by turn id (audio left encoded), with its split."""
    found = {}
    for split, table in dataset.items():
        for row in table.cast_column("audio", Audio(decode=False)):
            found[row["turn_id"] + (row["augmentation"] and "+copy")] = {**row, "split": split}
    return found


def samples(flac: bytes) -> np.ndarray:
    audio, rate = soundfile.read(io.BytesIO(flac), dtype="int16")
    assert rate == 16_000 and audio.ndim == 1
    return audio


def test_speaker_disjoint_splits_with_reviewers_labels_and_quality_rules(
    stored: Settings, tmp_path: Path
) -> None:
    for n in range(12):  # 12 speakers, 2 turns each, each turn a different question
        capture(stored, f"t{n:02d}a", f"speaker-{n}", 2 * n)
        capture(stored, f"t{n:02d}b", f"speaker-{n}", 2 * n + 1)
    original = capture(stored, "corrected", "speaker-0", 30, feedback="thumbs_down")
    capture(stored, "noise", "speaker-1", 31, feedback="thumbs_down")
    capture(stored, "rejected", "speaker-2", 32, feedback="thumbs_down")
    _, repeated = clips()[6]  # speaker-3 asks speaker-3's earlier question again
    capture(stored, "again", "speaker-3", 33, transcript=repeated.lower().rstrip("?"))
    label = "What is the speed of light in a vacuum, exactly?"
    decide(
        stored, item_of(stored, "corrected"), Decision(decision="correct", transcript=label), "rita"
    )
    approve = Decision(decision="approve", tags=["not_speech"])
    decide(stored, item_of(stored, "noise"), approve, "rita")
    decide(stored, item_of(stored, "rejected"), Decision(decision="reject"), "rita")

    out = tmp_path / "dataset"
    report = export_dataset(stored, ExportOptions(out=out))

    dataset = load_from_disk(str(out))
    assert isinstance(dataset, DatasetDict) and set(dataset) == {"train", "dev", "test"}
    assert all(set(table.column_names) == COLUMNS for table in dataset.values())
    assert dataset["train"].features["audio"].sampling_rate == 16_000
    found = rows(dataset)
    assert "rejected" not in found and "noise" not in found and "again" not in found
    assert len(found) == 25  # 24 questions and the corrected one
    speakers = {split: set(table["speaker"]) for split, table in dataset.items()}
    assert all(speakers.values()), speakers  # at these shares each split has someone
    assert not speakers["train"] & speakers["dev"]
    assert not speakers["train"] & speakers["test"]
    assert not speakers["dev"] & speakers["test"]
    assert found["corrected"]["text"] == label and found["corrected"]["original_text"] == original
    assert found["t00a"]["text"] == found["t00a"]["original_text"] == clips()[0][1]
    assert found["corrected"]["speaker"] == found["t00a"]["speaker"]  # one user, one speaker
    stored_audio = open_store(stored, "eu").get(object_key(RECENT.date(), "t05b", "audio.flac"))
    exported = found["t05b"]["audio"]["bytes"]  # type: ignore[index]
    assert np.array_equal(samples(exported), samples(stored_audio))
    assert report["filtered"]["not_speech_tag"] == 1
    assert report["filtered"]["near_duplicate"] == 1
    assert report["exported"] == 25 and report["considered"] == 27
    assert sum(report["splits"][s]["utterances"] for s in ("train", "dev", "test")) == 25
    assert report["splits"]["train"]["domains"]["physics"]["utterances"] > 0
    coverage = report["splits"]["train"]["science_terms"]
    assert coverage["of"] > 50 and 0 < coverage["covered"] < coverage["of"]
    assert "Speed of light" in report["science_terms"]["covered"]
    assert (out / "report.md").read_text().count("| train |") >= 1

    reviewed = export_dataset(stored, ExportOptions(out=tmp_path / "reviewed", min_reviewed=True))
    assert reviewed["exported"] == 1 and reviewed["excluded"] == {"not_reviewed": 25}

    again = export_dataset(stored, ExportOptions(out=out, overwrite=True))  # deterministic
    assert {k: v["split"] for k, v in rows(load_from_disk(str(out))).items()} == {
        k: v["split"] for k, v in found.items()
    }
    assert again["splits"] == report["splits"]


def test_a_redacted_turn_leaves_with_its_redacted_audio_in_a_nemo_manifest(
    stored: Settings, tmp_path: Path
) -> None:
    secret = "my card number is 4111 1111 1111 1111"
    words = [  # where STT heard each word in jfk.flac (the card number from 2 s to 4 s)
        Word(text=w, start=s, end=s + 0.4, probability=0.9)
        for w, s in zip(secret.split(), [0.2, 0.7, 1.2, 1.6, 2.0, 2.5, 3.0, 3.5], strict=True)
    ]
    capture(stored, "pii", "someone", "real-jfk.flac", transcript=secret, words=words)
    original = np.frombuffer(pcm_of("real-jfk.flac"), dtype="<i2")
    capture(stored, "plain", "someone-else", 1)

    out = tmp_path / "nemo"
    report = export_dataset(stored, ExportOptions(out=out, format="nemo"))

    lines = [
        json.loads(line)
        for split in ("train", "dev", "test")
        for line in (out / f"{split}_manifest.jsonl").read_text().splitlines()
    ]
    assert {line["turn_id"] for line in lines} == {"pii", "plain"}
    for line in lines:
        path = out / line["audio_filepath"]
        info = soundfile.info(path)
        assert (info.samplerate, info.channels, info.format) == (16_000, 1, "FLAC")
        assert abs(info.duration - line["duration"]) < 0.01
    pii = next(line for line in lines if line["turn_id"] == "pii")
    assert pii["text"] == "my card number is [CREDIT_CARD]" and "4111" not in json.dumps(lines)
    exported = samples((out / pii["audio_filepath"]).read_bytes())
    stored_pcm, _ = decode_flac(
        open_store(stored, "eu").get(object_key(RECENT.date(), "pii", "audio.flac"))
    )
    assert np.array_equal(exported, np.frombuffer(stored_pcm, dtype="<i2"))
    card = slice(int(2.2 * 16_000), int(3.7 * 16_000))  # inside the padded, silenced span
    assert not exported[card].any()
    assert original[: exported.size][card].any()  # it was speech before redaction
    assert report["exported"] == 2


def test_consent_withdrawn_before_and_during_an_export(stored: Settings, tmp_path: Path) -> None:
    for who, first in (("stays", 0), ("erased", 2), ("pending", 4), ("ledger", 6)):
        capture(stored, f"{who}-1", who, first)
        capture(stored, f"{who}-2", who, first + 1)
    old = (datetime.now(UTC) - timedelta(days=stored.retention_days + 1)).isoformat()
    capture(stored, "too-old", "stays", 8, timestamp=old)
    with session_scope(stored) as session:  # a withdrawal whose erasure has not run
        session.add(
            ConsentEvent(
                event_id="withdrawn-1",
                user_id=user("ledger"),
                granted=False,
                policy_version="2026-11",
                source="api",
                at=datetime.now(UTC),
            )
        )
    fired: list[str] = []

    def withdraw_when_audio_is_read(stage: str, done: int, total: int) -> None:
        if stage == "audio" and done == total and not fired:
            fired.append(stage)
            erased = request_change(stored, user("erased"), granted=False, source="api")
            apply_change(stored, erased.event_id)  # erased everywhere, mid-export
            request_change(stored, user("pending"), granted=False, source="api")  # not applied

    out = tmp_path / "dataset"
    report = export_dataset(stored, ExportOptions(out=out), withdraw_when_audio_is_read)

    assert fired
    exported = {t for table in load_from_disk(str(out)).values() for t in table["turn_id"]}
    assert exported == {"stays-1", "stays-2"}
    assert report["excluded"] == {"consent_withdrawn": 2, "past_retention": 1}
    assert report["dropped_during_export"] == {"consent_withdrawn": 2, "erased": 2}
    assert not list(tmp_path.glob(".dataset.*"))  # no staging folder left behind


def test_augmentation_is_seeded_recorded_and_train_only(stored: Settings, tmp_path: Path) -> None:
    for n in range(4):
        capture(stored, f"turn-{n}", f"speaker-{n}", n)
    settings = stored.model_copy(update={"dataset_splits": {"train": 1.0, "dev": 0.0, "test": 0.0}})
    first = export_dataset(settings, ExportOptions(out=tmp_path / "a", augment=2))
    export_dataset(settings, ExportOptions(out=tmp_path / "b", augment=2))
    reseeded = settings.model_copy(update={"dataset_augment_seed": 7})
    export_dataset(reseeded, ExportOptions(out=tmp_path / "c", augment=2))

    a, b, c = (rows(load_from_disk(str(tmp_path / name))) for name in "abc")
    assert first["splits"]["train"]["augmented_copies"] == 8
    assert first["splits"]["train"]["utterances"] == 4
    table = load_from_disk(str(tmp_path / "a"))["train"].cast_column("audio", Audio(decode=False))
    copies = [row for row in table if row["augmentation"]]
    assert len(copies) == 8
    records = [json.loads(row["augmentation"]) for row in copies]
    assert sorted(r["copy"] for r in records) == [1, 1, 1, 1, 2, 2, 2, 2]
    assert all(0.9 <= r["speed"] <= 1.1 and 5 <= r["snr_db"] <= 30 for r in records)
    rooms = {r["room"] for r in records} - {None}
    assert rooms and all((tmp_path / "a" / "impulse_responses" / room).is_file() for room in rooms)
    logged = (tmp_path / "a" / "augmentations.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["seed"] for line in logged) == sorted(r["seed"] for r in records)
    for row in copies:  # the copy is the original, changed: not the same, not silence
        copy = samples(row["audio"]["bytes"])
        base = samples(a[row["turn_id"]]["audio"]["bytes"])  # type: ignore[index]
        assert copy.any() and (copy.size != base.size or not np.array_equal(copy, base))
        speed = json.loads(row["augmentation"])["speed"]
        assert abs(copy.size - base.size / speed) <= 2
    assert a.keys() == b.keys() == c.keys()
    tables = [
        load_from_disk(str(tmp_path / name))["train"].cast_column("audio", Audio(decode=False))
        for name in "abc"
    ]
    for row_a, row_b, row_c in zip(*tables, strict=True):  # the same seed, the same copies
        assert row_a["augmentation"] == row_b["augmentation"]
        assert row_a["audio"]["bytes"] == row_b["audio"]["bytes"]
        if row_a["augmentation"]:  # another seed, other copies
            assert row_a["augmentation"] != row_c["augmentation"]


def test_a_missing_object_is_skipped_and_counted(stored: Settings, tmp_path: Path) -> None:
    for n in range(3):
        capture(stored, f"turn-{n}", f"speaker-{n}", n)
    open_store(stored, "eu").delete(object_key(RECENT.date(), "turn-1", "audio.flac"))
    report = export_dataset(stored, ExportOptions(out=tmp_path / "out", format="nemo"))
    assert report["skipped"] == {"missing_object": 1}
    assert report["exported"] == 2
    listed = [
        json.loads(line)["turn_id"]
        for split in ("train", "dev", "test")
        for line in (tmp_path / "out" / f"{split}_manifest.jsonl").read_text().splitlines()
    ]
    assert sorted(listed) == ["turn-0", "turn-2"]
