"""Prompts for the spoken answer: short, plain sentences, grounded in retrieved passages."""

from __future__ import annotations

from api.voice.router import RouteResult
from core.messages import NLUResult

SYSTEM_PROMPT = (
    "You are a friendly voice assistant for science questions. Your words are spoken aloud, so "
    "answer in one to three short, plain sentences. Never use markdown, lists, headings, "
    "symbols or code. Write numbers as they should be read. If notes are given, base the answer "
    "on them. If you do not know, say so briefly."
)

_INTENT_HINTS = {
    "greeting": "The user greets you. Greet them back in one sentence and offer help with science.",
    "help": (
        "The user asks what you can do. Say in two sentences that you answer questions about "
        "physics, chemistry, math, biology and engineering, convert units, and that they can "
        "just speak."
    ),
    "smalltalk": "Reply warmly in one short sentence, then offer help with a science question.",
    "other": (
        "The request is outside science. Say politely in one sentence that you can only help "
        "with science questions."
    ),
}


def user_prompt(text: str, nlu: NLUResult, route: RouteResult) -> str:
    """The user's turn as the LLM sees it: notes (with source ids) and instructions first."""
    parts: list[str] = []
    if route.passages:
        notes = "\n".join(f"[{p.id}] {p.text}" for p in route.passages)
        parts.append(f"Notes:\n{notes}")
    if route.facts:
        parts.append("Facts:\n" + "\n".join(route.facts))
    hint = _INTENT_HINTS.get(nlu.intent)
    if hint:
        parts.append(hint)
    parts.append(f"Question: {text}" if parts else text)
    return "\n\n".join(parts)
