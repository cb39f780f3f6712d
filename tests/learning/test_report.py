"""The report: JSON and HTML of the same figures, rendered in headless Chromium.

Chromium loads it twice: as the saved file, and as the admin API serves it (with the API's
Content-Security-Policy, which must let its one style block and its data: plots through).
Either way every plot decodes, and nothing is reported on the console.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from learning.evaluation import report
from learning.evaluation.latency import from_bench
from learning.evaluation.production import production_figures
from learning.evaluation.quality import speech_quality
from learning.evaluation.stt import score
from tests.learning.conftest import NOW, STT_B, Captured
from tests.learning.test_stt_scoring import PAIRS
from tests.utils.browser import chromium, new_tab, playwright_or_skip

sync_api = playwright_or_skip()
MODELS = {"stt": STT_B, "nlu": "classifier", "llm": "llamacpp:SmolLM2", "tts": "piper:joe"}


def document(captured: Captured, bench_folder: Path) -> dict[str, Any]:
    clips = [{"first_audio_ms": 500.0 + 37 * n} for n in range(20)]
    (bench_folder / "results.json").write_text(json.dumps({"set": "turns", "clips_detail": clips}))
    stt = {"model": STT_B, "set": "fixed pairs", **score(PAIRS)}
    quality = {  # the shape speech_quality returns; its own test runs the real predictor
        "models": MODELS,
        "answers": 2,
        "measures": speech_quality.__doc__ or "",
        "per_voice": {
            v: {
                "answers": 2,
                "intelligibility_wer": 0.05,
                "intelligibility": {},
                "worst": [],
                "dnsmos": {
                    h: {"ratings": 2, "mos": m, "ci95": [m - 0.2, m + 0.2]}
                    for h in ("ovrl_mos", "sig_mos", "bak_mos", "p808_mos")
                },
            }
            for v, m in (("friendly", 3.1), ("technical", 2.8))
        },
    }
    production = production_figures(captured.settings, NOW)
    production["human_mos"] = {
        "overall": {
            "ratings": 3,
            "mos": 4.0,
            "ci95": [2.6, 5.4],
            "raters": 2,
            "tts_versions": ["piper:joe"],
        },
        "per_voice": {
            "friendly": {
                "ratings": 3,
                "mos": 4.0,
                "ci95": [2.6, 5.4],
                "raters": 2,
                "tts_versions": ["piper:joe"],
            }
        },
    }
    return report.build(
        models=MODELS,
        stt=stt,
        bench=[from_bench(bench_folder, {"p50": 1500.0})],
        quality=quality,
        production=production,
        now=NOW,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


PLOTS = 7  # WER per domain, stage histograms, percentiles per week, bench histogram,
# DNSMOS per voice, human MOS per voice, thumbs-up trend


def check_page(page: Any) -> None:
    images = page.locator("img")
    assert images.count() == PLOTS
    decoded = page.evaluate(
        "[...document.images].map(i => i.complete && i.naturalWidth > 300"
        " && i.src.startsWith('data:image/png'))"
    )
    assert decoded == [True] * PLOTS
    text = page.locator("body").inner_text()
    for expected in ("Speech-to-text", "Latency", "Human MOS", "Satisfaction", STT_B, "26.1 %"):
        assert expected in text
    # the style block applied (the CSP allows it by hash): tables have collapsed borders
    assert (
        page.evaluate("getComputedStyle(document.querySelector('table')).borderCollapse")
        == "collapse"
    )


def test_report_json_and_html_render_in_chromium(
    tmp_path: Path, captured: Captured, browser: Any
) -> None:
    doc = document(captured, tmp_path)
    html_path, json_path = report.write(tmp_path / "out", doc)
    figures = json.loads(json_path.read_text())
    assert figures["stt"]["overall"]["wer"] == pytest.approx(6 / 23, abs=1e-4)
    assert figures["production"]["latency"]["end_to_end"]["count"] == 14
    assert figures["models"] == MODELS
    with new_tab(browser) as tab:
        tab.page.goto(html_path.as_uri())
        check_page(tab.page)
        tab.page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        assert tab.errors == [] and tab.console == []
