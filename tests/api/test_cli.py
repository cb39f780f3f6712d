import asyncio
import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from api.voice.audio import decode_audio, write_wav
from api.voice.models import Models
from tests.conftest import speech_clip
from tests.utils.audio import word_set

CLI = [sys.executable, "-m", "api.cli"]


@pytest.fixture(autouse=True)
def data_dir_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands keep state in the data folder: never in the checkout's ./var."""
    monkeypatch.setenv("VOICE_DATA_DIR", str(tmp_path / "var"))


def cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def test_ask_answers_the_jfk_clip_with_speech(tmp_path: Path, models: Models) -> None:
    out = tmp_path / "reply.wav"
    done = cli("ask", str(speech_clip("jfk.flac")), str(out), "--voice", "technical", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {
        "transcript",
        "intent",
        "domain",
        "entities",
        "sources",
        "response",
        "voice",
        "latency",
    }
    assert "ask not what your country can do for you" in result["transcript"].lower().replace(
        ",", ""
    )
    assert result["voice"] == "technical" and result["response"]
    latency = result["latency"]
    for key in ("stt_ms", "nlu_ms", "rag_ms", "llm_ms", "tts_ms", "total_ms", "first_audio_ms"):
        assert latency[key] >= 0, key
    assert latency["first_audio_ms"] <= latency["total_ms"]
    with wave.open(str(out)) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        assert wav.getnframes() / wav.getframerate() > 1.0
    heard = decode_audio(out, max_seconds=120)
    transcript = asyncio.run(models.stt.transcribe_all(heard, hotwords=[]))
    said, heard_words = word_set(result["response"]), word_set(transcript.text)
    assert len(said & heard_words) >= 0.6 * len(said), (result["response"], transcript.text)


async def test_ask_converts_units_exactly(tmp_path: Path, models: Models) -> None:
    question = tmp_path / "q.wav"
    pcm = b"".join(
        [
            c
            async for c in models.tts.synthesize(
                "Convert five miles to kilometers.", "professional"
            )
        ]
    )
    write_wav(question, pcm, models.tts.sample_rate)
    done = cli("ask", str(question), str(tmp_path / "a.wav"), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["intent"] == "unit_conversion"
    assert result["response"] == "5 miles is about 8.05 kilometres."
    assert result["latency"]["llm_ms"] == 0  # computed, not generated


def _missing(d: Path) -> Path:
    return d / "missing.flac"


def _empty(d: Path) -> Path:
    (d / "empty.wav").write_bytes(b"")
    return d / "empty.wav"


def _text(d: Path) -> Path:
    (d / "text.wav").write_text("hello, not audio")
    return d / "text.wav"


@pytest.mark.parametrize(
    ("make", "fragment"),
    [(_missing, "no such file"), (_empty, "empty"), (_text, "not readable audio")],
)
def test_ask_bad_input_is_one_line(tmp_path: Path, make, fragment: str) -> None:
    path = make(tmp_path)
    done = cli("ask", str(path), str(tmp_path / "out.wav"))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "out.wav").exists()


def test_ask_too_long_and_bad_output_folder(tmp_path: Path) -> None:
    done = cli(
        "ask",
        str(speech_clip("jfk.flac")),
        str(tmp_path / "o.wav"),
        env={"VOICE_MAX_UTTERANCE_S": "5"},
    )
    assert done.returncode == 1 and "longer than the maximum utterance of 5 s" in done.stderr
    done = cli("ask", str(speech_clip("jfk.flac")), str(tmp_path / "nope" / "o.wav"))
    assert done.returncode == 1 and "output folder does not exist" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_invalid_setting_is_one_line(tmp_path: Path) -> None:
    done = cli("ask", "x", "y", env={"VOICE_MAX_UTTERANCE_S": "-3"})
    assert done.returncode == 2
    assert done.stderr.strip().startswith(
        "voice-service: error: invalid settings: VOICE_MAX_UTTERANCE_S"
    )


def test_nlu_reads_lines_and_prints_json_lines() -> None:
    done = cli("nlu", stdin="hello there\nwhat is the speed of light\n\nconvert 3 feet to metres\n")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["intent"] for r in rows] == [
        "greeting",
        "scientific_query",
        "other",
        "unit_conversion",
    ]
    assert rows[1]["domain"] == "physics"
    assert {"text": "3 feet", "label": "quantity", "start": 8, "end": 14} in rows[3]["entities"]


def test_kb_add_and_list(tmp_path: Path) -> None:
    doc = tmp_path / "moons.txt"
    doc.write_text("Jupiter has at least 95 known moons.\n\nSaturn has even more.")
    env = {"VOICE_DATA_DIR": str(tmp_path / "var")}
    done = cli("kb", "add", str(doc), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("added 2 passages")
    listed = cli("kb", "list", env=env).stdout
    assert "moons-1\tmoons.txt" in listed and "phys-speed-of-light" in listed
    bad = cli("kb", "add", str(tmp_path / "none.txt"), env=env)
    assert bad.returncode == 1 and "no such file" in bad.stderr


def test_a_data_folder_that_cannot_be_made_is_one_line_naming_it(tmp_path: Path) -> None:
    in_the_way = tmp_path / "var"
    in_the_way.write_text("a file, not a folder")
    done = cli("db", "upgrade", env={"VOICE_DATA_DIR": str(in_the_way)})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"voice-service: error: cannot create the data folder {in_the_way} (VOICE_DATA_DIR):"
        " a file is in the way (data_dir_unusable)"
    ]
