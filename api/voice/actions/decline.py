"""A fixed, polite refusal for requests outside science (the ``other`` intent).

A small model asked to decline often answers the off-topic question instead.
"""

from __future__ import annotations

from typing import Any

from api.voice.prompts import DECLINE
from api.voice.router import Action, ActionRequest, ActionResult
from core.settings import Settings


class DeclineAction(Action):
    """Answers with ``prompts.DECLINE``."""

    name = "decline"

    def __init__(self, settings: Settings, **_: Any) -> None:
        self.settings = settings

    async def run(self, request: ActionRequest) -> ActionResult:
        """The refusal, as a complete answer."""
        return ActionResult(answer=DECLINE)
