"""NLU by the response LLM itself, constrained to a JSON schema (production: Llama 3.1 8B).

Entities are then located in the text with the same quantity grammar the classifier uses,
plus the key terms the model names, so offsets always point into the transcript.
"""

from __future__ import annotations

import json

from api.voice.entities import find_quantities, merge_entities
from api.voice.llm import LanguageModel
from api.voice.nlu import NLU_SCHEMA, LanguageUnderstanding, parse_nlu_json
from core.messages import ChatMessage, NLUEntity, NLUResult
from core.settings import Settings

INSTRUCTIONS = (
    "Classify the user's utterance for a spoken science assistant. Reply with JSON only.\n"
    "intent: scientific_query (a science, math or engineering question), unit_conversion "
    "(convert a quantity between units), greeting, help (what the assistant can do), "
    "smalltalk (chit-chat), other (anything off-topic).\n"
    "domain: physics, chemistry, math, biology, engineering, or none when the intent is not "
    "scientific_query.\nentities: the key terms and quantities, copied exactly from the text."
)


class LLMNLU(LanguageUnderstanding):
    """Uses the process's shared language model; built by ``load_models`` after the LLM."""

    def __init__(self, settings: Settings, llm: LanguageModel) -> None:
        self.settings = settings
        self.llm = llm

    async def _understand(self, text: str) -> NLUResult:
        messages = [
            ChatMessage(role="system", content=INSTRUCTIONS),
            ChatMessage(role="user", content=text),
        ]
        raw = await self.llm.complete_json(messages, NLU_SCHEMA)
        result = parse_nlu_json(raw)
        terms = []
        try:
            named = json.loads(raw).get("entities", [])
        except (ValueError, AttributeError):
            named = []
        lowered = text.lower()
        for term in named if isinstance(named, list) else []:
            start = lowered.find(str(term).lower()) if term else -1
            if start >= 0:
                end = start + len(str(term))
                terms.append(NLUEntity(text=text[start:end], label="term", start=start, end=end))
        return result.model_copy(update={"entities": merge_entities(find_quantities(text), terms)})
