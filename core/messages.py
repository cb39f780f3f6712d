"""Typed messages passed between the stages of a turn (and, later, to the capture pipeline)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Intent = Literal["scientific_query", "unit_conversion", "greeting", "help", "smalltalk", "other"]
Domain = Literal["physics", "chemistry", "math", "biology", "engineering", "none"]
INTENTS: tuple[Intent, ...] = (
    "scientific_query",
    "unit_conversion",
    "greeting",
    "help",
    "smalltalk",
    "other",
)
DOMAINS: tuple[Domain, ...] = ("physics", "chemistry", "math", "biology", "engineering", "none")


class Word(BaseModel):
    """One recognised word with its time span in the utterance (seconds)."""

    text: str
    start: float
    end: float
    probability: float


class Transcript(BaseModel):
    """What the speech-to-text stage heard."""

    text: str
    words: list[Word] = Field(default_factory=list)
    avg_logprob: float = 0.0
    duration_s: float = 0.0


class NLUEntity(BaseModel):
    """A key term or quantity, with character offsets into the transcript."""

    text: str
    label: Literal["term", "quantity"]
    start: int
    end: int


class NLUResult(BaseModel):
    """Intent, domain and entities of one utterance; always valid (falls back to ``other``)."""

    intent: Intent = "other"
    domain: Domain = "none"
    entities: list[NLUEntity] = Field(default_factory=list)
    confidence: float = 0.0


class Passage(BaseModel):
    """A knowledge-base passage returned by retrieval."""

    id: str
    title: str
    text: str
    source: str
    score: float = 0.0


class Latency(BaseModel):
    """Per-stage wall time of one turn, in milliseconds (the names capture metadata uses)."""

    stt_ms: float = 0.0
    nlu_ms: float = 0.0
    rag_ms: float = 0.0
    llm_ms: float = 0.0
    tts_ms: float = 0.0
    total_ms: float = 0.0
    first_audio_ms: float | None = None


class ChatMessage(BaseModel):
    """One message of an LLM conversation."""

    role: Literal["system", "user", "assistant"]
    content: str
