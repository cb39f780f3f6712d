"""What one session hands to the capture pipeline: consent changes, answered turns, feedback.

Consent is recorded only when it changes, a limited number of times; a change over the
limit applies to the session at once and is recorded when the session ends. A turn is
handed over only if the user consents when it is settled; feedback on a turn already
handed over goes to the workers, feedback that comes earlier travels with the turn.
"""

from __future__ import annotations

from api.voice.capture_sink import CaptureSink
from api.voice.protocol import ProtocolError
from core.messages import Latency, NLUResult, Transcript
from core.settings import Settings


class CaptureHandOver:
    """Per session; ``sink`` is the process's ``CaptureSink`` (None: nothing is captured)."""

    def __init__(
        self,
        sink: CaptureSink | None,
        settings: Settings,
        *,
        session_id: str,
        user_token: str,
        region: str,
        consent: bool,
        voice: str | None = None,
        models: dict[str, str] | None = None,
    ) -> None:
        self.sink, self.settings = sink, settings
        self.models = models  # the session's STT version and A/B arm, kept with each capture
        self.session_id, self.user_token, self.region = session_id, user_token, region
        self.voice = voice  # the preset the answers are spoken in, kept with each capture
        self.consent = consent
        self.turn_index = 0  # of the next turn handed over
        self.feedback: dict[str, str | None] = {}  # turn id -> thumbs_up/thumbs_down/None
        self.captured: set[str] = set()  # turns handed to the capture pipeline
        self.consent_recorded: bool | None = None
        self.consent_changes = 0
        self.consent_deferred = self.consent_limit_said = False
        if consent:
            self._record_consent(True)

    def set_consent(self, granted: bool) -> None:
        """Consent given or withdrawn mid-session (a withdrawal erases what was captured).

        Raises ``ProtocolError`` (once per session) when the change is over a limit: it
        applies now and is recorded when the session ends.
        """
        self.consent = granted
        if not self._record_consent(granted) and not self.consent_limit_said:
            self.consent_limit_said = True  # once: the client may go on sending
            raise ProtocolError(
                "too many consent changes; the last is kept at the end", code="rate_limited"
            )

    def turn_heard(self, turn_id: str) -> None:
        """A turn of this session the user may rate from now on."""
        self.feedback[turn_id] = None

    def turn_dropped(self, turn_id: str) -> None:
        """A turn merged into the next one: it can no longer be rated."""
        self.feedback.pop(turn_id, None)

    def rate(self, turn_id: str, value: str | None) -> None:
        """Feedback on a turn; ``ProtocolError`` for a turn this session did not have."""
        if turn_id not in self.feedback:
            raise ProtocolError("feedback names a turn of another session", code="unknown_turn")
        self.feedback[turn_id] = value
        if turn_id in self.captured and self.sink is not None:
            self.sink.feedback(turn_id, value)

    def turn_settled(
        self,
        turn_id: str,
        *,
        transcript: Transcript,
        response: str,
        nlu: NLUResult,
        latency: Latency,
        pcm: bytes,
    ) -> None:
        """Hand an answered turn over, if the user consents right now."""
        if not self.consent or self.sink is None:
            return
        self.sink.record(
            turn_id=turn_id,
            user_token=self.user_token,
            region=self.region,
            conversation_id=self.session_id,
            turn_index=self.turn_index,
            transcript=transcript,
            response=response,
            nlu=nlu,
            latency=latency,
            pcm=pcm,
            feedback=self.feedback.get(turn_id),
            voice=self.voice,
            models=self.models,
        )
        self.captured.add(turn_id)
        self.turn_index += 1

    def close(self) -> None:
        """The session ends: the user's last word on consent is kept."""
        if self.consent_deferred:
            self._record_consent(self.consent, limited=False)

    def _record_consent(self, granted: bool, *, limited: bool = True) -> bool:
        """Hand a change of consent to the pipeline; False when deferred by a limit."""
        if self.sink is None or granted == self.consent_recorded:
            self.consent_deferred = False
            return True
        if limited and (
            self.consent_changes >= self.settings.consent_changes_per_session
            or not self.sink.consent_allowed(self.user_token)
        ):
            self.consent_deferred = True
            return False
        self.sink.consent_changed(self.user_token, granted, "session")
        self.consent_recorded, self.consent_deferred = granted, False
        self.consent_changes += 1
        return True
