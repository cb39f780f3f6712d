"""The bundled Whisper tiny.en scored on real clips, from a manifest folder and a dataset folder.

The same clips read either way give the same figures; the WER the harness reports is jiwer's
on the normalized texts it lists; a dataset row without a reference is named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jiwer
import pytest

from core.settings import Settings
from learning.evaluation import BadEvalSet, evaluate_stt
from learning.evaluation.transcriber import WhisperTranscriber

TURNS = Path(__file__).resolve().parents[1] / "data" / "speech" / "turns"
DOMAINS = ["physics", "chemistry", "physics", "math"]


def clips(count: int = 4) -> list[dict[str, Any]]:
    """The first synthesized questions, and the real speech clip whose words tiny.en gets wrong."""
    rows = [json.loads(line) for line in (TURNS / "manifest.jsonl").read_text().splitlines()]
    chosen = rows[: count - 1] + [r for r in rows if r["file"] == "real-hotwords.flac"]
    return [{**r, "domain": DOMAINS[i % 4], "turn_id": f"t{i}"} for i, r in enumerate(chosen)]


@pytest.fixture(scope="module")
def transcriber(settings: Settings) -> WhisperTranscriber:
    return WhisperTranscriber(settings.resolved_stt_model_path(), settings=settings, version="tiny")


def manifest_folder(folder: Path, rows: list[dict[str, Any]]) -> Path:
    folder.mkdir()
    for row in rows:
        (folder / row["file"]).symlink_to(TURNS / row["file"])
    (folder / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def dataset_folder(folder: Path, rows: list[dict[str, Any]]) -> Path:
    datasets = pytest.importorskip("datasets", reason="pip install datasets")
    columns = {
        "audio": [str(TURNS / r["file"]) for r in rows],
        "text": [r["text"] for r in rows],
        "domain": [r["domain"] for r in rows],
        "speaker": [r["voice"] for r in rows],
        "turn_id": [r["turn_id"] for r in rows],
    }
    test = datasets.Dataset.from_dict(columns).cast_column(
        "audio", datasets.Audio(sampling_rate=16000)
    )
    other = test.select([0])  # train and dev are not read here
    splits = {"train": other, "dev": other, "test": test}
    datasets.DatasetDict(splits).save_to_disk(str(folder))
    return folder


def test_tiny_en_from_a_manifest_and_from_a_dataset_folder(
    tmp_path: Path, transcriber: WhisperTranscriber
) -> None:
    rows = clips()
    by_manifest = evaluate_stt(transcriber, manifest_folder(tmp_path / "set", rows))
    by_dataset = evaluate_stt(transcriber, dataset_folder(tmp_path / "hf", rows), split="test")
    assert by_manifest["model"] == "tiny"
    assert by_manifest["overall"] == by_dataset["overall"]
    assert by_manifest["per_domain"] == by_dataset["per_domain"]
    assert set(by_manifest["per_domain"]) == {"physics", "chemistry", "math"}
    worst = by_manifest["worst"]  # all four (fewer than 20), with their normalized texts
    assert len(worst) == 4
    expected = jiwer.wer([w["reference"] for w in worst], [w["hypothesis"] for w in worst])
    assert by_manifest["overall"]["wer"] == pytest.approx(expected, abs=1e-4)
    assert 0 < by_manifest["overall"]["wer"] < 0.35  # "ComfyUI" is not in its vocabulary
    print("tiny.en WER on 4 turn clips:", by_manifest["overall"])


def test_a_dataset_row_without_reference_is_named(tmp_path: Path) -> None:
    rows = clips(3)
    rows[1]["text"] = " "
    folder = dataset_folder(tmp_path / "hf", rows)
    with pytest.raises(BadEvalSet, match="1 utterance\\(s\\) have no reference text: t1"):
        evaluate_stt(lambda audio: "", folder)
    with pytest.raises(BadEvalSet, match="no split 'validation'"):
        evaluate_stt(lambda audio: "", folder, split="validation")


def test_the_eval_command_writes_the_report(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    folder = manifest_folder(tmp_path / "set", clips(2))
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "results.json").write_text(
        json.dumps({"set": "turns", "clips_detail": [{"first_audio_ms": 700.0}]})
    )
    out = tmp_path / "out" / "week.html"
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "eval", "--set", str(folder), "--bench", str(bench),
         "--report", str(out)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "VOICE_DATA_DIR": str(tmp_path / "var"), "VOICE_STT_VERSION": "stt-x"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    wer = json.loads(out.with_suffix(".json").read_text())["stt"]["overall"]["wer"]
    assert done.stdout.splitlines()[0].startswith(f"STT stt-x: WER {wer} over 2 utterances")
    assert f"report: {out}" in done.stdout
    figures = json.loads(out.with_suffix(".json").read_text())
    assert figures["models"]["stt"] == "stt-x" and figures["stt"]["model"] == "stt-x"
    assert figures["bench"][0]["first_audio"]["p50"] == 700.0
    assert figures["production"] is None  # no capture database: left out, and said so
    assert done.stderr.startswith("voice-service: note: no captured turns read")
    assert out.read_text().count("data:image/png;base64,") == 2  # WER per domain, bench
