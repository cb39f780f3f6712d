"""Evaluation on the admin API: stored reports (admins), and reviewers' ratings of voices.

``GET /v1/admin/reports`` lists the reports the weekly task (or ``voice-service eval
--publish``) stored; ``GET /v1/admin/reports/{id}/report.html|report.json`` serves one. On a
review item, ``answer-audio`` speaks the turn's (redacted) answer in a voice of the running
TTS, and ``voice-rating`` stores the reviewer's 1-5 rating of it (``review/ratings.py``).
"""

from __future__ import annotations

import asyncio
import io
import wave
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.routes.admin import ERRORS, Admin, ItemId, Reviewer
from api.routes.deps import app_settings
from api.routes.errors import ApiError
from capture.store import ObjectNotFound
from core.settings import Settings, VoiceName
from learning.evaluation.storage import BadReportId, list_reports, read_report
from learning.evaluation.weekly import configured_models
from review.keys import Caller
from review.ratings import NoSuchItem, Rating, answer_text, item_ratings, rate

router = APIRouter(tags=["admin"])
ReportId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
ReportFile = Literal["report.html", "report.json"]
MAX_ANSWER_CHARS = 2000  # captured answers are a few sentences; a longer one is cut for rating


def _settings(request: Request) -> Settings:
    return app_settings(request)


@router.get("/v1/admin/reports", responses=ERRORS)
async def reports(request: Request, caller: Caller = Admin) -> dict[str, Any]:
    """Stored evaluation reports, newest first; admins only."""
    return {"reports": await asyncio.to_thread(list_reports, _settings(request))}


@router.get("/v1/admin/reports/{report_id}/{name}", responses=ERRORS, response_class=Response)
async def report(
    report_id: ReportId, name: ReportFile, request: Request, caller: Caller = Admin
) -> Response:
    """One report's HTML page or JSON figures; admins only."""
    try:
        data, content_type = await asyncio.to_thread(
            read_report, _settings(request), report_id, name
        )
    except (ObjectNotFound, BadReportId) as exc:
        raise ApiError(f"no report {report_id}", code="not_found", status=404) from exc
    return Response(data, media_type=content_type, headers={"Cache-Control": "no-store"})


def _tts_version(request: Request) -> str:
    described: dict[str, str] = request.app.state.model_state.capture.models
    return described.get("tts") or configured_models(_settings(request))["tts"]


@router.get(
    "/v1/admin/review/items/{item_id}/answer-audio",
    responses={**ERRORS, 200: {"content": {"audio/wav": {}}}, 503: {"description": "loading"}},
    response_class=Response,
)
async def answer_audio(
    item_id: ItemId,
    request: Request,
    voice: Annotated[VoiceName, Query()] = "friendly",
    caller: Caller = Reviewer,
) -> Response:
    """The item's answer spoken in ``voice`` by the service's TTS (WAV), for rating."""
    models = request.app.state.model_state.models
    if models is None:
        raise ApiError("the speech models are still loading", code="not_ready", status=503)
    try:
        text = await asyncio.to_thread(answer_text, _settings(request), item_id)
    except NoSuchItem as exc:
        raise ApiError(f"no review item {item_id}", code="not_found", status=404) from exc
    if not text.strip():
        raise ApiError(
            f"review item {item_id} has no answer to speak", code="not_found", status=404
        )
    pcm = b"".join([chunk async for chunk in models.tts.synthesize(text[:MAX_ANSWER_CHARS], voice)])
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(models.tts.sample_rate)
        out.writeframes(pcm)
    return Response(
        buffer.getvalue(),
        media_type="audio/wav",
        headers={"Cache-Control": "no-store", "X-TTS-Version": _tts_version(request)},
    )


@router.get("/v1/admin/review/items/{item_id}/voice-ratings", responses=ERRORS)
async def voice_ratings(
    item_id: ItemId, request: Request, caller: Caller = Reviewer
) -> dict[str, Any]:
    """The latest rating of each reviewer and voice on the item."""
    try:
        return {"ratings": await asyncio.to_thread(item_ratings, _settings(request), item_id)}
    except NoSuchItem as exc:
        raise ApiError(f"no review item {item_id}", code="not_found", status=404) from exc


@router.post("/v1/admin/review/items/{item_id}/voice-rating", responses=ERRORS)
async def post_voice_rating(
    item_id: ItemId, rating: Rating, request: Request, caller: Caller = Reviewer
) -> dict[str, Any]:
    """Rate the answer's voice 1-5; repeating the latest rating changes nothing."""
    tts = _tts_version(request)
    try:
        ratings = await asyncio.to_thread(
            rate, _settings(request), item_id, rating, caller.name, tts
        )
    except NoSuchItem as exc:
        raise ApiError(f"no review item {item_id}", code="not_found", status=404) from exc
    return {"ratings": ratings}
