import re
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import STATIC, create_app
from api.routes.limits import ERASURES_PER_USER, FAILURES_ALLOWED
from api.voice.models import Models
from core.settings import Settings
from core.tokens import issue_token


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


def _policy(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def test_pages_are_served_with_a_strict_policy_and_cannot_be_framed(
    settings: Settings, models: Models
) -> None:
    with TestClient(create_app(settings, models=models)) as client:
        for path in ("/", "/admin", "/policy.html"):
            answer = client.get(path)
            assert answer.status_code == 200
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["referrer-policy"] == "no-referrer"
            policy = _policy(answer.headers["content-security-policy"])
            assert policy["frame-ancestors"] == ["'none'"]
            assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
            assert policy["default-src"] == ["'self'"]
            assert policy["script-src"] in (["'self'"], ["'none'"])
            assert not any("unsafe" in v or v == "*" for vs in policy.values() for v in vs)
        api = client.get("/healthz")
        assert _policy(api.headers["content-security-policy"]) == {
            "default-src": ["'none'"],
            "frame-ancestors": ["'none'"],
        }
        assert api.headers["x-frame-options"] == "DENY"


def test_the_pages_have_no_inline_script_or_style() -> None:
    """What lets the policy above stay strict: every script and style is a file of its own."""
    for page in STATIC.glob("*.html"):
        html = page.read_text()
        for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S | re.I):
            assert not tag.strip(), f"inline script in {page.name}"
        assert re.search(r"<script\b(?![^>]*\bsrc=)", html, flags=re.I) is None, page.name
        assert re.search(r"\son[a-z]+\s*=", html, flags=re.I) is None, f"handler in {page.name}"
        assert re.search(r"<style\b|\sstyle\s*=", html, flags=re.I) is None, page.name
        assert "javascript:" not in html.lower(), page.name


def test_erasure_refuses_malformed_tokens_and_limits_per_user(
    settings: Settings, models: Models, tmp_path: Path
) -> None:
    secret = "erasure-secret"
    config = settings.model_copy(
        update={"data_dir": tmp_path, "require_token": True, "token_secret": secret}
    )
    ada, bob = (issue_token(name, secret, ttl_s=600) for name in ("ada", "bob"))
    with TestClient(create_app(config, models=models)) as client:

        def erase(token: bytes) -> int:
            headers = {"Authorization": b"Bearer " + token}
            return client.delete("/v1/me/data", headers=headers).status_code

        # Before: a non-ASCII token crashed the signature check (500).
        for bad in ("é.1.x".encode(), b"\xff\xfe.1.x", f"{ada[:-2]}é".encode()):
            answer = client.delete("/v1/me/data", headers={"Authorization": b"Bearer " + bad})
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"]["code"] == "unauthorized"
        for _ in range(ERASURES_PER_USER):
            assert erase(ada.encode()) == 202
        assert erase(ada.encode()) == 429  # ada's allowance is used up ...
        assert erase(bob.encode()) == 202  # ... not bob's, from the same address
        for _ in range(FAILURES_ALLOWED):
            erase(b"forged.1.token")
        assert erase(b"forged.1.token") == 429  # failed attempts are limited per address
        assert erase(bob.encode()) == 202  # and never lock out a valid token
