"""``voice-service qa-eval FILE [--spoken]``: are the answers right.

Each line of FILE is a question with a reference value: ``{"id", "part", "domain",
"question", "value", "unit", "tol"}`` (``tol`` relative; 0 means exact). Every question goes
through the chain as a turn would (NLU, the actions, the LLM when no action answers, the
guard) and its answer is scored: right (a stated value within tolerance, in the reference
unit after an exact conversion), wrong (values stated, none within tolerance) or abstained
(no value, or "I don't know that value"). Parts (e.g. ``heldout``) are scored separately.
``--spoken`` first speaks each question with the Piper voice (the three presets in turn) and
transcribes it, and reports the term error rate of the science words before and after the
transcript correction.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from api.cli.qa_score import QAItem, Scored, covered_by, report, score_answer, term_error
from api.voice.actions.facts import FactAction
from api.voice.audio import decode_audio
from api.voice.conversation import Conversation
from api.voice.facts.answer import GuardedAnswer, guard_for, guarded_sentences
from api.voice.facts.hearing import TranscriptFixer
from api.voice.facts.runtime import fact_index_with_report
from api.voice.kb import KnowledgeBase
from api.voice.llm import LanguageModel, load_llm
from api.voice.nlu import load_nlu
from api.voice.prompts import system_prompt
from api.voice.router import ActionRequest, Router, load_actions
from core.errors import VoiceServiceError
from core.settings import VOICES, Settings


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("qa-eval", help="right / wrong / abstained on science questions")
    parser.add_argument("dataset", type=Path, help="JSON lines: question, value, unit, tol, ...")
    parser.add_argument("--spoken", action="store_true", help="speak and transcribe each question")
    parser.add_argument("--part", default=None, help="only this part (e.g. heldout)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--show", action="store_true", help="print every question and answer")
    parser.set_defaults(run=run)


def load_items(path: Path) -> list[QAItem]:
    """The questions of ``path``; a bad line is reported with its number."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except FileNotFoundError as exc:
        raise VoiceServiceError(f"{path}: no such file", code="bad_argument") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise VoiceServiceError(f"{path}: cannot read ({exc})", code="bad_argument") from exc
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            items.append(QAItem.model_validate_json(line))
        except ValueError as exc:
            first = str(exc).splitlines()[0]
            raise VoiceServiceError(f"{path}:{number}: not a question ({first})") from exc
    if not items:
        raise VoiceServiceError(f"{path}: no questions", code="bad_argument")
    return items


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Load the chain's stages once, answer every question, print the table."""
    items = load_items(args.dataset)
    if args.part:
        items = [i for i in items if i.part == args.part]
    if args.limit is not None:
        items = items[: max(0, args.limit)]
    if not items:
        raise VoiceServiceError("no question matches --part/--limit", code="bad_argument")
    results, build = asyncio.run(_evaluate(items, settings, spoken=args.spoken))
    summary = report(results, build_s=build)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    if args.show:
        for r in results:
            print(f"[{r.verdict:9}] {r.item.id} {r.heard!r} -> {r.answer}")
    _print(summary)
    return 0


async def _evaluate(
    items: list[QAItem], settings: Settings, *, spoken: bool
) -> tuple[list[Scored], float]:
    index, build = fact_index_with_report(settings.data_dir)
    nlu = load_nlu(settings)
    router = Router(settings, load_actions(settings, kb=KnowledgeBase.load(settings.kb_dir)))
    facts = router.actions.get("facts")
    fixer = TranscriptFixer(index.facts)
    llm: LanguageModel | None = None
    voice = stt = tts = None
    if spoken:
        from api.voice.stt import load_stt
        from api.voice.tts import load_tts

        stt, tts = load_stt(settings), load_tts(settings)
    results: list[Scored] = []
    for number, item in enumerate(items):
        heard, raw_heard, fix_ms = item.question, item.question, 0.0
        if stt is not None and tts is not None:
            voice = VOICES[number % len(VOICES)]
            pcm = b"".join([c async for c in tts.synthesize(item.question, voice)])
            audio = decode_audio(_wav(pcm, tts.sample_rate), max_seconds=settings.max_utterance_s)
            raw_heard = (await stt.transcribe_all(audio)).text.strip()
            started = time.perf_counter()
            heard, _ = fixer.correct(raw_heard)
            fix_ms = (time.perf_counter() - started) * 1000
        understood = await nlu.understand(heard)
        request = ActionRequest(text=heard, nlu=understood)
        started = time.perf_counter()
        if isinstance(facts, FactAction):
            facts.find(request)  # the fact lookup alone: the latency retrieval adds
        retrieval_ms = (time.perf_counter() - started) * 1000
        route = await router.route(request)
        if route.answer:
            pieces: AsyncIterator[str] = _single(route.answer)
        else:
            llm = llm or load_llm(settings)
            history = Conversation(settings.llm_context_tokens, settings.llm_max_tokens)
            messages = history.messages(system_prompt(understood, route), heard, llm.count_tokens)
            pieces = llm.generate(messages, max_tokens=settings.llm_max_tokens)
        answer = GuardedAnswer(guard_for(route, heard), max_sentences=settings.max_answer_sentences)
        text = " ".join([said.text async for said in guarded_sentences(pieces, answer)])
        verdict = score_answer(item, text)
        results.append(
            Scored(
                item=item,
                heard=heard,
                answer=text,
                verdict=verdict,
                covered=covered_by(item, index),
                retrieval_ms=retrieval_ms,
                guard_ms=answer.guard_ms,
                replaced=answer.replaced,
                used_llm=not route.answer,
                term_error_raw=term_error(item.question, raw_heard, fixer) if spoken else None,
                term_error=term_error(item.question, heard, fixer) if spoken else None,
                fix_ms=fix_ms,
                voice=voice,
            )
        )
    return results, build.seconds


async def _single(text: str) -> AsyncIterator[str]:
    yield text


def _wav(pcm: bytes, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def _print(summary: dict[str, Any]) -> None:
    for part, table in summary["parts"].items():
        print(f"part {part}: {table['total']['n']} questions")
        print(f"  {'domain':14} {'n':>4} {'covered':>8} {'right':>6} {'wrong':>6} {'abstain':>8}")
        for domain, row in table["domains"].items():
            print(
                f"  {domain:14} {row['n']:>4} {row['covered']:>8} {row['right']:>6} "
                f"{row['wrong']:>6} {row['abstained']:>8}"
            )
        total = table["total"]
        print(
            f"  right {total['right_of_covered_pct']}% of covered, wrong "
            f"{total['wrong_of_all_pct']}% of all, abstained {total['abstained']}"
        )
        if table["abstained_ids"]:
            print(f"  abstained: {', '.join(table['abstained_ids'])}")
        if table["wrong_ids"]:
            print(f"  wrong: {', '.join(table['wrong_ids'])}")
    latency = summary["latency_ms"]
    print(
        f"added latency p95: retrieval {latency['retrieval_p95']} ms, guard "
        f"{latency['guard_p95']} ms, both {latency['added_p95']} ms "
        f"(fact store ready in {summary['store_ready_s']} s)"
    )
    if summary.get("spoken"):
        spoken = summary["spoken"]
        print(
            f"term error rate: {spoken['ter_raw_pct']}% as transcribed, "
            f"{spoken['ter_pct']}% after correction ({spoken['terms']} terms; "
            f"correction p95 {spoken['fix_p95_ms']} ms)"
        )
