"""Evaluation on the admin API: reports for admins only, and reviewers' voice ratings.

The weekly report is built from real captures and stored as the beat task stores it; the
routes serve it to admin keys only, and Chromium renders the served page under the API's
Content-Security-Policy without a console error. A reviewer hears an item's answer spoken by
the real Piper voice and rates it; the rating is kept like a decision (versioned, audited).
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.app import create_app
from api.voice.models import Models
from capture.models import AuditEntry, ReviewItem, VoiceRating
from core.db import session_scope
from core.settings import Settings
from learning.evaluation.weekly import weekly_report
from review.keys import create_key
from tests.learning.conftest import NOW, Captured
from tests.utils.browser import chromium, new_tab, playwright_or_skip
from tests.utils.server import serve_app


@dataclass
class Site:
    settings: Settings
    base: str
    keys: dict[str, str]

    def get(self, path: str, role: str | None = "admin", **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        return httpx.get(f"{self.base}{path}", headers=headers, params=params, timeout=120)

    def post(self, path: str, body: dict[str, Any], role: str = "reviewer") -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[role]}"}
        return httpx.post(f"{self.base}{path}", headers=headers, json=body, timeout=60)


@pytest.fixture(scope="module")
def site(captured: Captured, models: Models) -> Iterator[Site]:
    config = captured.settings
    keys = {role: create_key(config, f"{role}-1", role)[1] for role in ("admin", "reviewer")}
    keys["other"] = create_key(config, "reviewer-2", "reviewer")[1]
    with serve_app(create_app(config, models=models)) as base:
        yield Site(config, base, keys)


def test_report_routes_need_an_admin(site: Site) -> None:
    stored = weekly_report(site.settings, NOW)
    assert stored["id"] == "weekly-2026-W49"
    assert site.get("/v1/admin/reports", role=None).status_code == 401
    assert site.get("/v1/admin/reports", role="reviewer").status_code == 403
    listing = site.get("/v1/admin/reports").json()["reports"]
    assert {"id": "weekly-2026-W49", "files": ["report.html", "report.json"]} in listing
    path = "/v1/admin/reports/weekly-2026-W49/report.json"
    assert site.get(path, role=None).status_code == 401
    assert site.get(path, role="reviewer").status_code == 403
    figures = site.get(path).json()
    assert figures["production"]["period"]["turns"] == 14
    assert figures["models"]["stt"]  # the configured versions head the report
    html = site.get("/v1/admin/reports/weekly-2026-W49/report.html")
    assert html.headers["content-type"].startswith("text/html")
    assert "style-src 'sha256-" in html.headers["content-security-policy"]
    assert site.get("/v1/admin/reports/weekly-1999-W01/report.json").status_code == 404
    assert site.get("/v1/admin/reports/weekly-2026-W49/secrets.txt").status_code == 422
    assert site.get("/v1/admin/reports/..%2Fkeys/report.json").status_code in (404, 422)


def test_served_report_renders_under_its_policy(site: Site) -> None:
    weekly_report(site.settings, NOW)
    sync_api = playwright_or_skip()
    assert sync_api
    auth = {"Authorization": f"Bearer {site.keys['admin']}"}
    with chromium() as browser, new_tab(browser, extra_http_headers=auth) as tab:
        tab.page.goto(f"{site.base}/v1/admin/reports/weekly-2026-W49/report.html")
        images = tab.page.evaluate(
            "[...document.images].map(i => i.complete && i.naturalWidth > 300)"
        )
        assert images == [True] * 3  # stage histograms, percentiles per week, thumbs-up trend
        border = "getComputedStyle(document.querySelector('table')).borderCollapse"
        assert tab.page.evaluate(border) == "collapse"
        assert tab.errors == [] and tab.console == []


def _item(site: Site) -> int:
    with session_scope(site.settings) as session:
        item = session.scalars(select(ReviewItem).order_by(ReviewItem.id)).first()
        assert item is not None, "the thumbs-down turns are review items"
        return item.id


def test_answer_audio_is_the_answer_spoken(site: Site, models: Models) -> None:
    item = _item(site)
    answer = site.get(
        f"/v1/admin/review/items/{item}/answer-audio", role="reviewer", voice="technical"
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-tts-version"] == models.describe()["tts"]
    with wave.open(io.BytesIO(answer.content)) as wav:
        assert wav.getframerate() == models.tts.sample_rate
        assert (
            1.0 < wav.getnframes() / wav.getframerate() < 6.0
        )  # "A photon is a particle of light."
    bad = site.get(f"/v1/admin/review/items/{item}/answer-audio", role="reviewer", voice="robot")
    assert bad.status_code == 422
    assert (
        site.get("/v1/admin/review/items/999999/answer-audio", role="reviewer").status_code == 404
    )


def test_a_voice_rating_is_stored_like_a_decision(site: Site) -> None:
    item = _item(site)
    path = f"/v1/admin/review/items/{item}/voice-rating"
    first = site.post(path, {"voice": "friendly", "score": 4})
    assert first.status_code == 200, first.text
    assert first.json()["ratings"][0] | {"at": None} == {
        "voice": "friendly",
        "score": 4,
        "reviewer": "reviewer-1",
        "version": 1,
        "at": None,
        "tts": first.json()["ratings"][0]["tts"],
    }
    assert site.post(path, {"voice": "friendly", "score": 4}).status_code == 200  # a repeat
    again = site.post(path, {"voice": "friendly", "score": 2}).json()["ratings"]
    assert [(r["score"], r["version"]) for r in again] == [(2, 2)]
    site.post(path, {"voice": "friendly", "score": 5}, role="other")
    assert site.post(path, {"voice": "friendly", "score": 6}).status_code == 422
    assert site.post(path, {"voice": "robot", "score": 3}).status_code == 422
    assert (
        site.post(
            "/v1/admin/review/items/999999/voice-rating", {"voice": "friendly", "score": 3}
        ).status_code
        == 404
    )
    listed = site.get(f"/v1/admin/review/items/{item}/voice-ratings", role="reviewer").json()
    assert sorted((r["reviewer"], r["score"]) for r in listed["ratings"]) == [
        ("reviewer-1", 2),
        ("reviewer-2", 5),
    ]
    with session_scope(site.settings) as session:
        versions = session.scalars(
            select(VoiceRating.version).where(
                VoiceRating.item_id == item, VoiceRating.reviewer == "reviewer-1"
            )
        ).all()
        audits = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "review.voice_rating")
        ).all()
    assert sorted(versions) == [1, 2]  # every version kept, the repeat added nothing
    assert len(audits) == 3
    figures = weekly_report(site.settings, NOW)
    report = site.get(f"/v1/admin/reports/{figures['id']}/report.json").json()
    mos = report["production"]["human_mos"]["per_voice"]["friendly"]
    assert (mos["ratings"], mos["raters"], mos["mos"]) == (2, 2, 3.5)  # latest of each: 2 and 5
