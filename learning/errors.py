"""Errors of the learning loop: each a one-line message with a stable code."""

from __future__ import annotations

from core.errors import VoiceServiceError


class LearningError(VoiceServiceError):
    """Bad input to a learning step (dataset, base model, settings); nothing was changed."""

    code = "bad_learning_input"


class ModelNotFound(LearningError):
    """No registry entry has that id."""

    code = "model_not_found"


class NotEvaluated(LearningError):
    """A promotion needs an evaluation of the model first."""

    code = "not_evaluated"


class TrainingBusy(LearningError):
    """Another training job is running (one at a time)."""

    code = "training_busy"
