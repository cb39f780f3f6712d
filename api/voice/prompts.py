"""Prompts for the spoken answer: short, plain sentences, grounded in retrieved passages.

Instructions and notes go into the system message: a small model (SmolLM2-135M) follows them
there, and repeats them aloud when they sit in the user's message.
"""

from __future__ import annotations

from api.voice.router import RouteResult
from core.messages import NLUResult

BASE_PROMPT = (
    "You are a friendly voice assistant for science questions. Your words are spoken aloud, so "
    "answer in one to three short, plain sentences. Never use markdown, lists or symbols."
)

_INTENT_HINTS = {
    "greeting": "The user greets you: greet them back and offer help with a science question.",
    "help": (
        "The user asks what you can do: say you answer questions about physics, chemistry, "
        "math, biology and engineering, and convert units."
    ),
    "smalltalk": "Reply warmly in one short sentence, then offer help with a science question.",
}

DECLINE = (
    "Sorry, I can only help with science. Ask me about physics, chemistry, math, biology "
    "or engineering."
)


def system_prompt(nlu: NLUResult, route: RouteResult) -> str:
    """The system message for one turn: the base prompt, the intent's hint, the notes found."""
    parts = [BASE_PROMPT]
    hint = _INTENT_HINTS.get(nlu.intent)
    if hint:
        parts.append(hint)
    notes = [p.text for p in route.passages] + route.facts
    if notes:
        parts.append("Base your answer on these notes:\n" + "\n".join(notes))
    return " ".join(parts[:2]) + ("\n" + parts[2] if len(parts) > 2 else "")
