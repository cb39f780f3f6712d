"""Registry model versions loaded into the running API, and which one each session gets.

The process starts with the configured STT (``Models.stt``). An admin can load a registry
version by id (fetched from the object store, hash-checked) and make it the default, or run
an experiment: each new session is assigned an arm when it starts and keeps its model for
its whole life, so loading or switching never disturbs a running session.
"""

from __future__ import annotations

import hashlib
import logging
import threading

from api.voice.stt import SpeechToText, load_stt
from core.settings import Settings
from learning.experiments.ab import Arm, Running

log = logging.getLogger(__name__)


class SttVersions:
    """Loaded versions by id, the default, and the running experiment."""

    def __init__(self, settings: Settings, default: SpeechToText) -> None:
        self.settings = settings
        self.loaded: dict[str, SpeechToText] = {}
        self.default = default
        self.default_id: str | None = None  # None: the configured model, outside the registry
        self.experiment: Running | None = None
        self._lock = threading.Lock()

    def load(self, model_id: str) -> SpeechToText:
        """The version's model, loaded once (blocking: fetch and load; run it on a thread)."""
        from learning.registry.versions import local_folder

        with self._lock:
            if model_id in self.loaded:
                return self.loaded[model_id]
        folder = local_folder(self.settings, model_id)
        stt = load_stt(self.settings.model_copy(update={"stt_model_path": folder}))
        with self._lock:
            self.loaded.setdefault(model_id, stt)
            log.info("STT version %s loaded from %s", model_id, folder)
            return self.loaded[model_id]

    def set_default(self, model_id: str) -> None:
        """New sessions outside an experiment use ``model_id`` (loaded first)."""
        stt = self.load(model_id)
        self.default, self.default_id = stt, model_id

    def start_experiment(self, running: Running | None) -> None:
        """Assign new sessions by ``running`` (None: no experiment); both arms loaded first."""
        if running is not None:
            self.load(running.control_id)
            self.load(running.challenger_id)
        self.experiment = running

    def sync(self) -> None:
        """Take the registry's champion and running experiment (at start, or when told)."""
        from learning.experiments.ab import running
        from learning.registry.versions import available, base_id, champion

        if not available(self.settings):  # the database has no registry (yet)
            return
        best = champion(self.settings)
        if best is not None and best.id == base_id(self.settings):
            self.loaded[best.id], self.default_id = self.default, best.id  # already loaded
        elif best is not None and best.id != self.default_id:
            self.set_default(best.id)
        self.start_experiment(running(self.settings))

    def assign(self, user_token: str) -> tuple[SpeechToText, Arm]:
        """The model of a new session (sticky per user; per session for anonymous tokens)."""
        experiment = self.experiment
        if experiment is not None:
            user_hash = hashlib.sha256(user_token.encode()).hexdigest()
            arm = experiment.assign(user_hash)
            stt = self.loaded.get(arm.model_id or "")
            if stt is not None:
                return stt, arm
        return self.default, Arm(self.default_id)
