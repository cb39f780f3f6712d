"""Routes reach the app's settings and limiters through dependencies: nothing is shared."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.deps import LimitsDep, SettingsDep
from api.routes.errors import ApiError, api_error_handler
from api.routes.limits import FAILURES_ALLOWED, Limits
from core.settings import Settings


def test_settings_and_limits_come_from_the_app_over_http_and_websocket(
    settings: Settings,
) -> None:
    app = FastAPI()
    app.state.settings = settings.model_copy(update={"default_voice": "technical"})
    app.state.limits = Limits()

    @app.get("/voice")
    async def voice(settings: SettingsDep, limits: LimitsDep) -> dict[str, object]:
        return {"voice": settings.default_voice, "same": limits is app.state.limits}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, settings: SettingsDep) -> None:
        await websocket.accept()
        await websocket.send_json({"voice": settings.default_voice})
        await websocket.close()

    client = TestClient(app)
    assert client.get("/voice").json() == {"voice": "technical", "same": True}
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_json() == {"voice": "technical"}


def test_an_api_error_is_answered_in_the_error_shape() -> None:
    app = FastAPI()
    app.add_exception_handler(ApiError, api_error_handler)

    @app.get("/gone")
    async def gone() -> None:
        raise ApiError("no such thing", code="not_found", status=404)

    answer = TestClient(app).get("/gone")
    assert answer.status_code == 404
    assert answer.json() == {"error": {"code": "not_found", "message": "no such thing"}}


def test_two_apps_do_not_share_their_limiters(settings: Settings, tmp_path: Path) -> None:
    config = settings.model_copy(update={"data_dir": tmp_path})
    first, second = create_app(config), create_app(config)  # no lifespan: no model loading
    assert first.state.limits is not second.state.limits
    one, other = TestClient(first), TestClient(second)
    for _ in range(FAILURES_ALLOWED):
        assert one.delete("/v1/me/data").status_code == 401
    assert one.delete("/v1/me/data").status_code == 429  # this app's address limit is spent
    assert other.delete("/v1/me/data").status_code == 401  # the other app's is not
