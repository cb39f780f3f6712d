"""Liveness, readiness and drain.

Draining (``POST /drainz``, what ``voice-service drain`` sends from a pod's preStop hook)
makes ``/readyz`` answer 503, so the load balancer sends no one new, and refuses new sessions
with ``draining``; sessions already running go on. ``GET /drainz`` says how many sessions are
open and how many are in the middle of a turn; the drain command waits for the latter to reach
zero before the pod is stopped (which closes the idle ones with 1001, going away). Both answer
loopback peers only: nothing outside the pod may take it out of service.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.routes.errors import ApiError, error_body
from core.errors import VoiceServiceError

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and its event loop answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> JSONResponse | dict[str, Any]:
    """Ready only once every model of the voice chain is loaded, and until draining."""
    state = request.app.state.model_state
    if getattr(request.app.state, "draining", False):
        return JSONResponse({"status": "draining"}, status_code=503)
    if state.models is not None:
        return {"status": "ready", "models": state.models.describe()}
    if state.error is not None:
        error = VoiceServiceError(state.error, code="models_failed")
        return JSONResponse({"status": "failed", "error": error_body(error)}, status_code=503)
    return JSONResponse({"status": "loading"}, status_code=503)


def _in_turn(session: Any) -> bool:
    """A session hearing an utterance, or with an answer not yet committed or still playing."""
    if session is None:
        return False
    if getattr(session, "in_utterance", False):
        return True
    turn = getattr(session, "turn", None)
    return turn is not None and (not turn.is_committed or bool(turn.playing()))


def drain_status(app: Any) -> dict[str, Any]:
    """Open sessions, and those in the middle of a turn."""
    sessions = [s for s in app.state.sessions.sockets.values() if s is not None]
    return {
        "draining": bool(getattr(app.state, "draining", False)),
        "sessions": len(sessions),
        "in_turn": sum(_in_turn(s) for s in sessions),
    }


def _local(request: Request) -> bool:
    """The TCP peer is this host (forwarded addresses are not looked at)."""
    try:
        return ipaddress.ip_address(request.client.host if request.client else "").is_loopback
    except ValueError:
        return False


@router.post("/drainz", include_in_schema=False, response_model=None)
async def start_draining(request: Request) -> JSONResponse | dict[str, Any]:
    """Stop taking sessions; running ones go on."""
    if not _local(request):
        raise ApiError("drain is accepted from the pod itself only", code="forbidden", status=403)
    request.app.state.draining = True
    return drain_status(request.app)


@router.get("/drainz", include_in_schema=False, response_model=None)
async def draining(request: Request) -> JSONResponse | dict[str, Any]:
    """Where a drain stands."""
    if not _local(request):
        raise ApiError("drain is accepted from the pod itself only", code="forbidden", status=403)
    return drain_status(request.app)
