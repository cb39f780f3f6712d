"""The FastAPI application factory.

Models load in the background after start-up, so the process answers ``/healthz`` at once
and ``/readyz`` turns ready when the chain can run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from api import metrics
from api.routes import admin, evaluation, health, me, voice
from api.routes import models as model_routes
from api.routes.errors import ApiError, api_error_handler, json_error
from api.routes.voice import SessionManager
from api.security import SecurityHeaders
from api.shared_state import LEASE_S, make_connections, shared_limits
from api.voice.capture_sink import CaptureSink
from api.voice.models import Models
from core.errors import BackendUnavailable
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"  # the browser client


@dataclass
class ModelState:
    """Where model loading stands: ``models`` once loaded, ``error`` if loading failed."""

    capture: CaptureSink
    models: Models | None = None
    error: str | None = None


async def _load(settings: Settings, state: ModelState) -> None:
    try:
        started = time.perf_counter()
        models = await asyncio.to_thread(Models.load, settings)
        state.capture.models = models.describe()
        metrics.models_loaded(time.perf_counter() - started, state.capture.models)
        await asyncio.to_thread(_sync_versions, models)
        state.models = models
    except BackendUnavailable as exc:  # a setting or a missing package: one line says which
        log.error("loading the models failed: %s", exc)
        state.error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # reported by /readyz; the process stays up for diagnosis
        log.exception("loading the models failed")
        state.error = f"{type(exc).__name__}: {exc}"


async def _refresh_leases(app: FastAPI) -> None:
    """Keep this replica's connection leases alive in Redis (a no-op in process)."""
    while True:
        await asyncio.sleep(LEASE_S / 3)
        await asyncio.to_thread(app.state.sessions.connections.refresh)


def _sync_versions(models: Models) -> None:
    """The registry's champion and experiment, when there is a registry to read."""
    if models.versions is None:
        return
    try:
        models.versions.sync()
    except Exception as exc:  # no registry tables yet, or the store is down: keep the default
        log.warning("model registry not read: %s: %s", type(exc).__name__, exc)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """422 with the first problem in words, in the service's error shape."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"] if part != "body") or "request"
    error = ApiError(f"{where}: {first['msg']}", code="invalid_request", status=422)
    return json_error(error, error.status)


def create_app(settings: Settings | None = None, models: Models | None = None) -> FastAPI:
    """Build the app. Passing ``models`` (tests, benchmarks) skips loading."""
    settings = settings or get_settings()
    state = ModelState(capture=CaptureSink(settings), models=models)
    if models is not None:
        state.capture.models = models.describe()
        metrics.models_loaded(None, state.capture.models)  # loaded elsewhere: no load time

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loader = None if state.models else asyncio.create_task(_load(settings, state))
        leases = asyncio.create_task(_refresh_leases(app))
        yield
        leases.cancel()
        await app.state.sessions.close_all()
        await state.capture.drain()  # turns and consent changes already handed over
        if loader is not None and not loader.done():
            loader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loader

    app = FastAPI(title="voice-service", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.model_state = state
    per_client = settings.max_connections_per_client
    connections = make_connections(settings.redis_url, per_client)
    app.state.sessions = SessionManager(settings.max_sessions, per_client, connections)
    app.state.limits = shared_limits(settings.redis_url)
    app.state.draining = False  # POST /drainz (voice-service drain, a pod's preStop)
    app.add_middleware(SecurityHeaders)
    app.include_router(health.router)
    app.include_router(voice.router)
    app.include_router(me.router)
    app.include_router(admin.router)
    app.include_router(metrics.router)
    app.include_router(evaluation.router)
    app.add_exception_handler(ApiError, api_error_handler)
    app.include_router(model_routes.router)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/policy.html", include_in_schema=False)
    async def policy() -> FileResponse:
        return FileResponse(STATIC / "policy.html")

    return app
