"""``voice-service eval``: the evaluation report (STT, latency, speech quality, satisfaction).

The figures are ``learning.evaluation``'s; this module only wires in what lives on the
service's side (the configured TTS backend for ``--tts``) and prints a summary. Output: a
folder with ``report.html`` and ``report.json`` (or ``--report FILE.html`` and the JSON
beside it). Production figures (latency, satisfaction, human MOS) come from the capture
database when it has been created (``voice-service db upgrade``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import VoiceServiceError
from core.settings import VOICES, Settings


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("eval", help="evaluation report: WER, latency, MOS, thumbs up")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--set", type=Path, help="folder with manifest.jsonl (file, text, domain)")
    source.add_argument("--dataset", type=Path, help="a dataset folder saved with save_to_disk")
    parser.add_argument("--split", default="test", help="split of --dataset (default test)")
    parser.add_argument("--stt", type=Path, help="CTranslate2 Whisper folder (default: settings)")
    parser.add_argument("--report", type=Path, help="output folder, or a FILE.html")
    parser.add_argument(
        "--bench",
        type=Path,
        action="append",
        default=[],
        help="a bench-talk --set results folder (repeatable)",
    )
    parser.add_argument("--tts", action="store_true", help="DNSMOS and intelligibility of the TTS")
    parser.add_argument("--voices", default=",".join(VOICES), help="voices for --tts")
    parser.add_argument("--answers", type=int, default=100, help="fixed answers per voice (--tts)")
    parser.add_argument("--no-production", action="store_true", help="leave out captured turns")
    parser.add_argument("--publish", metavar="ID", help="also store it in the object store as ID")
    parser.set_defaults(run=run)


def _paths(out: Path | None, settings: Settings) -> tuple[Path, Path]:
    if out is None:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        out = settings.data_dir / "reports" / f"eval-{stamp}"
    if out.suffix == ".html":
        return out, out.with_suffix(".json")
    return out / "report.html", out / "report.json"


def _synthesizer(settings: Settings) -> Any:
    """(text, voice) -> (float32 audio, sample rate) with the configured TTS backend."""
    from api.voice.tts import load_tts

    tts = load_tts(settings)

    async def collect(text: str, voice: Any) -> bytes:
        return b"".join([chunk async for chunk in tts.synthesize(text, voice)])

    def synthesize(text: str, voice: str) -> tuple[np.ndarray, int]:
        pcm = asyncio.run(collect(text, voice))
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, tts.sample_rate

    return synthesize


def _production(settings: Settings) -> dict[str, Any] | None:
    from sqlalchemy.exc import SQLAlchemyError

    from learning.evaluation.production import production_figures

    try:
        return production_figures(settings)
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0][:160]
        print(f"voice-service: note: no captured turns read ({first})", file=sys.stderr)
        return None


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Measure what was asked, write the report, print a summary."""
    from learning.evaluation import report
    from learning.evaluation.latency import from_bench, slo
    from learning.evaluation.sets import load_set
    from learning.evaluation.stt import evaluate_stt
    from learning.evaluation.weekly import configured_models

    voices = [v.strip() for v in args.voices.split(",") if v.strip()]
    if args.tts and (unknown := [v for v in voices if v not in VOICES]):
        raise VoiceServiceError(
            f"unknown voice {unknown[0]!r}; choose from {', '.join(VOICES)}", code="bad_argument"
        )
    if not 1 <= args.answers <= 1000:
        raise VoiceServiceError("--answers must be 1 to 1000", code="bad_argument")
    html_path, json_path = _paths(args.report, settings)
    models = configured_models(settings)
    if args.stt is not None:
        models["stt"] = f"faster_whisper:{args.stt.resolve().name}"
    eval_set = None
    set_path = args.set or args.dataset
    if set_path is not None:  # read and checked before any model is loaded
        if not set_path.exists():
            raise VoiceServiceError(f"{set_path}: no such folder", code="bad_eval_set")
        eval_set = load_set(set_path, split=args.split)
    bench = [from_bench(folder, slo(settings)) for folder in args.bench]
    transcriber = None
    if eval_set is not None or args.tts:
        from learning.evaluation.transcriber import WhisperTranscriber

        path = args.stt or settings.resolved_stt_model_path()
        transcriber = WhisperTranscriber(path, settings=settings, version=models["stt"])
    stt = evaluate_stt(transcriber, eval_set) if eval_set is not None and transcriber else None
    quality = None
    if args.tts and transcriber is not None:
        from learning.evaluation.quality import fixed_answers, speech_quality

        quality = speech_quality(
            _synthesizer(settings),
            voices,
            fixed_answers(args.answers),
            transcriber,
            versions=models,
        )
    production = None if args.no_production else _production(settings)
    document = report.build(
        models=models, stt=stt, bench=bench, quality=quality, production=production
    )
    html_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(report.to_json(document), encoding="utf-8")
    html_path.write_text(report.render_html(document), encoding="utf-8")
    if args.publish:
        from learning.evaluation.storage import publish

        publish(settings, args.publish, document)
    _summary(document, html_path)
    return 0


def _summary(document: dict[str, Any], html_path: Path) -> None:
    stt = document["stt"]
    if stt:
        terms = stt["terms"]["term_error_rate"]
        print(
            f"STT {stt['model']}: WER {stt['overall']['wer']} over "
            f"{stt['overall']['utterances']} utterances; term error rate {terms}"
        )
        for domain, figures in stt["per_domain"].items():
            print(f"  {domain}: WER {figures['wer']} ({figures['utterances']} utterances)")
    for run in document["bench"]:
        f = run["first_audio"]
        print(f"bench-talk {run['folder']}: P50 {f['p50']} P95 {f['p95']} P99 {f['p99']} ms")
    if document["quality"]:
        for voice, f in document["quality"]["per_voice"].items():
            print(
                f"TTS {voice}: DNSMOS OVRL {f['dnsmos']['ovrl_mos']['mos']}, "
                f"intelligibility WER {f['intelligibility_wer']}"
            )
    production = document["production"]
    if production:
        e2e = production["latency"]["end_to_end"]
        print(
            f"captured turns: {production['period']['turns']}; first audio P50 {e2e['p50']} "
            f"P95 {e2e['p95']} P99 {e2e['p99']} ms; thumbs up "
            f"{production['satisfaction']['overall']['rate']}"
        )
    print(f"report: {html_path}")
