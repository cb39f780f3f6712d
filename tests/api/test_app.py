import time

from fastapi.testclient import TestClient

from api.app import create_app
from api.voice.models import Models
from core.settings import Settings


def test_health_and_ready_with_loaded_models(settings: Settings, models: Models) -> None:
    with TestClient(create_app(settings, models=models)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["models"]["llm"].startswith("llamacpp:")


def test_readyz_turns_ready_after_background_loading(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        first = client.get("/readyz")
        assert client.get("/healthz").status_code == 200  # answers while models load
        deadline = time.monotonic() + 120
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert first.status_code in (200, 503)


def test_readyz_reports_a_failed_load(settings: Settings, tmp_path) -> None:
    broken = settings.model_copy(update={"llm_model_path": tmp_path / "missing.gguf"})
    with TestClient(create_app(broken)) as client:
        deadline = time.monotonic() + 60
        while (response := client.get("/readyz")).json()["status"] == "loading":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "models_failed"
