"""``/v1/admin/models`` and ``/v1/admin/experiments``: the registry and A/B tests (admins).

Changes apply to this process at once for new sessions (running sessions keep their model);
other processes take them with ``POST /v1/admin/models/sync`` or at their next start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from api.routes.admin import ERRORS, Admin
from api.routes.errors import ApiError
from api.voice.stt_versions import SttVersions
from core.settings import Settings
from learning.errors import LearningError
from review.keys import Caller

router = APIRouter(tags=["models"])
ModelId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
T = TypeVar("T")
CONFLICTS = {
    "not_evaluated",
    "gate_refused",
    "already_champion",
    "is_champion",
    "experiment_running",
    "nothing_to_roll_back",
    "no_champion",
}


class ExperimentStart(BaseModel):
    """Start an A/B test of ``model_id`` against the champion."""

    model_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    share: float = Field(0.1, gt=0, lt=1)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _versions(request: Request) -> SttVersions | None:
    models = request.app.state.model_state.models
    return models.versions if models is not None else None


async def _call(work: Callable[[], T]) -> T:
    """Run registry work on a thread; its errors become JSON errors."""
    try:
        return await asyncio.to_thread(work)
    except LearningError as exc:
        status = 404 if exc.code.endswith("not_found") else 409 if exc.code in CONFLICTS else 400
        raise ApiError(str(exc), code=exc.code, status=status) from exc


@router.get("/v1/admin/models", responses=ERRORS)
async def list_models(request: Request, caller: Caller = Admin) -> dict[str, Any]:
    """Every registry entry, newest first."""
    from learning.registry.versions import describe, listing

    return {"models": await _call(lambda: [describe(m) for m in listing(_settings(request))])}


@router.get("/v1/admin/models/{model_id}", responses=ERRORS)
async def show_model(model_id: ModelId, request: Request, caller: Caller = Admin) -> dict[str, Any]:
    """One entry."""
    from learning.registry.versions import describe, get

    return await _call(lambda: describe(get(_settings(request), model_id)))


@router.post("/v1/admin/models/{model_id}/promote", responses=ERRORS)
async def promote_model(
    model_id: ModelId, request: Request, caller: Caller = Admin
) -> dict[str, Any]:
    """Promote through the gate (409 with the reasons when refused); new sessions use it."""
    from learning.experiments.gate import promote

    decision = await _call(lambda: promote(_settings(request), model_id, caller.name))
    versions = _versions(request)
    if versions is not None:
        await _call(lambda: versions.set_default(model_id))
    return {"champion": model_id, "decision": decision}


@router.post("/v1/admin/models/{model_id}/retire", responses=ERRORS)
async def retire_model(
    model_id: ModelId, request: Request, caller: Caller = Admin
) -> dict[str, Any]:
    """Retire a model that is not the champion."""
    from learning.registry.versions import get, set_status

    def work() -> None:
        if get(_settings(request), model_id).status == "champion":
            raise LearningError(f"{model_id} is the champion", code="is_champion")
        set_status(_settings(request), model_id, "retired", caller.name)

    await _call(work)
    return {"retired": model_id}


@router.post("/v1/admin/models/rollback", responses=ERRORS)
async def rollback_model(request: Request, caller: Caller = Admin) -> dict[str, Any]:
    """The previous champion serves again."""
    from learning.registry.versions import rollback

    retired, restored = await _call(lambda: rollback(_settings(request), caller.name))
    versions = _versions(request)
    if versions is not None:
        await _call(lambda: versions.set_default(restored))
    return {"champion": restored, "retired": retired}


@router.post("/v1/admin/models/{model_id}/load", responses=ERRORS)
async def load_model(model_id: ModelId, request: Request, caller: Caller = Admin) -> dict[str, Any]:
    """Fetch and load a version into this process (no session uses it until assigned)."""
    versions = _versions(request)
    if versions is None:
        raise ApiError("the models are still loading", code="not_ready", status=503)
    await _call(lambda: versions.load(model_id))
    return {"loaded": sorted(versions.loaded)}


@router.post("/v1/admin/models/sync", responses=ERRORS)
async def sync_models(request: Request, caller: Caller = Admin) -> dict[str, Any]:
    """Take the registry's champion and running experiment now."""
    versions = _versions(request)
    if versions is None:
        raise ApiError("the models are still loading", code="not_ready", status=503)
    await _call(versions.sync)
    experiment = versions.experiment.id if versions.experiment else None
    return {"default": versions.default_id, "experiment": experiment}


@router.post("/v1/admin/experiments", status_code=201, responses=ERRORS)
async def start_experiment(
    body: ExperimentStart, request: Request, caller: Caller = Admin
) -> dict[str, Any]:
    """Run a challenger against the champion for a share of users."""
    from learning.experiments.ab import running, start

    experiment = await _call(
        lambda: start(_settings(request), body.model_id, body.share, caller.name)
    )
    versions = _versions(request)
    if versions is not None:
        await _call(lambda: versions.start_experiment(running(_settings(request))))
    return {
        "experiment": experiment.id,
        "control": experiment.control_id,
        "challenger": experiment.challenger_id,
        "share": experiment.share,
    }


@router.post("/v1/admin/experiments/{experiment_id}/stop", responses=ERRORS)
async def stop_experiment(
    experiment_id: ModelId, request: Request, caller: Caller = Admin
) -> dict[str, Any]:
    """Stop assigning sessions to the challenger."""
    from learning.experiments.ab import stop

    await _call(lambda: stop(_settings(request), experiment_id, caller.name))
    versions = _versions(request)
    if versions is not None and versions.experiment and versions.experiment.id == experiment_id:
        versions.start_experiment(None)
    return {"stopped": experiment_id}


@router.get("/v1/admin/experiments/{experiment_id}", responses=ERRORS)
async def experiment_figures(
    experiment_id: ModelId, request: Request, caller: Caller = Admin
) -> dict[str, Any]:
    """Per-variant figures with the always-valid p-value of the thumbs-up difference."""
    from learning.experiments.figures import experiment_figures as figures

    return await _call(lambda: figures(_settings(request), experiment_id))
