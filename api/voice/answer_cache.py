"""Cached answers to common questions, and cached speech of repeated phrases.

Keys are the normalized question (or the exact sentence spoken), the voice, and the versions
of the models and settings that shape the result, hashed. A response is cached only when it
cannot depend on who asked: the question opens its conversation (no history in the prompt)
and every action finished in its budget. No action retrieves user-specific data today (the
knowledge base and the fact store are the operator's, shared by all users), so a cached
answer is safe to serve to anyone; an action that reads a user's own data must make its
turns uncacheable (docs/PERFORMANCE.md, "Caches").
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from api.voice.audio import rechunk
from api.voice.cache import RedisStore, Store, memory_store
from api.voice.facts.answer import Said
from api.voice.nlu import normalize_utterance
from api.voice.scheduler import Priority, get_scheduler
from api.voice.tts import TextToSpeech, chunk_bytes
from core.messages import NLUResult, Passage
from core.settings import Settings, VoiceName

_WORDS = re.compile(r"[a-z0-9']+(?:\.[0-9]+)?")
_DIGIT_RUN = re.compile(r"\d(?:[\s-]?\d){3}")  # 4+ digits: a card, phone or account number
MAX_CACHED_WORDS = 24  # common questions are short; a long utterance is personal
KEY_VERSION = "1"  # bump when what is cached changes shape


def normalize_question(text: str) -> str:
    """Lower case, fillers and punctuation dropped.

    "Um, what's the speed of light?" -> "what's the speed of light".
    """
    return " ".join(_WORDS.findall(normalize_utterance(text)))


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps([KEY_VERSION, *parts]).encode()).hexdigest()


@dataclass
class CachedAnswer:
    """What a turn needs to be answered again without NLU, actions or the LLM."""

    nlu: NLUResult
    passages: list[Passage]
    sentences: list[Said]

    def dumps(self) -> bytes:
        """JSON bytes."""
        return json.dumps(
            {
                "nlu": self.nlu.model_dump(mode="json"),
                "passages": [p.model_dump(mode="json") for p in self.passages],
                "sentences": [[s.text, s.speech, s.replaced] for s in self.sentences],
            }
        ).encode()

    @classmethod
    def loads(cls, raw: bytes) -> CachedAnswer | None:
        """Parsed, or None when the entry is unreadable (it is then treated as a miss)."""
        try:
            data = json.loads(raw)
            return cls(
                nlu=NLUResult.model_validate(data["nlu"]),
                passages=[Passage.model_validate(p) for p in data["passages"]],
                sentences=[Said(t, s, bool(r)) for t, s, r in data["sentences"]],
            )
        except (ValueError, KeyError, TypeError):
            return None


class ResponseCache:
    """Answers by normalized question, voice and model versions."""

    def __init__(self, store: Store, versions: dict[str, str], settings: Settings) -> None:
        self.store = store
        # Settings that change what is said for the same question.
        self.versions = {
            **versions,
            "max_answer_sentences": str(settings.max_answer_sentences),
            "llm_max_tokens": str(settings.llm_max_tokens),
            "facts_answer": settings.facts_answer,
            "first_clause_words": str(settings.first_clause_words),
            "first_phrase_words": str(settings.first_phrase_words),
            "actions": json.dumps(settings.actions, sort_keys=True),
        }

    def key(self, question: str, voice: VoiceName, knowledge: str) -> str | None:
        """The key of ``question``, or None when it must not be cached.

        None when it has no words, is long, or holds a number of 4 or more digits (card,
        phone, account numbers: never kept, never shared).
        """
        normalized = normalize_question(question)
        if not normalized or len(normalized.split()) > MAX_CACHED_WORDS:
            return None
        if _DIGIT_RUN.search(question):  # never keep what may be a personal number
            return None
        return "response:" + _digest(normalized, voice, self.versions, knowledge)

    async def get(self, key: str) -> CachedAnswer | None:
        """The cached answer (a lookup of the shared store)."""
        raw = self.store.count("response", await self.store.get(key))
        return CachedAnswer.loads(raw) if raw is not None else None

    async def put(self, key: str, answer: CachedAnswer) -> None:
        """Cache a complete answer."""
        if answer.sentences:
            await self.store.set(key, answer.dumps())


class SpeechCache:
    """Synthesized sentences by exact text, voice and TTS model; replayed in the same chunks."""

    def __init__(self, store: Store, tts_name: str, chunk_ms: int) -> None:
        self.store, self.tts_name, self.chunk_ms = store, tts_name, chunk_ms

    def key(self, text: str, voice: VoiceName, sample_rate: int) -> str:
        """Exact text: punctuation changes how Piper says it."""
        return "speech:" + _digest(text, voice, self.tts_name, sample_rate)

    async def lookup(self, text: str, voice: VoiceName, sample_rate: int) -> bytes | None:
        """The sentence's PCM16 audio if it was spoken before."""
        return self.store.count("speech", await self.store.get(self.key(text, voice, sample_rate)))

    async def keep(self, text: str, voice: VoiceName, sample_rate: int, pcm: bytes) -> None:
        """Cache a sentence's audio."""
        if pcm:
            await self.store.set(self.key(text, voice, sample_rate), pcm)


async def spoken(
    cache: SpeechCache | None, tts: TextToSpeech, text: str, voice: VoiceName, level: Priority
) -> AsyncGenerator[bytes, None]:
    """``tts.synthesize(text, voice)``, from the cache when the sentence was spoken before.

    Otherwise spoken now in a TTS slot of the scheduler at ``level``, and cached once
    complete (a sentence cut short by barge-in is not kept).
    """
    if cache is not None:
        pcm = await cache.lookup(text, voice, tts.sample_rate)
        if pcm is not None:
            for chunk in rechunk([pcm], chunk_bytes(tts.sample_rate, cache.chunk_ms)):
                yield chunk
            return
    chunks: list[bytes] = []
    async with get_scheduler().slot("tts", level):
        async for chunk in tts.synthesize(text, voice):
            chunks.append(chunk)
            yield chunk
    if cache is not None:
        await cache.keep(text, voice, tts.sample_rate, b"".join(chunks))


@dataclass
class Caches:
    """The response and speech caches of one process (None: turned off in the settings)."""

    responses: ResponseCache | None = None
    speech: SpeechCache | None = None
    # The models the keys describe: a copy of them with another LLM, TTS or settings
    # (``dataclasses.replace``) must not be answered from these caches.
    owner: object = field(default=None, repr=False, compare=False)

    def serve(self, models: object) -> Caches:
        """These caches if they were built for ``models``, else none."""
        return self if self.owner is models else Caches()

    @classmethod
    def from_settings(
        cls, settings: Settings, versions: dict[str, str], owner: object = None
    ) -> Caches:
        """Built from ``response_cache``, ``speech_cache``, ``redis_url`` and the bounds."""
        megabytes = settings.cache_memory_mb * 1024 * 1024
        url = settings.redis_url
        shared = RedisStore(url, ttl_s=settings.cache_ttl_s) if url else None
        responses = speech = None
        if settings.response_cache:
            store = shared or memory_store(settings, max_entries=10_000, max_bytes=megabytes // 8)
            responses = ResponseCache(store, versions, settings)
        if settings.speech_cache:
            store = shared or memory_store(settings, max_entries=5_000, max_bytes=megabytes)
            speech = SpeechCache(store, versions.get("tts", ""), settings.tts_chunk_ms)
        return cls(responses, speech, owner)


def knowledge_version(passages: list[Passage]) -> str:
    """A fingerprint of the knowledge base: answers change when its documents do."""
    digest = hashlib.sha256()
    for passage in passages:
        digest.update(passage.id.encode())
        digest.update(str(len(passage.text)).encode())
    return digest.hexdigest()[:16]
