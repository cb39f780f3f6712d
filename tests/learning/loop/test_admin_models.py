"""The registry's admin routes: admin role only, clear JSON errors, nothing changed on refusal."""

from __future__ import annotations

import httpx
import pytest

from api.app import create_app
from learning.registry.versions import register
from review.keys import create_key
from tests.learning.loop.conftest import Registry


@pytest.mark.asyncio
async def test_model_routes_need_an_admin_and_answer_errors_in_json(registry: Registry) -> None:
    settings = registry.settings
    # a candidate: the bundled model's folder registered under another id
    model_id = register(settings, settings.resolved_stt_model_path(), model_id="stt-admin-copy").id
    _, admin = create_key(settings, "ada", "admin")
    _, reviewer = create_key(settings, "rev", "reviewer")
    app = create_app(settings)  # no lifespan: the voice models are not needed here
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def call(
            method: str, path: str, key: str | None = admin, **kw: object
        ) -> httpx.Response:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            return await client.request(method, path, headers=headers, **kw)  # type: ignore[arg-type]

        assert (await call("GET", "/v1/admin/models", key=None)).status_code == 401
        assert (await call("GET", "/v1/admin/models", key=reviewer)).status_code == 403
        listing = (await call("GET", "/v1/admin/models")).json()["models"]
        assert model_id in {m["id"] for m in listing}
        shown = (await call("GET", f"/v1/admin/models/{model_id}")).json()
        assert shown["status"] == "candidate" and shown["artefact"]["sha256"]
        missing = await call("GET", "/v1/admin/models/no-such-model")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
        assert (await call("GET", "/v1/admin/models/bad.id")).status_code == 422
        before = shown["updated_at"]
        refused = await call("POST", f"/v1/admin/models/{model_id}/promote")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_evaluated"
        experiment = await call(
            "POST", "/v1/admin/experiments", json={"model_id": model_id, "share": 1.5}
        )
        assert experiment.status_code == 422
        unknown = await call("POST", "/v1/admin/experiments/exp-nope/stop")
        assert (
            unknown.status_code == 404 and unknown.json()["error"]["code"] == "experiment_not_found"
        )
        after = (await call("GET", f"/v1/admin/models/{model_id}")).json()
        assert after["status"] == "candidate" and after["updated_at"] == before
