"""Language understanding: intent, domain and entities, always schema-valid."""

from __future__ import annotations

import json
import logging
import re
from abc import ABC, abstractmethod
from typing import Any

from pydantic import ValidationError

from api.voice.llm import LanguageModel, load_llm
from api.voice.registry import Registry
from core.messages import DOMAINS, INTENTS, NLUResult
from core.settings import Settings

log = logging.getLogger(__name__)

MAX_NLU_CHARS = 2_000  # an utterance of 60 s is ~1,000 characters; more is not speech
_FILLERS = re.compile(r"\b(?:um+|uh+|erm?|hmm+|ah+|you know|i mean)\b[,.]?", re.IGNORECASE)
_SPACES = re.compile(r"\s+")

# The JSON schema an LLM backend is constrained to (grammar on llama.cpp, guided decoding on vLLM).
NLU_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "intent": {"type": "string", "enum": list(INTENTS)},
        "domain": {"type": "string", "enum": list(DOMAINS)},
        "entities": {"type": "array", "items": {"type": "string"}, "maxItems": 6},
    },
    "required": ["intent", "domain", "entities"],
}


def normalize_utterance(text: str) -> str:
    """Lower-case, drop speech fillers and extra spaces: what the classifiers see."""
    return _SPACES.sub(" ", _FILLERS.sub(" ", text[:MAX_NLU_CHARS].lower())).strip()


def consistent(intent: str, domain: str, fallback_domain: str = "physics") -> tuple[str, str]:
    """Apply the labelling rules: only science intents carry a domain; conversions are physics."""
    if intent == "unit_conversion":
        return intent, "physics"
    if intent != "scientific_query":
        return intent, "none"
    return intent, domain if domain != "none" else fallback_domain


def parse_nlu_json(raw: str | dict[str, Any]) -> NLUResult:
    """Validate backend output; anything that fails becomes ``other``/``none``."""
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(data, dict):
            return NLUResult()
        data = {
            k: v for k, v in data.items() if k != "entities"
        }  # entity offsets come from the text, not from the model
        result = NLUResult.model_validate(data)
    except (ValueError, TypeError, ValidationError):
        return NLUResult()
    intent, domain = consistent(result.intent, result.domain)
    return result.model_copy(update={"intent": intent, "domain": domain})


class LanguageUnderstanding(ABC):
    """Backends implement ``_understand``; callers use ``understand``, which never raises."""

    async def understand(self, text: str) -> NLUResult:
        """Intent, domain and entities of ``text``; ``other`` on empty input or any failure."""
        text = text[:MAX_NLU_CHARS]
        if not text.strip():
            return NLUResult()
        try:
            return await self._understand(text)
        except Exception:  # NLU must never break a turn
            log.exception("NLU failed; answering as 'other'")
            return NLUResult()

    @abstractmethod
    async def _understand(self, text: str) -> NLUResult:
        """Backend-specific analysis of a non-empty utterance."""


registry: Registry[LanguageUnderstanding] = Registry("nlu")
registry.register("classifier", "api.voice.backends.nlu_classifier:ClassifierNLU")
registry.register("llm", "api.voice.backends.nlu_llm:LLMNLU")


def load_nlu(settings: Settings, llm: LanguageModel | None = None) -> LanguageUnderstanding:
    """The configured NLU backend; the ``llm`` backend uses ``llm``, or loads its own."""
    backend = registry.load(settings.nlu_backend)
    if settings.nlu_backend == "llm":
        return backend(settings, llm or load_llm(settings))  # type: ignore[call-arg]
    return backend(settings)  # type: ignore[call-arg]
