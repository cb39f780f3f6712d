"""STT scoring against hand-counted figures: WER, its error kinds, per domain, science terms."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from learning.evaluation.sets import BadEvalSet, load_set
from learning.evaluation.stt import evaluate_stt, normalize, score

# Hand-aligned, after normalization (lower case, no punctuation; Whisper's normalizer expands
# "planck's" to "planck is"):
#   what is the speed of light             | what is the speed of lite         1 S       (6 words)
#   how many grams are in a pound          | how many grams in a pound please  1 D, 1 I  (7 words)
#   what is a photon                       | what is a photon                  -         (4 words)
#   planck is constant times the frequency | plank constant times frequency    1 S, 2 D  (6 words)
PAIRS = [
    ("light", "physics", "What is the speed of light?", "What is the speed of lite?"),
    ("pound", "chemistry", "How many grams are in a pound?", "how many grams in a pound please"),
    ("photon", "physics", "What is a photon?", "what is a photon"),
    (
        "planck",
        "physics",
        "Planck's constant times the frequency.",
        "Plank constant times frequency",
    ),
]


def test_normalizer_as_assumed_by_the_hand_counts() -> None:
    assert (
        normalize("Planck's constant times the frequency.")
        == "planck is constant times the frequency"
    )
    assert normalize("What is the speed of light?") == "what is the speed of light"


def test_wer_equals_the_hand_computed_value() -> None:
    figures = score(PAIRS)
    overall = figures["overall"]
    # S = 1 + 0 + 0 + 1 = 2; D = 0 + 1 + 0 + 2 = 3; I = 0 + 1 + 0 + 0 = 1; N = 6 + 7 + 4 + 6 = 23
    assert (overall["substitutions"], overall["deletions"], overall["insertions"]) == (2, 3, 1)
    assert overall["words"] == 23
    assert overall["wer"] == pytest.approx(6 / 23, abs=1e-4)
    physics = figures["per_domain"]["physics"]  # lines 1, 3, 4: (1 + 0 + 3) / (6 + 4 + 6)
    assert physics["wer"] == pytest.approx(4 / 16, abs=1e-4)
    assert figures["per_domain"]["chemistry"]["wer"] == pytest.approx(2 / 7, abs=1e-4)
    # worst first: planck 3/6, pound 2/7, light 1/6, photon 0
    assert [w["id"] for w in figures["worst"]] == ["planck", "pound", "light", "photon"]
    assert figures["worst"][0]["wer"] == pytest.approx(0.5)


def test_term_error_rate_counts_each_occurrence() -> None:
    pairs = [
        (
            "a",
            "physics",
            "A photon hits an electron, then another electron.",
            "a photon hits an electron then another",
        ),
        ("b", "physics", "Planck and Boltzmann", "plank and boltzmann"),
        ("c", "biology", "Mitochondria make ATP", "my toe kondria make atp"),
        ("d", "math", "nothing scientific here", "nothing scientific here"),
    ]
    terms = score(pairs)["terms"]
    # photon 1 (hit), electron 2 (1 missed), Planck 1 (missed), Boltzmann 1 (hit),
    # mitochondria 1 (missed): 3 missed of 6.
    assert terms["occurrences"] == 6
    assert terms["missed"] == 3
    assert terms["term_error_rate"] == pytest.approx(0.5)
    assert terms["terms"]["electron"] == {"occurrences": 2, "missed": 1}
    assert "derivative" not in terms["terms"]  # absent from every reference: not listed


def test_empty_references_are_counted_not_scored() -> None:
    figures = score([("um", "none", "Um.", "hmm"), *PAIRS])
    assert figures["empty_references"] == ["um"]
    assert figures["overall"]["utterances"] == 4


def test_a_set_without_references_names_the_files(tmp_path: Path) -> None:
    lines = [
        {"file": "a.flac", "text": "what is a photon"},
        {"file": "b.flac", "text": ""},
        {"file": "c.flac"},
    ]
    (tmp_path / "manifest.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    with pytest.raises(
        BadEvalSet, match=r"2 utterance\(s\) have no reference text: b.flac, c.flac"
    ):
        load_set(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "eval",
            "--set",
            str(tmp_path),
            "--no-production",
            "--report",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "voice-service: error: 2 utterance(s) have no reference text: b.flac, c.flac (bad_eval_set)"
    ]
    assert not (tmp_path / "out").exists()  # nothing written, no model loaded


def test_a_callable_transcriber_is_scored_on_a_manifest_folder(tmp_path: Path) -> None:
    # The fine-tune gate passes its own transcriber: any callable from audio to text.
    turns = Path(__file__).resolve().parents[1] / "data" / "speech" / "turns"
    rows = [json.loads(line) for line in (turns / "manifest.jsonl").read_text().splitlines()][:3]
    for row in rows:
        (tmp_path / row["file"]).symlink_to(turns / row["file"])
    (tmp_path / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    heard = iter(["what is the speed of lite", rows[1]["text"], ""])
    lengths: list[int] = []

    def transcriber(audio: object) -> str:
        lengths.append(len(audio))  # type: ignore[arg-type]
        return next(heard)

    report = evaluate_stt(transcriber, tmp_path, version="fixed-answers")
    words = [len(normalize(r["text"]).split()) for r in rows]
    assert report["model"] == "fixed-answers"
    assert report["overall"]["wer"] == pytest.approx((1 + words[2]) / sum(words), abs=1e-4)
    assert report["overall"]["deletions"] == words[2]
    # audio decoded at 16 kHz: as many samples as the manifest says
    assert lengths == [r["samples"] for r in rows]
