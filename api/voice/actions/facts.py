"""Facts from the store: a confident match becomes the answer, its value read verbatim.

A question that asks for a value the store does not hold gets "I don't know that value"
rather than a number the LLM would make up. Conversions with a number ("5 miles in km") are
left to the ``units`` action.
"""

from __future__ import annotations

from typing import Any

from api.voice.facts.guard import NO_VALUE
from api.voice.facts.retrieve import FactIndex, Match, asks_for_value
from api.voice.facts.runtime import fact_index, transcript_fixer
from api.voice.router import Action, ActionRequest, ActionResult
from api.voice.threads import run_in_thread
from api.voice.units import convert
from core.messages import Passage
from core.settings import Settings


class FactAction(Action):
    """Looks the question up in the fact store (a few milliseconds)."""

    name = "facts"

    def __init__(self, settings: Settings, *, facts: FactIndex | None = None, **_: Any) -> None:
        self.settings = settings
        self.index = facts if facts is not None else fact_index(settings.data_dir)
        if facts is None and settings.correct_transcripts:
            transcript_fixer(settings.data_dir)  # built with the models, not on a first turn

    def find(self, request: ActionRequest) -> list[Match]:
        """The confident matches for the request (none for a conversion with a number)."""
        if convert(request.text) is not None:
            return []
        domain = request.nlu.domain if request.nlu.domain != "none" else None
        matches = self.index.lookup(request.text, domain=domain)
        return [m for m in matches if m.confidence >= self.settings.facts_min_confidence]

    async def run(self, request: ActionRequest) -> ActionResult:
        """The fact as the answer (or as the LLM's note), or an honest "I don't know"."""
        matches = await run_in_thread(lambda: self.find(request))
        if not matches:
            if request.nlu.intent == "scientific_query" and asks_for_value(request.text):
                return ActionResult(answer=NO_VALUE)
            return ActionResult()
        best = matches[0]
        sentence = best.statement.sentence()
        passage = Passage(
            id=best.fact.id,
            title=best.fact.name,
            text=sentence,
            source=best.fact.source,
            score=best.confidence,
        )
        return ActionResult(
            passages=[passage],
            facts=[sentence],
            answer=sentence if self.settings.facts_answer == "template" else None,
            grounding=[best.statement],
        )
