"""Action routing: the actions an intent calls for run concurrently, each within its budget.

An action that overruns its budget is abandoned and the answer goes on without it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from api.voice.facts.model import Statement
from api.voice.registry import Registry
from core.messages import NLUResult, Passage
from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ActionRequest:
    """What an action gets: the user's words and what NLU made of them."""

    text: str
    nlu: NLUResult


@dataclass
class ActionResult:
    """What an action found. ``answer`` is a complete reply that needs no LLM (a computed value).

    ``grounding`` holds the facts retrieved with confidence: the numbers an answer may state.
    """

    passages: list[Passage] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    answer: str | None = None
    grounding: list[Statement] = field(default_factory=list)


@dataclass
class RouteResult:
    """Everything the actions of one turn found, and how they went."""

    passages: list[Passage] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    answer: str | None = None
    grounding: list[Statement] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0


class Action(ABC):
    """One thing the assistant can do for an utterance before it answers."""

    name: str = "action"

    @abstractmethod
    async def run(self, request: ActionRequest) -> ActionResult:
        """Do the work; may be cancelled when the budget runs out."""


registry: Registry[Action] = Registry("action")
registry.register("facts", "api.voice.actions.facts:FactAction")
registry.register("rag", "api.voice.actions.rag:RetrievalAction")
registry.register("units", "api.voice.actions.units:UnitConversionAction")
registry.register("api", "api.voice.actions.http_api:HttpApiAction")
registry.register("decline", "api.voice.actions.decline:DeclineAction")


class Router:
    """Runs the actions configured for each intent (``Settings.actions``)."""

    def __init__(self, settings: Settings, actions: dict[str, Action]) -> None:
        self.settings = settings
        self.actions = actions

    def actions_for(self, intent: str) -> list[Action]:
        """The actions configured for ``intent`` that are loaded."""
        return [self.actions[n] for n in self.settings.actions.get(intent, []) if n in self.actions]

    async def route(self, request: ActionRequest) -> RouteResult:
        """Run the intent's actions concurrently; merge what finished within budget."""
        started = time.perf_counter()
        chosen = self.actions_for(request.nlu.intent)
        outcomes = await asyncio.gather(*(self._run(a, request) for a in chosen))
        merged = RouteResult()
        for action, outcome in zip(chosen, outcomes, strict=True):
            if outcome is None:
                merged.abandoned.append(action.name)
                continue
            merged.passages.extend(outcome.passages)
            merged.facts.extend(outcome.facts)
            merged.grounding.extend(outcome.grounding)
            merged.answer = merged.answer or outcome.answer
        merged.elapsed_ms = (time.perf_counter() - started) * 1000
        return merged

    async def _run(self, action: Action, request: ActionRequest) -> ActionResult | None:
        budget_s = self.settings.action_budget_ms.get(action.name, 500) / 1000
        try:
            return await asyncio.wait_for(action.run(request), timeout=budget_s)
        except TimeoutError:
            log.warning("action %s abandoned after its %.0f ms budget", action.name, budget_s * 1e3)
        except Exception:  # an action failing must not fail the answer
            log.exception("action %s failed", action.name)
        return None


def load_actions(settings: Settings, **shared: object) -> dict[str, Action]:
    """Instantiate every action named in the intent map. ``shared`` holds loaded resources."""
    names = sorted({n for names in settings.actions.values() for n in names})
    loaded: dict[str, Action] = {}
    for name in names:
        backend = registry.load(name)
        loaded[name] = backend(settings, **shared)  # type: ignore[call-arg]
    return loaded
