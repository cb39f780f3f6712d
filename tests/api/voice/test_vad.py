import itertools

import numpy as np

from api.voice.audio import decode_audio
from api.voice.vad import FRAME_MS, SileroVAD, SpeechTracker
from tests.conftest import speech_clip


def speech_runs(probabilities: list[float]) -> list[tuple[float, float]]:
    tracker, runs, start = SpeechTracker(), [], None
    for index, probability in enumerate(probabilities):
        voiced = tracker.update(probability)
        if voiced and start is None:
            start = index * FRAME_MS / 1000
        if not voiced and start is not None and tracker.silence_ms >= 300:
            runs.append((start, (index * FRAME_MS - tracker.silence_ms) / 1000))
            start = None
    if start is not None:
        runs.append((start, len(probabilities) * FRAME_MS / 1000))
    return runs


def test_jfk_speech_and_its_pauses_are_found_frame_by_frame() -> None:
    audio = decode_audio(speech_clip("jfk.flac"), max_seconds=60)
    stream = SileroVAD().stream()
    probabilities: list[float] = []
    for start in range(0, audio.size, 640):  # 40 ms frames, as a client sends them
        probabilities += stream.push(audio[start : start + 640])
    assert len(probabilities) == audio.size // 512
    runs = speech_runs(probabilities)
    assert runs[0][0] < 0.5 and runs[-1][1] > 10.0
    pauses = [later[0] - earlier[1] for earlier, later in itertools.pairwise(runs)]
    assert sum(p > 0.5 for p in pauses) >= 2  # "Americans ... ask not ... what"


def test_silence_and_noise_are_not_speech() -> None:
    stream = SileroVAD().stream()
    rng = np.random.default_rng(0)
    assert max(stream.push(np.zeros(16_000, np.float32))) < 0.2
    assert max(stream.push((rng.standard_normal(16_000) * 0.01).astype(np.float32))) < 0.5


def test_tracker_counts_voiced_runs_and_silence() -> None:
    tracker = SpeechTracker()
    for _ in range(10):
        tracker.update(0.9)
    assert tracker.voiced_run_ms == 10 * FRAME_MS and tracker.in_speech
    tracker.update(0.4)  # above the lowered threshold while in speech: still voiced
    assert tracker.in_speech
    for _ in range(5):
        tracker.update(0.05)
    assert tracker.silence_ms == 5 * FRAME_MS and tracker.voiced_run_ms == 0
