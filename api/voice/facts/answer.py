"""The answer as it streams: sentences cut from the LLM's pieces, each checked by the guard.

A sentence with a number nothing supports is replaced (by the retrieved fact read plainly,
or by "I don't know that value") and the answer stops there. Each sentence that goes out has
two forms: the text shown, with digits and units, and the text the voice reads, in words.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from api.voice.facts.guard import NumberGuard
from api.voice.facts.speech import verbalize
from api.voice.router import RouteResult
from api.voice.sentences import SentenceSplitter


@dataclass(frozen=True)
class Said:
    """One sentence of the answer: as shown, as spoken, and whether the guard replaced it."""

    text: str
    speech: str
    replaced: bool = False


class GuardedAnswer:
    """Feed LLM pieces, get back checked sentences; ``done`` once the answer must stop."""

    def __init__(
        self,
        guard: NumberGuard,
        *,
        max_sentences: int,
        first_clause_words: int = 6,
        first_phrase_words: int = 0,
    ) -> None:
        self.guard = guard
        self.max_sentences = max_sentences
        self.splitter = SentenceSplitter(
            first_clause_words=first_clause_words, first_phrase_words=first_phrase_words
        )
        self.sentences = 0
        self.done = False
        self.replaced = 0
        self.guard_ms = 0.0  # time spent checking numbers and writing them as words

    def feed(self, piece: str) -> list[Said]:
        """The sentences ``piece`` completed, checked (nothing once ``done``)."""
        return self._check(self.splitter.feed(piece))

    def flush(self) -> list[Said]:
        """The unfinished rest at the end of the stream, checked."""
        rest = self.splitter.flush()
        return self._check([rest] if rest else [])

    def _check(self, sentences: list[str]) -> list[Said]:
        out: list[Said] = []
        for sentence in sentences:
            if self.done:
                break
            started = time.perf_counter()
            verdict = self.guard.check(sentence)
            if verdict.ok:
                said = Said(sentence, verbalize(sentence))
            else:
                self.replaced += 1
                text = self.guard.replacement()
                said = Said(text, verbalize(text), replaced=True)
                self.done = True
            self.guard_ms += (time.perf_counter() - started) * 1000
            out.append(said)
            if sentence[-1] in ".!?":
                self.sentences += 1
            if self.sentences >= self.max_sentences:
                self.done = True  # closing the stream stops the LLM: answers stay short
        return out


def guard_for(route: RouteResult, question: str) -> NumberGuard:
    """The guard for one turn: the facts, passages and notes the actions found, the question."""
    return NumberGuard(
        statements=route.grounding,
        notes=[p.text for p in route.passages] + route.facts,
        question=question,
    )


async def guarded_sentences(
    pieces: AsyncIterator[str], answer: GuardedAnswer
) -> AsyncIterator[Said]:
    """Checked sentences of a streamed answer; stops (and closes ``pieces``) once ``done``."""
    try:
        async for piece in pieces:
            for said in answer.feed(piece):
                yield said
            if answer.done:
                return
        for said in answer.flush():
            yield said
    finally:
        close = getattr(pieces, "aclose", None)
        if close is not None:
            await close()  # stops the LLM
