"""Two latency levers measured side by side in one process, alternating so both see one load.

1. The first clause: first audio after the transcript with ``VOICE_FIRST_CLAUSE_WORDS`` (or
   the setting ``--setting`` names, such as ``first_phrase_words``) at each value given
   (default 6 and 3), over the questions of tests/data/speech/turns (their texts, as
   transcripts: STT is left out). Answers from the fact store need no LLM and are the same
   both ways.
2. The system prompt's KV state: the LLM's first token when llama.cpp kept the previous
   prompt (which shares the system prompt: its longest common prefix is reused) against
   the same prompt read anew after ``Llama.reset()``.

    nice -n 10 .venv/bin/python scripts/levers.py [--setting NAME] [--values 6 3]
        [--questions N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from api.voice.backends.llm_llamacpp import LlamaCppLLM
from api.voice.chain import VoiceChain
from api.voice.events import AudioOut
from api.voice.models import Models
from api.voice.prompts import system_prompt
from api.voice.router import RouteResult
from core.messages import ChatMessage, NLUResult, Transcript
from core.settings import Settings

SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "speech" / "turns"


async def first_audio_ms(chain: VoiceChain, text: str) -> float:
    """From the transcript to the first audio chunk of the answer."""
    started = time.perf_counter()
    async for event in chain.run_turn(
        conversation=chain.new_conversation(), voice="friendly", transcript=Transcript(text=text)
    ):
        if isinstance(event, AudioOut):
            return (time.perf_counter() - started) * 1000
    return float("nan")


async def prime(models: Models) -> None:
    """One token for another question: the next prompt shares only the system prompt."""
    system = system_prompt(NLUResult(), RouteResult())
    messages = [ChatMessage(role="system", content=system), ChatMessage(role="user", content="Hi")]
    async for _ in models.llm.generate(messages, max_tokens=1):
        pass


def first_clause(
    models: Models, values: list[int], limit: int | None, setting: str = "first_clause_words"
) -> None:
    """Median first audio per value of ``setting`` (``first_clause_words``)."""
    lines = (SET / "manifest.jsonl").read_text().splitlines()
    texts = sorted({json.loads(line)["text"] for line in lines if line})[:limit]
    chains = {}
    for value in values:
        chain = VoiceChain(models)
        chain.settings = models.settings.model_copy(update={setting: value})
        chains[value] = chain
    times: dict[int, list[float]] = {value: [] for value in values}
    for text in texts:
        for value, chain in chains.items():
            asyncio.run(prime(models))  # the LLM last read another question, as in service
            times[value].append(asyncio.run(first_audio_ms(chain, text)))
    print(f"first clause: {len(texts)} questions, first audio after the transcript (ms)")
    for value in values:
        quartiles = statistics.quantiles(times[value], n=20)  # LLM answers are the slow end
        print(
            f"  {setting}={value}: median {statistics.median(times[value]):.0f},"
            f" p75 {quartiles[14]:.0f}, p90 {quartiles[17]:.0f}"
        )
    base = statistics.median(times[values[0]])
    for value in values[1:]:
        ratio = statistics.median(times[value]) / base
        print(f"  ratio {value} / {values[0]}: {ratio:.2f}")


def kv_state(llm: LlamaCppLLM) -> None:
    """The first token with the system prompt kept in the KV cache, and read anew."""
    system = system_prompt(NLUResult(intent="scientific_query", domain="physics"), RouteResult())
    questions = ["What is the speed of light?", "How far is the moon?", "What is a photon?"]

    async def first_token(messages: list[ChatMessage]) -> float:
        started = time.perf_counter()
        async for _ in llm.generate(messages, max_tokens=1):
            pass
        return (time.perf_counter() - started) * 1000

    kept, anew = [], []
    for question in questions * 3:
        messages = [
            ChatMessage(role="system", content=system),
            ChatMessage(role="user", content=question),
        ]
        kept.append(asyncio.run(first_token(messages)))  # the last prompt shared the system's
        llm.model.reset()  # forget every token: the whole prompt is read
        anew.append(asyncio.run(first_token(messages)))
    print(f"system prompt: {llm.count_tokens(system)} tokens; LLM first token (ms)")
    print(f"  kept (prefix reused): median {statistics.median(kept):.0f}")
    print(f"  read anew:            median {statistics.median(anew):.0f}")
    print(f"  ratio kept / anew: {statistics.median(kept) / statistics.median(anew):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--values", type=int, nargs="+", default=[6, 3])
    parser.add_argument("--questions", type=int, default=None, help="at most N questions")
    parser.add_argument("--setting", default="first_clause_words", help="what --values set")
    args = parser.parse_args()
    settings = Settings(_env_file=None, response_cache=False, speech_cache=False)
    loaded = Models.load(settings)
    first_clause(loaded, args.values, args.questions, args.setting)
    assert isinstance(loaded.llm, LlamaCppLLM)
    kv_state(loaded.llm)
