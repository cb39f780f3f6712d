"""Any OpenAI-compatible chat server (vLLM, TGI, llama.cpp server), streamed over HTTP (SSE)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from api.voice.llm import LanguageModel, as_dicts
from core.errors import BackendUnavailable
from core.messages import ChatMessage
from core.settings import Settings


class OpenAICompatibleLLM(LanguageModel):
    """Talks to ``{openai_base_url}/chat/completions`` with one pooled async client."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.openai_model
        self.client = httpx.AsyncClient(
            base_url=settings.openai_base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {settings.openai_api_key}"},
            timeout=httpx.Timeout(settings.openai_timeout_s, connect=5.0),
        )
        self._json_mode: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def _body(self, messages: list[ChatMessage], max_tokens: int, **extra: Any) -> dict[str, Any]:
        return {
            "model": self.settings.openai_model,
            "messages": as_dicts(messages),
            "max_tokens": max_tokens,
            "temperature": self.settings.llm_temperature,
            "frequency_penalty": round(self.settings.llm_repeat_penalty - 1, 2),
            **extra,
        }

    async def generate(self, messages: list[ChatMessage], *, max_tokens: int) -> AsyncIterator[str]:
        """Read server-sent events and yield each delta's content."""
        body = self._body(messages, max_tokens, stream=True)
        try:
            async with self.client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code != 200:
                    detail = (await response.aread()).decode("utf-8", "replace")[:200]
                    raise BackendUnavailable(
                        f"LLM server answered {response.status_code}: {detail}"
                    )
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    choices = json.loads(payload).get("choices") or [{}]
                    text = (choices[0].get("delta") or {}).get("content")
                    if text:
                        yield text
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"LLM server unreachable: {exc}") from exc

    async def complete_json(
        self, messages: list[ChatMessage], schema: dict[str, Any], *, max_tokens: int = 96
    ) -> str:
        """Schema-constrained reply.

        The OpenAI ``json_schema`` format (vLLM, TGI) is tried first; servers that refuse it
        (llama.cpp's) get ``json_object`` with the schema, and the choice is remembered.
        """
        for mode in self._json_modes():
            body = self._body(messages, max_tokens, temperature=0.0, response_format=mode(schema))
            try:
                response = await self.client.post("/chat/completions", json=body)
            except httpx.HTTPError as exc:
                raise BackendUnavailable(f"LLM server unreachable: {exc}") from exc
            if response.status_code == 200:
                self._json_mode = mode
                return str(response.json()["choices"][0]["message"]["content"] or "")
        raise BackendUnavailable(
            f"LLM server refused JSON output: {response.status_code} {response.text[:200]}"
        )

    def _json_modes(self) -> list[Callable[[dict[str, Any]], dict[str, Any]]]:
        if self._json_mode is not None:
            return [self._json_mode]
        return [_json_schema_format, _json_object_format]


def _json_schema_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}


def _json_object_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_object", "schema": schema}
