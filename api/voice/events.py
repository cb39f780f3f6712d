"""What a turn emits, in order: transcript, NLU, sources, response deltas and audio, done."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.messages import Latency, NLUResult, Passage, Transcript


@dataclass
class TranscriptReady:
    """The final transcript of the user's utterance."""

    transcript: Transcript


@dataclass
class Understood:
    """Intent, domain and entities."""

    nlu: NLUResult


@dataclass
class SourcesFound:
    """Passages the answer is grounded in (empty when none)."""

    passages: list[Passage]


@dataclass
class ResponseDelta:
    """A piece of the answer text as it is generated."""

    text: str


@dataclass
class AudioOut:
    """A chunk of the spoken answer: PCM16 mono, at most ``tts_chunk_ms`` long."""

    pcm: bytes
    sample_rate: int


@dataclass
class TurnFinished:
    """The whole answer and the turn's timings."""

    response: str
    latency: Latency
    passages: list[Passage] = field(default_factory=list)


TurnEvent = TranscriptReady | Understood | SourcesFound | ResponseDelta | AudioOut | TurnFinished
