import itertools

from api.voice.audio import decode_audio
from api.voice.models import Models
from api.voice.partials import StreamingTranscriber
from tests.conftest import speech_clip


async def test_local_agreement_commits_a_stable_prefix(models: Models) -> None:
    audio = decode_audio(speech_clip("jfk.flac"), max_seconds=60)
    transcriber = StreamingTranscriber(models.stt)
    committed_history: list[list[str]] = []
    texts = []
    for seconds in range(1, 12):
        texts.append(await transcriber.update(audio[: seconds * 16_000]))
        committed_history.append([w.text for w in transcriber.committed])
    # what is committed is never taken back, and grows
    for earlier, later in itertools.pairwise(committed_history):
        assert later[: len(earlier)] == earlier
    assert len(committed_history[-1]) >= 5
    # passes only cover the uncommitted tail
    assert transcriber.committed_until_s > 3.0
    final = await transcriber.finish(audio)
    plain = final.text.lower().replace(",", "").replace(".", "")
    assert "ask not what your country can do for you" in plain
    starts = [w.start for w in final.words]
    assert starts == sorted(starts) and final.words[-1].end > 9.5
