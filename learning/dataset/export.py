"""``export_dataset``: selected turns → quality rules → speaker splits → augmentation → format.

Audio is fetched, decoded and checked on ``dataset_workers`` threads (the store's reads and
the VAD's ONNX run release the GIL). Before the dataset is written, and again after, the turns
are checked against the database once more: one erased or withdrawn meanwhile is dropped, and
the dataset rewritten without it, before the folder is published.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from capture.flac import FlacError
from capture.keys import object_key
from capture.store import ObjectNotFound, ObjectStore, open_store
from core.audio import SAMPLE_RATE
from core.settings import Settings
from learning.dataset import augment, quality, writer
from learning.dataset.options import DatasetError, ExportOptions, Progress, no_progress
from learning.dataset.report import build_report, markdown
from learning.dataset.source import Turn, recheck, select_turns
from learning.dataset.splits import speaker_of, split_of
from learning.dataset.terms import science_terms
from learning.dataset.writer import Row

log = logging.getLogger(__name__)
RECHECKS = 3  # rewrites at most, when turns keep vanishing while the dataset is written
Counts = dict[str, Counter[str]]
SKIPPED = ("missing_object", "unreadable_audio")  # turns skipped, not judged by a rule


def export_dataset(
    settings: Settings, options: ExportOptions, progress: Progress = no_progress
) -> dict[str, Any]:
    """Export; returns the report (also written into the dataset folder)."""
    done = _already_done(options)
    if done is not None:
        return done
    _require_packages(options)
    writer.check_destination(options.out, options.overwrite)
    options.window()  # a reversed window fails before anything is written
    folder = writer.staging_folder(options.out)
    try:
        report = Export(settings, options, progress, folder).run()
        writer.publish(folder, options.out)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return report


def _require_packages(options: ExportOptions) -> None:
    """One clear line when what the options need is not installed."""
    needed = ["datasets"] if options.format == "hf" else []
    needed += ["audiomentations", "pyroomacoustics"] if options.augment else []
    needed += ["piper"] if options.synthetic else []
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise DatasetError(
            f"{', '.join(missing)} not installed: pip install 'voice-service[learning]'",
            code="missing_extra",
        )


def _already_done(options: ExportOptions) -> dict[str, Any] | None:
    """The report of this task's own finished export (a redelivered Celery task)."""
    path = options.out / writer.REPORT
    if options.task_id is None or not path.is_file():
        return None
    report: dict[str, Any] = json.loads(path.read_text())
    return report if report.get("task_id") == options.task_id else None


class Export:
    """One export's state, built in ``folder``."""

    def __init__(
        self, settings: Settings, options: ExportOptions, progress: Progress, folder: Path
    ) -> None:
        self.settings = settings
        self.options = options
        self.progress = progress
        self.folder = folder
        self.started = datetime.now(UTC)
        self.counts: Counts = {k: Counter() for k in ("excluded", "filtered", "skipped", "dropped")}
        self.stores: dict[str, ObjectStore] = {}
        self.rows: list[Row] = []
        self.turns: dict[str, Turn] = {}

    def run(self) -> dict[str, Any]:
        """Every step; returns the report."""
        selection = select_turns(self.settings, self.options, self.started)
        self.counts["excluded"].update(selection.excluded)
        self.progress("select", len(selection.turns), selection.considered)
        wanted = []
        for turn in selection.turns:
            rule = quality.row_rule(self.settings, turn)
            if rule:
                self.counts["filtered"][rule] += 1
            else:
                wanted.append(turn)
        self._audio(wanted)
        repeated = quality.near_duplicates(
            self.turns.values(), self.settings.dataset_duplicate_similarity
        )
        self._drop(repeated, lambda _: ("filtered", "near_duplicate"))
        self._recheck()
        if self.options.augment:
            self._augment()
        splits = writer.output_splits(self.options.synthetic)
        if self.options.synthetic:
            self._synthetic()
        for _ in range(RECHECKS):
            self._write(splits)
            if not self._recheck():
                break
        else:
            self._write(splits)
        if self.options.format == "hf":  # the clips are inside the saved tables now
            shutil.rmtree(self.folder / "audio", ignore_errors=True)
        report = build_report(
            self._base(selection.considered),
            self.rows,
            splits,
            science_terms(self.settings),
            self.counts,
        )
        (self.folder / writer.REPORT).write_text(json.dumps(report, indent=2))
        (self.folder / "report.md").write_text(markdown(report))
        return report

    def _store(self, region: str) -> ObjectStore:
        if region not in self.stores:
            self.stores[region] = open_store(self.settings, region)
        return self.stores[region]

    def _fetch(self, turn: Turn) -> quality.Clip | str:
        """The turn's redacted audio, or why it is skipped."""
        try:
            data = self._store(turn.region).get(object_key(turn.day, turn.turn_id, "audio.flac"))
            return quality.load_clip(data)
        except ObjectNotFound:
            return "missing_object"
        except FlacError:
            return "unreadable_audio"

    def _checked(self, turn: Turn) -> tuple[Turn, quality.Clip | str]:
        clip = self._fetch(turn)
        if isinstance(clip, str):
            return turn, clip
        return turn, quality.audio_rule(self.settings, clip) or clip

    def _audio(self, turns: list[Turn]) -> None:
        for region in {t.region for t in turns}:
            self._store(region)  # made once, before the threads share them
        with ThreadPoolExecutor(self.settings.dataset_workers) as pool:
            for count, (turn, outcome) in enumerate(pool.map(self._checked, turns), start=1):
                if isinstance(outcome, quality.Clip):
                    self._keep(turn, outcome)
                elif outcome in SKIPPED:
                    self.counts["skipped"][outcome] += 1
                else:
                    self.counts["filtered"][outcome] += 1
                self.progress("audio", count, len(turns))

    def _keep(self, turn: Turn, clip: quality.Clip) -> None:
        speaker = speaker_of(turn.user_id, self.settings.dataset_split_salt)
        split = split_of(speaker, self.settings.dataset_splits)
        row = Row(
            split=split,
            file=f"audio/{split}/{turn.turn_id}.flac",
            text=turn.text,
            original_text=turn.transcript,
            domain=turn.domain,
            intent=turn.intent,
            speaker=speaker,
            duration=round(clip.duration_s, 3),
            turn_id=turn.turn_id,
        )
        self._save(row, clip.flac)
        self.turns[turn.turn_id] = turn

    def _save(self, row: Row, flac: bytes) -> None:
        path = self.folder / row.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(flac)
        self.rows.append(row)

    def _drop(self, turn_ids: set[str] | dict[str, str], why: Any) -> int:
        """Remove the turns' rows and files; ``why(turn_id)`` gives (counter, reason)."""
        if not turn_ids:
            return 0
        for row in [r for r in self.rows if r.turn_id in turn_ids]:
            (self.folder / row.file).unlink(missing_ok=True)
            self.rows.remove(row)
        for turn_id in turn_ids:
            if self.turns.pop(turn_id, None) is not None:
                counter, reason = why(turn_id)
                self.counts[counter][reason] += 1
        return len(turn_ids)

    def _recheck(self) -> int:
        """Drop turns erased or withdrawn since they were selected; returns how many."""
        gone = recheck(self.settings, list(self.turns.values()), self.started)
        if gone:
            log.info("dropped %d turns erased or withdrawn during the export", len(gone))
        return self._drop(gone, lambda turn_id: ("dropped", gone[turn_id]))

    def _augment(self) -> None:
        rooms_folder = self.folder / "impulse_responses"
        rooms = augment.simulate_rooms(
            self.settings.dataset_augment_rooms, self.settings.dataset_augment_seed, rooms_folder
        )
        originals = [r for r in self.rows if r.split == "train"]
        records = []
        for count, row in enumerate(originals, start=1):
            self.progress("augment", count, len(originals))
            samples = quality.load_clip((self.folder / row.file).read_bytes()).samples
            for copy in range(1, self.options.augment + 1):
                chosen = augment.choose(self.settings, row.turn_id, copy, rooms)
                audio = augment.apply(samples, chosen, rooms_folder)
                record = chosen.to_json()
                self._save(
                    Row(
                        **{
                            **row.__dict__,
                            "file": f"audio/train/{row.turn_id}-aug{copy}.flac",
                            "duration": round(audio.size / SAMPLE_RATE, 3),
                            "augmentation": record,
                        }
                    ),
                    quality.encode(audio),
                )
                records.append({"turn_id": row.turn_id, **json.loads(record)})
        with (self.folder / "augmentations.jsonl").open("w") as out:
            out.writelines(json.dumps(r, sort_keys=True) + "\n" for r in records)

    def _synthetic(self) -> None:
        from learning.dataset.synthetic import synthesize

        for clip in synthesize(self.settings, self.progress):
            row = Row(
                split="synthetic",
                file=f"audio/synthetic/{clip.turn_id}.flac",
                text=clip.text,
                original_text=clip.text,
                domain=clip.domain,
                intent="scientific_query",
                speaker=clip.speaker,
                duration=round(clip.samples.size / SAMPLE_RATE, 3),
                turn_id=clip.turn_id,
            )
            self._save(row, quality.encode(clip.samples))

    def _write(self, splits: list[str]) -> None:
        self.progress("write", 0, 1)
        if self.options.format == "hf":
            writer.write_hf(self.folder, self.rows, splits)
        else:
            writer.write_nemo(self.folder, self.rows, splits)
        self.progress("write", 1, 1)

    def _base(self, considered: int) -> dict[str, Any]:
        settings = self.settings
        return {
            "created_at": self.started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "task_id": self.options.task_id,
            "format": self.options.format,
            "options": self.options.model_dump(mode="json", exclude={"task_id"}),
            "considered": considered,
            "rules": {
                name: getattr(settings, f"dataset_{name}")
                for name in (
                    "min_duration_s",
                    "max_duration_s",
                    "min_speech_ratio",
                    "max_clipped_ratio",
                    "min_avg_logprob",
                    "duplicate_similarity",
                    "redacted_turns",
                    "splits",
                    "split_salt",
                )
            },
        }
