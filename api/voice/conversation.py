"""Per-session conversation history, trimmed oldest first to fit the model's context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.messages import ChatMessage

MAX_TURNS_KEPT = 200  # far more than an 8k context holds; bounds a long session's memory


@dataclass
class Conversation:
    """Alternating user/assistant turns; the system prompt is given per turn."""

    context_tokens: int
    reply_tokens: int
    turns: list[tuple[str, str]] = field(default_factory=list)  # (user, assistant)

    def messages(
        self, system: str, user: str, count_tokens: Callable[[str], int]
    ) -> list[ChatMessage]:
        """Messages for the next reply: as many past turns as fit, newest kept."""
        budget = self.context_tokens - self.reply_tokens - count_tokens(system)
        budget -= count_tokens(user) + 16  # chat-template overhead
        kept: list[tuple[str, str]] = []
        for past_user, past_reply in reversed(self.turns):
            cost = count_tokens(past_user) + count_tokens(past_reply) + 16
            if cost > budget:
                break
            budget -= cost
            kept.append((past_user, past_reply))
        messages = [ChatMessage(role="system", content=system)]
        for past_user, past_reply in reversed(kept):
            messages.append(ChatMessage(role="user", content=past_user))
            messages.append(ChatMessage(role="assistant", content=past_reply))
        messages.append(ChatMessage(role="user", content=user))
        return messages

    def add(self, user: str, reply: str) -> None:
        """Remember a finished turn."""
        self.turns.append((user, reply))
        del self.turns[:-MAX_TURNS_KEPT]
