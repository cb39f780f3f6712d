"""Calls an HTTP endpoint configured in settings (``VOICE_API_ACTION_URL``).

Request: ``POST {"text", "intent", "domain", "entities"}``. Response: JSON with optional
``answer`` (a complete reply) and ``facts`` (strings for the response prompt).
"""

from __future__ import annotations

from typing import Any

import httpx

from api.voice.router import Action, ActionRequest, ActionResult
from core.settings import Settings


class HttpApiAction(Action):
    """One pooled client; the request's own timeout is tighter than the router's budget."""

    name = "api"

    def __init__(self, settings: Settings, **_: Any) -> None:
        if not settings.api_action_url:
            raise ValueError("the 'api' action needs VOICE_API_ACTION_URL")
        self.url = settings.api_action_url
        self.client = httpx.AsyncClient(timeout=settings.api_action_timeout_s)

    async def run(self, request: ActionRequest) -> ActionResult:
        """Post the utterance; keep only well-typed fields of the reply."""
        response = await self.client.post(
            self.url,
            json={
                "text": request.text,
                "intent": request.nlu.intent,
                "domain": request.nlu.domain,
                "entities": [e.text for e in request.nlu.entities],
            },
        )
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict):
            return ActionResult()
        facts = body.get("facts")
        answer = body.get("answer")
        return ActionResult(
            facts=[str(f)[:500] for f in facts[:5]] if isinstance(facts, list) else [],
            answer=str(answer)[:1000] if isinstance(answer, str) and answer.strip() else None,
        )
