"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.routes.errors import error_body
from core.errors import VoiceServiceError

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and its event loop answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> JSONResponse | dict[str, Any]:
    """Ready only once every model of the voice chain is loaded."""
    state = request.app.state.model_state
    if state.models is not None:
        return {"status": "ready", "models": state.models.describe()}
    if state.error is not None:
        error = VoiceServiceError(state.error, code="models_failed")
        return JSONResponse({"status": "failed", "error": error_body(error)}, status_code=503)
    return JSONResponse({"status": "loading"}, status_code=503)
