"""Hands consenting users' turns, consent changes and late feedback to the capture workers.

Everything here runs off the voice path: the spool or outbox write (fsync) and the broker
publish happen on threads of the sink's own, so a slow disk or a broker that hangs can hold
up only captures, never the threads the sessions use. If the broker is down, turns wait in
the spool and consent changes in the outbox for the re-enqueue sweep. No turn is recorded for
a session without consent.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from api.shared_state import make_limiter
from capture.consent import ConsentChange, request_change
from capture.metadata import user_id_for
from capture.spool import Spool, SpoolRecord
from capture.store_local import secret
from core.messages import Latency, NLUResult, Transcript
from core.settings import Settings
from workers.config import enqueue_capture, enqueue_consent, enqueue_feedback, make_app

log = logging.getLogger(__name__)


class CaptureSink:
    """One per process; ``record`` is called once per consented, answered turn."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.models: dict[str, str] = {}  # names and versions, set once the models load
        self.spool = Spool(settings)
        key = secret(settings.user_id_secret, settings.data_dir / "user-id.key")
        self.user_secret = base64.b64encode(key).decode()
        self.pending: set[asyncio.Future[object]] = set()
        self.celery = make_app(settings)
        self.threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="capture")
        # Each consent change is a durable file and a task: a user gets so many an hour (on
        # every replica together when Redis is configured).
        self.consent_limit = make_limiter(
            settings.redis_url, "consent", settings.consent_changes_per_user_per_hour, 3600.0
        )

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
        voice: str | None = None,
        models: dict[str, str] | None = None,
    ) -> None:
        """Queue the turn for capture; returns at once (the work runs on a thread).

        ``voice`` (the preset the answer was spoken in) is kept with the model versions;
        ``models`` adds the session's STT version and A/B arm to the process' model names.
        """
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
            latency=latency.model_dump(exclude_none=True),
            models={**self.models, **(models or {}), **({"voice": voice} if voice else {})},
            words=transcript.words,
            avg_logprob=transcript.avg_logprob,
            feedback=feedback,
        )
        self._in_background(self._spool_and_enqueue, entry, pcm)

    def consent_changed(self, user_token: str, granted: bool, source: str) -> None:
        """Keep a grant or revocation (a revocation erases the user's captures)."""
        self._in_background(self.change_consent, self.user_id(user_token), granted, source)

    def consent_allowed(self, user_token: str) -> bool:
        """Count one consent change of the user; False once over the hourly limit."""
        user_id = self.user_id(user_token)
        if self.consent_limit.blocked(user_id):
            return False
        self.consent_limit.count(user_id)
        return True

    def feedback(self, turn_id: str, value: str | None) -> None:
        """Feedback on a turn already handed over: the workers update what was stored."""
        at = datetime.now(UTC)
        self._in_background(self._publish_feedback, turn_id, value, uuid.uuid4().hex, at)

    async def drain(self) -> None:
        """Wait for the background writes started so far (shutdown, tests)."""
        while self.pending:
            await asyncio.gather(*self.pending, return_exceptions=True)

    async def request_erasure(self, user_token: str, source: str) -> ConsentChange:
        """Withdraw consent and erase (``DELETE /v1/me/data``); returns once the change is kept."""
        loop = asyncio.get_running_loop()
        user_id = self.user_id(user_token)
        return await loop.run_in_executor(self.threads, self.change_consent, user_id, False, source)

    def change_consent(self, user_id: str, granted: bool, source: str) -> ConsentChange:
        """Keep the change durably, then ask a worker to apply it (blocking: run on a thread)."""
        change = request_change(self.settings, user_id, granted=granted, source=source)
        try:
            enqueue_consent(self.celery, change.event_id)
        except Exception:  # broker down: the outbox keeps it for the sweep
            log.warning(
                "consent change %s waits in the outbox: broker unreachable", change.event_id
            )
        return change

    def _in_background(self, work: Callable[..., object], *args: object) -> None:
        context = contextvars.copy_context()  # the thread's log lines carry the turn's ids
        task = asyncio.get_running_loop().run_in_executor(self.threads, context.run, work, *args)
        self.pending.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[object]) -> None:
        self.pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("capture hand-over failed", exc_info=task.exception())

    def _spool_and_enqueue(self, entry: SpoolRecord, pcm: bytes) -> None:
        self.spool.put(entry, pcm)
        log.info("turn spooled for capture")  # its turn id comes with the line
        try:
            enqueue_capture(self.celery, entry.turn_id)
        except Exception:  # broker down: the spool keeps it for the sweep
            log.warning("capture of %s waits in the spool: broker unreachable", entry.turn_id)

    def _publish_feedback(
        self, turn_id: str, value: str | None, event_id: str, at: datetime
    ) -> None:
        try:
            enqueue_feedback(self.celery, turn_id, value, event_id, at)
        except Exception:
            log.warning("feedback on %s was not recorded: broker unreachable", turn_id)
