"""Pipecat 1.14 with this project's models, behind the part of `/v1/voice` that bench-talk reads.

The peer of PEERS.md, built so that `voice-service bench-talk --set` times it exactly as it
times this project: faster-whisper tiny.en (the same CTranslate2 folder), SmolLM2-135M through
llama.cpp's OpenAI-compatible server, the same Piper voice, Silero VAD, and Pipecat's own
end-of-turn decision (`--turn smart`: its default, smart-turn v3 after a 0.2 s VAD stop;
`--turn timeout`: VAD plus a fixed speech timeout). One pipeline per WebSocket connection, so
`--concurrency N` means N users at once, as it does for this project.

Wire format (a subset of docs/protocol.md): binary frames in are PCM16 16 kHz mono; binary
frames out are the reply's PCM16 at 22,050 Hz; text frames out are `transcript` (a committed
user turn), `audio_start`, `turn_end` and `interrupted`, each with a `turn_id`. Text frames in
(`start`, `stop`) are ignored.

It needs Pipecat, which this project does not depend on, in a virtualenv of its own; the
commands are in docs/PERFORMANCE.md ("Against Pipecat on the turn set").
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, WebSocket
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    OutputAudioRawFrame,
    OutputTransportMessageFrame,
    OutputTransportMessageUrgentFrame,
    TTSStartedFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.runner import PipelineRunner
from pipecat.pipeline.task import PipelineParams, PipelineTask
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.services.openai.llm import OpenAILLMService
from pipecat.services.piper.tts import PiperTTSService
from pipecat.services.whisper.stt import WhisperSTTService
from pipecat.transports.websocket.fastapi import (
    FastAPIWebsocketParams,
    FastAPIWebsocketTransport,
)
from pipecat.turns.user_stop import (
    SpeechTimeoutUserTurnStopStrategy,
    TurnAnalyzerUserTurnStopStrategy,
)
from pipecat.turns.user_turn_strategies import UserTurnStrategies

# This project's base system prompt (api/voice/prompts.py), so both answer alike.
SYSTEM_PROMPT = (
    "You are a friendly voice assistant for science questions. Your words are spoken aloud, so "
    "answer in one to three short, plain sentences. Never use markdown, lists or symbols."
)
IN_RATE, OUT_RATE = 16_000, 22_050


class WireSerializer(FrameSerializer):
    """PCM16 both ways, and JSON events as text frames."""

    async def serialize(self, frame: Frame) -> str | bytes | None:
        """Reply audio as bytes, our events as JSON, nothing else."""
        if isinstance(frame, OutputAudioRawFrame):
            return frame.audio
        if isinstance(frame, OutputTransportMessageFrame | OutputTransportMessageUrgentFrame):
            return json.dumps(frame.message)
        return None

    async def deserialize(self, data: str | bytes) -> Frame | None:
        """Microphone audio; the client's JSON control messages are not needed here."""
        if isinstance(data, bytes):
            return InputAudioRawFrame(audio=data, sample_rate=IN_RATE, num_channels=1)
        return None


class TurnEvents:
    """The turn ids that the two event processors share within one connection."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.turn = ""
        self.audio_started = False


class CommittedTurn(FrameProcessor):
    """After the user aggregator: each context it sends to the LLM is one committed turn."""

    def __init__(self, state: TurnEvents) -> None:
        super().__init__()
        self.state = state

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Send `transcript` for the user's last message, then pass the frame on."""
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame) and direction == FrameDirection.DOWNSTREAM:
            self.state.turn = f"t{next(self.state.ids)}"
            self.state.audio_started = False
            text = _last_user_text(frame.context.get_messages())
            message = {"type": "transcript", "turn_id": self.state.turn, "text": text}
            await self.push_frame(OutputTransportMessageUrgentFrame(message=message))
        await self.push_frame(frame, direction)


class ReplyEvents(FrameProcessor):
    """After TTS: `audio_start` before a turn's first audio, `turn_end` after its last text."""

    def __init__(self, state: TurnEvents) -> None:
        super().__init__()
        self.state = state

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Mark the reply's start, end and interruption around the frames passed on."""
        await super().process_frame(frame, direction)
        turn = self.state.turn
        if isinstance(frame, InterruptionFrame) and self.state.audio_started:
            message = {"type": "interrupted", "turn_id": turn}
            await self.push_frame(OutputTransportMessageUrgentFrame(message=message))
            self.state.audio_started = False
        if isinstance(frame, TTSStartedFrame) and turn and not self.state.audio_started:
            self.state.audio_started = True
            start = {"type": "audio_start", "turn_id": turn, "sample_rate": OUT_RATE}
            await self.push_frame(OutputTransportMessageFrame(message=start))
        await self.push_frame(frame, direction)
        if isinstance(frame, LLMFullResponseEndFrame) and turn:
            await self.push_frame(
                OutputTransportMessageFrame(message={"type": "turn_end", "turn_id": turn})
            )


def _last_user_text(messages: list[Any]) -> str:
    """The user's messages since the last reply: what the LLM answers as one turn."""
    texts: list[str] = []
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            break
        content = message.get("content")
        texts.insert(0, content if isinstance(content, str) else json.dumps(content))
    return " ".join(texts)


def build_app(args: argparse.Namespace, voice_dir: Path) -> FastAPI:
    """One pipeline per connection on `/v1/voice`."""
    app = FastAPI()

    @app.websocket("/v1/voice")
    async def voice(websocket: WebSocket) -> None:
        await websocket.accept()
        if args.turn == "smart":
            stop: Any = TurnAnalyzerUserTurnStopStrategy(turn_analyzer=LocalSmartTurnAnalyzerV3())
        else:
            stop = SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=args.speech_timeout)
        transport = FastAPIWebsocketTransport(
            websocket,
            FastAPIWebsocketParams(
                audio_in_enabled=True,
                audio_out_enabled=True,
                audio_in_sample_rate=IN_RATE,
                audio_out_sample_rate=OUT_RATE,
                add_wav_header=False,
                serializer=WireSerializer(),
            ),
        )
        stt = WhisperSTTService(model=args.stt_model, device="cpu", compute_type="int8")
        llm = OpenAILLMService(api_key="none", base_url=args.llm_url, model="smollm2")
        tts = PiperTTSService(voice_id=args.voice, download_dir=voice_dir)
        context = LLMContext([{"role": "system", "content": SYSTEM_PROMPT}])
        aggregators = LLMContextAggregatorPair(
            context,
            user_params=LLMUserAggregatorParams(
                vad_analyzer=SileroVADAnalyzer(params=VADParams(stop_secs=args.vad_stop)),
                user_turn_strategies=UserTurnStrategies(stop=[stop]),
            ),
        )
        state = TurnEvents()
        pipeline = Pipeline(
            [
                transport.input(),
                stt,
                aggregators.user(),
                CommittedTurn(state),
                llm,
                tts,
                ReplyEvents(state),
                transport.output(),
                aggregators.assistant(),
            ]
        )
        task = PipelineTask(
            pipeline,
            params=PipelineParams(audio_in_sample_rate=IN_RATE, audio_out_sample_rate=OUT_RATE),
        )

        @transport.event_handler("on_client_disconnected")
        async def _gone(_transport: Any, _client: Any) -> None:
            await task.cancel()

        await PipelineRunner(handle_sigint=False).run(task)

    return app


def main() -> None:
    """Parse the options, lay out the Piper voice where Pipecat looks for it, and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8741)
    parser.add_argument("--stt-model", required=True, help="CTranslate2 Whisper folder")
    parser.add_argument("--piper-model", type=Path, required=True, help="the voice's .onnx")
    parser.add_argument("--llm-url", default="http://127.0.0.1:8742/v1")
    parser.add_argument("--turn", choices=["smart", "timeout"], default="smart")
    parser.add_argument("--vad-stop", type=float, default=0.2, help="Silero stop, seconds")
    parser.add_argument("--speech-timeout", type=float, default=0.5, help="with --turn timeout")
    args = parser.parse_args()
    # PiperTTSService loads <dir>/<voice>.onnx (+ .onnx.json) and downloads only when absent.
    voice_dir = Path(tempfile.mkdtemp(prefix="pipecat-voice-"))
    args.voice = args.piper_model.stem
    shutil.copy(args.piper_model, voice_dir / args.piper_model.name)
    config = Path(f"{args.piper_model}.json")
    shutil.copy(config, voice_dir / config.name)
    uvicorn.run(build_app(args, voice_dir), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
