"""The evaluation report: one JSON document of figures, and the same figures as HTML.

``build`` gathers what was measured (any part may be absent); ``render_html`` draws it with
its plots; ``write`` puts both files in a folder. Every section names the model versions
that produced its figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from learning.evaluation import plots
from learning.evaluation.html import (
    Markup,
    figure,
    fmt,
    interval,
    models_line,
    page,
    slo_rows,
    table,
)

TITLE = "voice-service evaluation"


def build(
    *,
    models: Mapping[str, str],
    stt: Mapping[str, Any] | None = None,
    bench: Sequence[Mapping[str, Any]] | None = None,
    quality: Mapping[str, Any] | None = None,
    production: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report's JSON document."""
    return {
        "report": "evaluation",
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "models": dict(models),
        "stt": stt,
        "bench": list(bench or []),
        "quality": quality,
        "production": production,
    }


def to_json(document: Mapping[str, Any]) -> str:
    """The JSON file's text (times as ISO 8601)."""
    return json.dumps(document, indent=1, default=str) + "\n"


def write(folder: Path, document: Mapping[str, Any]) -> tuple[Path, Path]:
    """``report.html`` and ``report.json`` in ``folder`` (made if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    html_path, json_path = folder / "report.html", folder / "report.json"
    json_path.write_text(to_json(document), encoding="utf-8")
    html_path.write_text(render_html(document), encoding="utf-8")
    return html_path, json_path


def render_html(document: Mapping[str, Any]) -> str:
    """The report as one HTML page."""
    sections = [
        _stt(document.get("stt")),
        _latency(document.get("production"), document.get("bench") or []),
        _quality(document.get("quality")),
        _human(document.get("production")),
        _satisfaction(document.get("production")),
        _reviewed(document.get("production")),
    ]
    return page(TITLE, document["generated_at"], document["models"], sections)


def _counts_row(name: str, f: Mapping[str, Any]) -> list[Any]:
    return [
        name,
        f["utterances"],
        f["words"],
        fmt(f["wer"], True),
        f["substitutions"],
        f["deletions"],
        f["insertions"],
    ]


COUNT_HEAD = ["group", "utterances", "words", "WER", "substitutions", "deletions", "insertions"]


def _stt(stt: Mapping[str, Any] | None) -> str:
    if not stt:
        note = "No eval set was transcribed (--set or --dataset)."
        return f"<h2>Speech-to-text</h2><p class=note>{note}</p>"
    rows = [_counts_row("overall", stt["overall"])]
    rows += [_counts_row(d, f) for d, f in stt["per_domain"].items()]
    terms = stt["terms"]
    term_rows = [[t, f["occurrences"], f["missed"]] for t, f in terms["terms"].items()]
    worst = [
        [w["id"], w["domain"], fmt(w["wer"], True), w["reference"], w["hypothesis"]]
        for w in stt["worst"]
    ]
    title = f"WER per domain — STT {stt['model']} on {stt['set']}"
    return (
        "<h2>Speech-to-text</h2>"
        + models_line({"stt": stt["model"], "set": stt["set"]})
        + table(COUNT_HEAD, rows)
        + figure(plots.wer_per_domain(stt, title), title, "WER per domain, bars")
        + f"<h3>Science terms</h3><p>Term error rate: {fmt(terms['term_error_rate'], True)} "
        f"({terms['missed']} of {terms['occurrences']} occurrences missed).</p>"
        + table(["term", "occurrences", "missed"], term_rows)
        + f"<h3>Worst {len(worst)} utterances</h3>"
        + table(["utterance", "domain", "WER", "reference", "hypothesis"], worst)
    )


def _latency(production: Mapping[str, Any] | None, bench: list[Mapping[str, Any]]) -> str:
    parts = ["<h2>Latency</h2>"]
    if production and production["latency"]["turns"]:
        latency = production["latency"]
        models = production["models"]
        parts.append(models_line(models))
        rows = [
            [s, f["count"], fmt(f["p50"]), fmt(f["p95"]), fmt(f["p99"]), fmt(f["max"])]
            for s, f in latency["stages"].items()
        ]
        parts.append(table(["stage", "turns", "P50 ms", "P95 ms", "P99 ms", "max ms"], rows))
        parts.append(
            "<p>End to end (end of speech to first answer audio) against the objectives:</p>"
        )
        parts.append(table(["objective", "target", "measured ms", ""], slo_rows(latency["slo"])))
        names = ", ".join(f"{k}: {', '.join(v)}" for k, v in models.items())
        title = f"Latency per stage, captured turns — {names}"
        parts.append(
            figure(plots.latency_histograms(latency["samples"], title), title, "histograms")
        )
        objectives = {k: v["target_ms"] for k, v in latency["slo"].items()}
        title = f"End-to-end percentiles per week — {names}"
        png = plots.percentiles_over_time(latency["per_week"], objectives, title)
        parts.append(figure(png, title, "percentiles per week"))
    else:
        parts.append("<p class=note>No captured turns in the period.</p>")
    for run in bench:
        first = run["first_audio"]
        parts.append(f"<h3>bench-talk {Markup(fmt(run['set']))} ({fmt(run['finished_utc'])})</h3>")
        parts.append(models_line({"results": run["folder"]}))
        parts.append(
            table(
                ["clips", "unanswered", "P50 ms", "P95 ms", "P99 ms"],
                [
                    [
                        run["clips"],
                        run["unanswered"],
                        fmt(first["p50"]),
                        fmt(first["p95"]),
                        fmt(first["p99"]),
                    ]
                ],
            )
        )
        parts.append(table(["objective", "target", "measured ms", ""], slo_rows(run["slo"])))
        title = f"bench-talk first audio after the true end — {run['folder']}"
        png = plots.latency_histograms({"first_audio_ms": run["samples"]}, title)
        parts.append(figure(png, title, "bench-talk histogram"))
    return "".join(parts)


def _quality(quality: Mapping[str, Any] | None) -> str:
    if not quality:
        return "<h2>Speech quality (automatic)</h2><p class=note>Not measured (--tts).</p>"
    rows = []
    for voice, f in quality["per_voice"].items():
        d = f["dnsmos"]
        rows.append(
            [
                voice,
                f["answers"],
                fmt(d["ovrl_mos"]["mos"]),
                interval(d["ovrl_mos"]["ci95"]),
                fmt(d["sig_mos"]["mos"]),
                fmt(d["bak_mos"]["mos"]),
                fmt(d["p808_mos"]["mos"]),
                fmt(f["intelligibility_wer"], True),
            ]
        )
    ovrl = {v: {**f["dnsmos"]["ovrl_mos"]} for v, f in quality["per_voice"].items()}
    title = f"DNSMOS overall (OVRL) per voice — TTS {quality['models'].get('tts')}"
    return (
        "<h2>Speech quality (automatic)</h2>"
        + models_line(quality["models"])
        + table(
            ["voice", "answers", "OVRL", "OVRL 95 %", "SIG", "BAK", "P.808", "intelligibility WER"],
            rows,
        )
        + figure(plots.mos_per_voice(ovrl, "DNSMOS OVRL (1-5)", title), title, "DNSMOS per voice")
        + f'<p class="note">{fmt(quality["measures"])}</p>'
    )


def _human(production: Mapping[str, Any] | None) -> str:
    if not production:
        return ""
    mos = production["human_mos"]
    rows = [
        [
            v,
            f["raters"],
            f["ratings"],
            fmt(f["mos"]),
            interval(f["ci95"]),
            ", ".join(f["tts_versions"]),
        ]
        for v, f in [("all voices", mos["overall"]), *mos["per_voice"].items()]
    ]
    versions = ", ".join(mos["overall"]["tts_versions"]) or "none"
    title = f"Reviewers' MOS per voice, 95 % interval — TTS {versions}"
    return (
        "<h2>Human MOS (reviewers)</h2>"
        + models_line({"tts": mos["overall"]["tts_versions"]})
        + table(["voice", "raters", "ratings", "MOS", "95 % interval", "TTS versions"], rows)
        + figure(plots.mos_per_voice(mos["per_voice"], "MOS (1-5)", title), title, "MOS per voice")
    )


def _rate_rows(groups: Mapping[str, Mapping[str, Any]]) -> list[list[Any]]:
    return [[name, f["rated"], f["thumbs_up"], fmt(f["rate"], True)] for name, f in groups.items()]


def _satisfaction(production: Mapping[str, Any] | None) -> str:
    if not production:
        return ""
    s = production["satisfaction"]
    head = ["group", "rated turns", "thumbs up", "rate"]
    parts = ["<h2>Satisfaction</h2>", models_line(production["models"])]
    parts.append(
        f"<p>Thumbs-up rate of rated turns: {fmt(s['overall']['rate'], True)} "
        f"({s['overall']['thumbs_up']} of {s['overall']['rated']}).</p>"
    )
    title = "Thumbs-up rate per week — models as listed above"
    parts.append(figure(plots.thumbs_up_trend(s["per_week"], title), title, "thumbs-up trend"))
    parts += ["<h3>Per week</h3>", table(head, _rate_rows(s["per_week"]))]
    parts += ["<h3>Per domain</h3>", table(head, _rate_rows(s["per_domain"]))]
    parts += ["<h3>Per voice</h3>", table(head, _rate_rows(s["per_voice"]))]
    for kind, groups in s["per_model"].items():
        parts += [f"<h3>Per {kind.upper()} version</h3>", table(head, _rate_rows(groups))]
    return "".join(parts)


def _reviewed(production: Mapping[str, Any] | None) -> str:
    if not production:
        return ""
    stt = production["stt_reviewed"]
    rows = [_counts_row("overall", stt["overall"])]
    rows += [_counts_row(d, f) for d, f in stt["per_domain"].items()]
    return (
        "<h2>Live STT on reviewed turns</h2>"
        + models_line({"stt": production["models"]["stt"]})
        + "<p class=note>Reference: the reviewer's correction, or the transcript they approved. "
        "Reviewed turns are the doubtful ones, so this overstates the error of all traffic.</p>"
        + table(COUNT_HEAD, rows)
    )
