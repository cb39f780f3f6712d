"""The chain with the real bundled models: facts reach the answer, invented numbers do not."""

import dataclasses
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from api.voice.backends.llm_openai import OpenAICompatibleLLM
from api.voice.chain import VoiceChain
from api.voice.events import AudioOut, ResponseDelta, TranscriptReady, TurnEvent, TurnFinished
from api.voice.facts.guard import NO_VALUE
from api.voice.models import Models
from api.voice.router import Router, load_actions
from api.voice.tts import TextToSpeech
from core.messages import Transcript
from core.settings import Settings, VoiceName


class SpokenText(TextToSpeech):
    """The real Piper voice, noting each text it is given to speak."""

    def __init__(self, voice: TextToSpeech) -> None:
        self.voice = voice
        self.sample_rate = voice.sample_rate
        self.texts: list[str] = []

    async def synthesize(self, text: str, voice: VoiceName) -> AsyncIterator[bytes]:
        self.texts.append(text)
        async for chunk in self.voice.synthesize(text, voice):
            yield chunk


async def turn(models: Models, text: str, previous: str = "") -> list[TurnEvent]:
    chain = VoiceChain(models)
    conversation = chain.new_conversation()
    if previous:
        conversation.add(previous, "")
    return [
        event
        async for event in chain.run_turn(
            conversation=conversation, voice="professional", transcript=Transcript(text=text)
        )
    ]


def finished(events: list[TurnEvent]) -> TurnFinished:
    last = events[-1]
    assert isinstance(last, TurnFinished)
    return last


async def test_a_retrieved_constant_reaches_the_spoken_answer_exactly(models: Models) -> None:
    spy = SpokenText(models.tts)
    events = await turn(dataclasses.replace(models, tts=spy), "What is Planck's constant?")
    done = finished(events)
    assert done.response == "The Planck constant is 6.62607015 × 10^-34 J s."
    assert done.passages[0].id == "codata:planck-constant" and "CODATA" in done.passages[0].source
    assert spy.texts == [
        "The Planck constant is six point six two six zero seven zero one five times ten to the "
        "minus thirty-four joule seconds."
    ]
    assert sum(len(e.pcm) for e in events if isinstance(e, AudioOut)) > 22_050  # > 0.5 s spoken
    shown = "".join(e.text for e in events if isinstance(e, ResponseDelta))
    assert "6.62607015 × 10^-34 J s" in shown


async def test_a_value_with_no_fact_is_an_honest_i_dont_know(models: Models) -> None:
    done = finished(await turn(models, "What is the mass of a unicorn?"))
    assert done.response == NO_VALUE


async def test_a_misheard_science_word_is_corrected_in_context(models: Models) -> None:
    events = await turn(models, "What is the boiling point of water in salsa this?")
    heard = next(e for e in events if isinstance(e, TranscriptReady)).transcript.text
    assert heard == "What is the boiling point of water in Celsius?"
    assert finished(events).response.startswith("The boiling point of water is 100 °C")
    events = await turn(models, "How many pro-bonds are in carbon?")
    assert next(e for e in events if isinstance(e, TranscriptReady)).transcript.text == (
        "How many protons are in carbon?"
    )
    assert finished(events).response == "The atomic number of carbon is 6."
    # the previous question is context too: "salsa this" alone is not corrected
    events = await turn(models, "And in salsa this?", previous="How hot is boiling water?")
    assert next(e for e in events if isinstance(e, TranscriptReady)).transcript.text == (
        "And in Celsius?"
    )


@contextmanager
def scripted_llm_server(reply: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An OpenAI-compatible server on loopback that streams ``reply`` word by word (SSE)."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            received.append(body)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in reply.split(" "):
                chunk = {"choices": [{"delta": {"content": word + " "}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", received
    finally:
        server.shutdown()
        server.server_close()


def with_llm_phrasing(models: Models, settings: Settings, url: str) -> Models:
    """The chain with the model phrasing answers around the facts, served over the OpenAI API."""
    phrased = settings.model_copy(update={"facts_answer": "llm", "openai_base_url": url})
    return dataclasses.replace(
        models,
        settings=phrased,
        llm=OpenAICompatibleLLM(phrased),
        router=Router(phrased, load_actions(phrased, kb=models.kb)),
    )


async def test_an_invented_number_is_caught_and_replaced(
    models: Models, settings: Settings
) -> None:
    wrong = "Planck's constant is 6.12 × 10^-32 joule seconds. It relates energy to frequency."
    with scripted_llm_server(wrong) as (url, received):
        spy = SpokenText(models.tts)
        chain_models = dataclasses.replace(with_llm_phrasing(models, settings, url), tts=spy)
        events = await turn(chain_models, "What is Planck's constant?")
    assert "6.62607015 × 10^-34 J s" in received[0]["messages"][0]["content"]  # given the fact
    done = finished(events)
    assert done.response == "The Planck constant is 6.62607015 × 10^-34 J s."
    shown = "".join(e.text for e in events if isinstance(e, ResponseDelta))
    assert "6.12" not in shown and all("six point one two" not in t for t in spy.texts)


async def test_with_no_fact_an_invented_number_is_not_spoken(
    models: Models, settings: Settings
) -> None:
    wrong = "Black holes are regions of strong gravity. The nearest is 308 light years away."
    with scripted_llm_server(wrong) as (url, _):
        events = await turn(with_llm_phrasing(models, settings, url), "How do black holes form?")
    assert finished(events).response == f"Black holes are regions of strong gravity. {NO_VALUE}"
