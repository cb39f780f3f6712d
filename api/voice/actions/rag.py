"""Retrieval over the knowledge base; passages and their ids go into the response prompt."""

from __future__ import annotations

from typing import Any

from api.voice.kb import KnowledgeBase
from api.voice.router import Action, ActionRequest, ActionResult
from api.voice.threads import run_in_thread
from core.settings import Settings


class RetrievalAction(Action):
    """Top passages by similarity to the utterance."""

    name = "rag"

    def __init__(self, settings: Settings, *, kb: KnowledgeBase, **_: Any) -> None:
        self.settings = settings
        self.kb = kb

    async def run(self, request: ActionRequest) -> ActionResult:
        """Search off the event loop (a sparse matrix product: well under a millisecond)."""
        passages = await run_in_thread(
            lambda: self.kb.search(
                request.text, top_k=self.settings.kb_top_k, min_score=self.settings.kb_min_score
            )
        )
        return ActionResult(passages=passages)
