"""Producing one turn's answer: the chain's events become server events in protocol order.

Everything goes into the ``Turn``'s queue (held back until the turn is committed). Once the
answer is complete and committed, it waits until the user can no longer resume the turn,
then ``settled`` hands it on (the conversation's history, the capture pipeline).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from api.voice.chain import VoiceChain
from api.voice.conversation import Conversation
from api.voice.events import AudioOut, ResponseDelta, SourcesFound, TurnFinished, Understood
from api.voice.server_events import (
    AudioEndEvent,
    AudioStartEvent,
    ErrorEvent,
    NluEvent,
    ResponseDeltaEvent,
    TurnEndEvent,
)
from api.voice.turn import Turn
from core.errors import VoiceServiceError
from core.messages import Latency, NLUResult
from core.settings import VoiceName

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answered:
    """A turn whose answer was heard and can no longer be merged with what follows."""

    turn: Turn
    nlu: NLUResult
    response: str
    latency: Latency  # the chain's timings (the client's first audio and total are its own)


async def produce_answer(
    turn: Turn,
    *,
    chain: VoiceChain,
    conversation: Conversation,
    voice: VoiceName,
    stt_ms: float,
    resume_s: tuple[float, float],
    settled: Callable[[Answered], None],
) -> None:
    """Run the chain for ``turn``, queueing its output; ``settled`` once it is for good."""
    started_audio = False
    sources: list[str] = []
    nlu = NLUResult()
    try:
        async for event in chain.run_turn(
            conversation=conversation,
            voice=voice,
            transcript=turn.transcript,
            speech_end=turn.speech_end,
        ):
            if isinstance(event, Understood):
                nlu = event.nlu
                turn.emit(NluEvent.of(event.nlu))
            elif isinstance(event, SourcesFound):
                sources = [p.id for p in event.passages]
            elif isinstance(event, ResponseDelta):
                turn.emit(ResponseDeltaEvent(text=event.text))
            elif isinstance(event, AudioOut):
                if not started_audio:
                    started_audio = True
                    turn.emit(AudioStartEvent(turn_id=turn.id, sample_rate=event.sample_rate))
                turn.emit_audio(event.pcm, event.sample_rate)
            elif isinstance(event, TurnFinished):
                if started_audio:
                    turn.emit(AudioEndEvent(turn_id=turn.id))
                latency = event.latency.model_copy(update={"stt_ms": round(stt_ms, 1)})
                turn.emit(
                    TurnEndEvent(
                        turn_id=turn.id,
                        response=event.response,
                        sources=sources,
                        latency=latency,
                    )
                )
                await turn.committed.wait()  # history holds only answers that were heard
                turn.answered = True
                await turn.settled(*resume_s)  # and not merged into the next utterance
                conversation.add(turn.transcript.text, event.response)
                settled(Answered(turn, nlu, event.response, latency))
    except VoiceServiceError as exc:
        turn.emit(ErrorEvent.of(exc))
    except Exception:
        log.exception("turn %s failed", turn.id)
        turn.emit(ErrorEvent(code="internal_error", message="the answer could not be produced"))
    finally:
        turn.finish()
