"""The utterance recorder: pre-roll, the utterance's audio, merges and the length limit."""

from __future__ import annotations

import numpy as np

from api.voice.audio import float_to_pcm16, pcm16_to_float
from api.voice.recorder import PREROLL_S, UtteranceRecorder
from tests.utils.fakes import FRAME, RATE, FakeVAD, Script


def _recorder(max_s: float = 30.0) -> UtteranceRecorder:
    return UtteranceRecorder(FakeVAD(), threshold=0.5, max_s=max_s)  # type: ignore[arg-type]


async def _feed(recorder: UtteranceRecorder, audio: np.ndarray) -> list[bool]:
    """Push ``audio`` frame by frame as the session does; whether each VAD frame was voiced."""
    heard = []
    pcm = float_to_pcm16(audio)
    for offset in range(0, len(pcm), FRAME * 2):
        for probability in await recorder.push(pcm[offset : offset + FRAME * 2]):
            voiced = recorder.hear(probability)
            heard.append(voiced)
            if voiced:
                recorder.start()
    return heard


async def test_silence_keeps_only_the_preroll() -> None:
    recorder = _recorder()
    heard = await _feed(recorder, Script().pause(2.0).audio())
    assert not any(heard) and not recorder.recording
    kept = sum(a.size for a in recorder.preroll)
    assert PREROLL_S * RATE <= kept <= PREROLL_S * RATE + FRAME
    assert recorder.audio().size == 0


async def test_an_utterance_starts_with_the_preroll_and_ends_with_stop() -> None:
    Script.phrases.clear()
    recorder = _recorder()
    await _feed(recorder, Script().pause(1.0).say("hello there", 0.5).pause(0.2).audio())
    assert recorder.recording and recorder.speech_end > 0
    audio = recorder.audio()
    assert recorder.samples == audio.size
    # The pre-roll (silence) comes first, then all of the speech and the pause after it.
    assert audio.size >= (PREROLL_S + 0.5 + 0.2) * RATE - FRAME
    assert np.all(audio[: int(0.25 * RATE)] == 0) and np.count_nonzero(audio) >= 0.5 * RATE - 1
    assert np.array_equal(recorder.stop(), audio)
    assert not recorder.recording and recorder.audio().size == 0
    assert recorder.start() and recorder.recording  # a new one starts from the pre-roll
    assert not recorder.start()  # (once)


async def test_a_resumed_turn_is_put_before_the_utterance() -> None:
    Script.phrases.clear()
    recorder = _recorder()
    await _feed(recorder, Script().say("of water", 0.4).audio())
    before = recorder.samples
    earlier = float_to_pcm16(Script().say("boiling point", 0.5).audio())
    recorder.prepend(earlier)
    assert recorder.samples == before + len(earlier) // 2
    assert recorder.audio().size == recorder.samples
    assert np.array_equal(recorder.audio()[: len(earlier) // 2], pcm16_to_float(earlier))


async def test_the_length_limit_counts_the_utterance_only() -> None:
    Script.phrases.clear()
    recorder = _recorder(max_s=1.5)
    await _feed(recorder, Script().pause(3.0).audio())
    assert not recorder.too_long()  # silence is not an utterance
    await _feed(recorder, Script().say("and then", 0.8).audio())
    assert not recorder.too_long()  # 0.3 s of pre-roll and 0.8 s of speech
    await _feed(recorder, Script().say("and then", 0.5).audio())
    assert recorder.too_long()
