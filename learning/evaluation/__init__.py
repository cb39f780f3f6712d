"""Evaluation harness: STT accuracy, latency, speech quality, human MOS, satisfaction, reports.

Plain functions that the CLI (``voice-service eval``), the weekly Celery task and the
fine-tune gate call. ``evaluate_stt`` is the entry point for scoring a speech-to-text model.
"""

from __future__ import annotations

from learning.evaluation.sets import BadEvalSet, EvalSet, Utterance, load_set
from learning.evaluation.stt import evaluate_stt, score

__all__ = ["BadEvalSet", "EvalSet", "Utterance", "evaluate_stt", "load_set", "score"]
