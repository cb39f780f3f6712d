"""vLLM in-process (``AsyncLLMEngine``) for production GPUs; needs the ``gpu`` extra.

Not runnable on the CPU-only build machines: tests check only its missing-extra message.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from vllm import AsyncEngineArgs, AsyncLLMEngine, SamplingParams

from api.voice.llm import LanguageModel, as_dicts
from core.messages import ChatMessage
from core.settings import Settings


def _json_constraint(schema: dict[str, Any]) -> dict[str, Any]:
    """The SamplingParams keyword that constrains output to ``schema`` in this vLLM version."""
    try:
        from vllm.sampling_params import StructuredOutputsParams

        return {"structured_outputs": StructuredOutputsParams(json=schema)}
    except ImportError:  # vLLM before 0.11
        from vllm.sampling_params import GuidedDecodingParams

        return {"guided_decoding": GuidedDecodingParams(json=schema)}


class VLLMEngine(LanguageModel):
    """Llama 3.1 8B Instruct (or any chat model) served by vLLM inside this process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.vllm_model
        self.engine = AsyncLLMEngine.from_engine_args(
            AsyncEngineArgs(
                model=settings.vllm_model,
                max_model_len=settings.llm_context_tokens,
                gpu_memory_utilization=settings.vllm_gpu_memory_utilization,
            )
        )
        self._tokenizer: Any = None

    async def _prompt(self, messages: list[ChatMessage]) -> str:
        if self._tokenizer is None:
            self._tokenizer = await self.engine.get_tokenizer()
        prompt: str = self._tokenizer.apply_chat_template(
            as_dicts(messages), tokenize=False, add_generation_prompt=True
        )
        return prompt

    async def generate(self, messages: list[ChatMessage], *, max_tokens: int) -> AsyncIterator[str]:
        """Yield the new text of each engine step; closing the iterator aborts the request."""
        params = SamplingParams(max_tokens=max_tokens, temperature=self.settings.llm_temperature)
        request_id = uuid.uuid4().hex
        sent = 0
        try:
            async for output in self.engine.generate(
                await self._prompt(messages), params, request_id
            ):
                text = output.outputs[0].text
                if len(text) > sent:
                    yield text[sent:]
                    sent = len(text)
        finally:
            await self.engine.abort(request_id)

    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, Any], *, max_tokens: int = 96
    ) -> str:
        """Guided decoding to the schema."""
        params = SamplingParams(max_tokens=max_tokens, temperature=0.0, **_json_constraint(schema))
        final = ""
        async for output in self.engine.generate(
            await self._prompt(messages), params, uuid.uuid4().hex
        ):
            final = output.outputs[0].text
        return final
