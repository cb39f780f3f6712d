"""Hands a consenting user's finished turn to the capture pipeline, off the voice path.

The spool write (fsync) and the broker publish run on a worker thread; if the broker is
down, the turn waits in the spool for the re-enqueue sweep. Nothing here runs for a session
without consent.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import UTC, datetime

from capture.metadata import user_id_for
from capture.spool import Spool, SpoolRecord
from capture.store_local import secret
from core.messages import Latency, NLUResult, Transcript
from core.settings import Settings
from workers.config import enqueue_capture, make_app

log = logging.getLogger(__name__)


class CaptureSink:
    """One per process; ``record`` is called once per consented, answered turn."""

    def __init__(self, settings: Settings, models: dict[str, str]) -> None:
        self.settings = settings
        self.models = models
        self.spool = Spool(settings)
        key = secret(settings.user_id_secret, settings.data_dir / "user-id.key")
        self.user_secret = base64.b64encode(key).decode()
        self.pending: set[asyncio.Task[None]] = set()
        self.celery = make_app(settings)

    def user_id(self, user_token: str) -> str:
        """The pseudonymous id stored instead of the token."""
        return user_id_for(user_token, self.user_secret)

    def record(
        self,
        *,
        turn_id: str,
        user_token: str,
        region: str,
        conversation_id: str,
        turn_index: int,
        transcript: Transcript,
        response: str,
        nlu: NLUResult,
        latency: Latency,
        pcm: bytes,
        feedback: str | None,
    ) -> None:
        """Queue the turn for capture; returns at once (the work runs on a thread)."""
        entry = SpoolRecord(
            turn_id=turn_id,
            user_id=self.user_id(user_token),
            timestamp=datetime.now(UTC).isoformat(),
            region=region,
            conversation_id=conversation_id,
            turn_index=turn_index,
            transcript=transcript.text,
            response=response,
            intent=nlu.intent,
            domain=nlu.domain,
            latency=latency.model_dump(exclude={"first_audio_ms"}),
            models=self.models,
            words=transcript.words,
            avg_logprob=transcript.avg_logprob,
            feedback=feedback,
        )
        task = asyncio.create_task(asyncio.to_thread(self._spool_and_enqueue, entry, pcm))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    def _spool_and_enqueue(self, entry: SpoolRecord, pcm: bytes) -> None:
        self.spool.put(entry, pcm)
        try:
            enqueue_capture(self.celery, entry.turn_id)
        except Exception:  # broker down: the spool keeps it for the sweep
            log.warning("capture of %s waits in the spool: broker unreachable", entry.turn_id)
