"""``/v1/admin/*``: the manual-review API for reviewers and admins, and the ``/admin`` page.

Every route needs ``Authorization: Bearer <api key>`` (``voice-service admin create-key``):
missing, wrong or revoked keys get 401, a reviewer on an admin route 403. Failed attempts
are counted per client address and per key prefix; once either is over the limit, failures
get 429 instead of 401, but a valid key is always let in (one attacker behind a shared
proxy cannot lock out the admins). Ids are integers the router checks and bounds (422
outside 1 to 2**31 - 1, the database's integer range), so no store key or path is ever
built from what a client sends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from api.routes.deps import LimitsDep, SettingsDep
from api.routes.errors import ApiError
from api.routes.limits import client_of
from capture.models import ReviewBatch, ReviewItem
from capture.store import ObjectNotFound
from core.db import session_scope
from redaction import RedactionError
from review.batches import STATUSES, build_batch, describe
from review.decisions import (
    Decision,
    InvalidDecision,
    NotFound,
    decide,
    item_audio,
    item_detail,
    summary,
)
from review.keys import Caller, Role, authenticate
from review.stats import stats

router = APIRouter(tags=["admin"])
STATIC = FilePath(__file__).resolve().parents[1] / "static"
MAX_ID = 2**31 - 1  # ids are INTEGER columns: larger ones cannot exist (and overflow drivers)
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
BatchId = Annotated[int, Path(ge=1, le=MAX_ID)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid API key"},
    403: {"description": "the key's role may not do this"},
    404: {"description": "no such item or batch"},
    422: {"description": "malformed request"},
    429: {"description": "too many failed attempts"},
}


def requires(role: Role) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting keys of ``role`` (admins are admitted everywhere)."""

    async def check(request: Request, settings: SettingsDep, limits: LimitsDep) -> Caller:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        key = key.strip() if scheme.lower() == "bearer" else ""
        caller = await asyncio.to_thread(authenticate, settings, key) if key else None
        if caller is None:  # only failures are limited: a valid key is never refused
            counted = limits.admin_keys(client_of(request), key)
            blocked = any(limits.admin_failures.blocked(name) for name in counted)
            for name in counted:
                limits.admin_failures.count(name)
            if blocked:
                raise ApiError(
                    "too many failed attempts; wait a minute", code="rate_limited", status=429
                )
            raise ApiError("send Authorization: Bearer <api key>", code="unauthorized", status=401)
        if not caller.may(role):
            raise ApiError(f"this needs the {role} role", code="forbidden", status=403)
        return caller

    return check


Reviewer = Depends(requires("reviewer"))
Admin = Depends(requires("admin"))


@router.get("/admin", include_in_schema=False)
async def admin_page() -> FileResponse:
    """The reviewer page."""
    return FileResponse(STATIC / "admin.html")


@router.get("/v1/admin/whoami", responses=ERRORS)
async def whoami(caller: Caller = Reviewer) -> dict[str, str]:
    """The name and role of the calling key."""
    return {"name": caller.name, "role": caller.role}


@router.get("/v1/admin/review/batches", responses=ERRORS)
async def list_batches(settings: SettingsDep, caller: Caller = Reviewer) -> dict[str, Any]:
    """Every batch, newest first, with progress counts."""

    def load() -> list[dict[str, Any]]:
        with session_scope(settings) as session:
            batches = session.scalars(select(ReviewBatch).order_by(ReviewBatch.id.desc()))
            return [describe(session, batch) for batch in batches]

    return {"batches": await asyncio.to_thread(load)}


@router.post("/v1/admin/review/batches", status_code=201, responses=ERRORS)
async def create_batch(settings: SettingsDep, caller: Caller = Admin) -> dict[str, Any]:
    """Build a batch now from the pending items (what the weekly task does); admins only."""
    batch_id = await asyncio.to_thread(build_batch, settings)
    return {"batch_id": batch_id}


@router.get("/v1/admin/review/batches/{batch_id}", responses=ERRORS)
async def get_batch(
    batch_id: BatchId, settings: SettingsDep, caller: Caller = Reviewer
) -> dict[str, Any]:
    """One batch with its progress counts."""

    def load() -> dict[str, Any]:
        with session_scope(settings) as session:
            batch = session.get(ReviewBatch, batch_id)
            if batch is None:
                raise ApiError(f"no batch {batch_id}", code="not_found", status=404)
            return describe(session, batch)

    return await asyncio.to_thread(load)


@router.get("/v1/admin/review/items", responses=ERRORS)
async def list_items(
    settings: SettingsDep,
    batch: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: str | None = None,
    caller: Caller = Reviewer,
) -> dict[str, Any]:
    """Items, oldest first, of one batch and/or one status."""
    if status is not None and status not in STATUSES:
        raise ApiError(
            f"status must be one of {', '.join(STATUSES)}", code="invalid_request", status=422
        )

    def load() -> list[dict[str, Any]]:
        query = select(ReviewItem).order_by(ReviewItem.id)
        if batch is not None:
            query = query.where(ReviewItem.batch_id == batch)
        if status is not None:
            query = query.where(ReviewItem.status == status)
        with session_scope(settings) as session:
            return [summary(item) for item in session.scalars(query)]

    return {"items": await asyncio.to_thread(load)}


@router.get("/v1/admin/review/items/{item_id}", responses=ERRORS)
async def get_item(
    item_id: ItemId, settings: SettingsDep, caller: Caller = Reviewer
) -> dict[str, Any]:
    """The redacted transcript, response, flagged spans, metadata, decisions, audio URL."""
    try:
        return await asyncio.to_thread(item_detail, settings, item_id)
    except NotFound as exc:
        raise ApiError(f"no review item {item_id}", code="not_found", status=404) from exc


@router.get(
    "/v1/admin/review/items/{item_id}/audio",
    responses={**ERRORS, 200: {"content": {"audio/flac": {}}}},
    response_class=Response,
)
async def get_audio(item_id: ItemId, settings: SettingsDep, caller: Caller = Reviewer) -> Response:
    """The item's stored (redacted) audio, FLAC."""
    try:
        flac = await asyncio.to_thread(item_audio, settings, item_id)
    except (NotFound, ObjectNotFound) as exc:
        raise ApiError(f"no audio for review item {item_id}", code="not_found", status=404) from exc
    return Response(flac, media_type="audio/flac", headers={"Cache-Control": "no-store"})


@router.post("/v1/admin/review/items/{item_id}/decision", responses=ERRORS)
async def post_decision(
    item_id: ItemId, decision: Decision, settings: SettingsDep, caller: Caller = Reviewer
) -> dict[str, Any]:
    """Approve, correct, redact or reject, with error tags; repeating it changes nothing."""
    try:
        item = await asyncio.to_thread(decide, settings, item_id, decision, caller.name)
    except NotFound as exc:
        raise ApiError(f"no review item {item_id}", code="not_found", status=404) from exc
    except InvalidDecision as exc:
        raise ApiError(str(exc), code="invalid_request", status=422) from exc
    except RedactionError as exc:  # nothing was stored: a correction is kept only redacted
        raise ApiError(
            "the correction could not be redacted", code="redaction_failed", status=503
        ) from exc
    return {"item": item}


@router.get("/v1/admin/stats", responses=ERRORS)
async def get_stats(settings: SettingsDep, caller: Caller = Admin) -> dict[str, Any]:
    """Items by status, thumbs-up rate, top error tags; admins only."""
    return await asyncio.to_thread(stats, settings)
