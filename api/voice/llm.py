"""Response generation: the base class of streaming language models and its registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any

from api.voice.registry import Registry
from core.messages import ChatMessage
from core.settings import Settings


class LanguageModel(ABC):
    """A chat model that streams its answer token by token."""

    name: str = "llm"

    @abstractmethod
    def generate(self, messages: list[ChatMessage], *, max_tokens: int) -> AsyncIterator[str]:
        """Yield text pieces of the reply as they are produced. Closing the iterator stops it."""

    @abstractmethod
    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, Any], *, max_tokens: int = 96
    ) -> str:
        """One reply constrained to ``schema`` (grammar or guided decoding), as JSON text."""

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in the context; backends without a tokenizer estimate."""
        return len(text) // 4 + 1


registry: Registry[LanguageModel] = Registry("llm")
registry.register("llamacpp", "api.voice.backends.llm_llamacpp:LlamaCppLLM")
registry.register("openai", "api.voice.backends.llm_openai:OpenAICompatibleLLM")
registry.register("vllm", "api.voice.backends.llm_vllm:VLLMEngine", extra="gpu")


def load_llm(settings: Settings) -> LanguageModel:
    """The configured language model, loaded."""
    backend = registry.load(settings.llm_backend)
    return backend(settings)  # type: ignore[call-arg]


def as_dicts(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """Messages in the OpenAI chat format every backend accepts."""
    return [{"role": m.role, "content": m.content} for m in messages]
