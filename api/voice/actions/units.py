"""Unit conversion as a local action, through the same interface as the HTTP API action."""

from __future__ import annotations

from typing import Any

from api.voice.router import Action, ActionRequest, ActionResult
from api.voice.units import convert
from core.settings import Settings


class UnitConversionAction(Action):
    """Computes the value; the reply is exact, not left to the LLM's arithmetic."""

    name = "units"

    def __init__(self, settings: Settings, **_: Any) -> None:
        self.settings = settings

    async def run(self, request: ActionRequest) -> ActionResult:
        """A parsed conversion becomes the answer; otherwise nothing is added."""
        conversion = convert(request.text)
        if conversion is None:
            return ActionResult()
        answer = conversion.spoken()
        return ActionResult(facts=[answer], answer=answer)
