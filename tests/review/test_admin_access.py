"""Admin access under attack, on PostgreSQL: failure limits, forwarded addresses, bad keys, ids."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.routes.limits import FAILURES_ALLOWED
from api.voice.models import Models
from core.settings import Settings
from migrations import upgrade
from review.keys import create_key
from tests.utils.databases import fresh_database
from tests.utils.server import serve_app

MAX_ID = 2**31 - 1  # ids are PostgreSQL INTEGER columns


@dataclass
class Site:
    base: str
    key: str

    def whoami(self, key: str | bytes, forwarded: str | None = None) -> httpx.Response:
        raw = key if isinstance(key, bytes) else key.encode()
        headers: dict[str, bytes] = {"Authorization": b"Bearer " + raw}
        if forwarded is not None:
            headers["X-Forwarded-For"] = forwarded.encode()
        return httpx.get(f"{self.base}/v1/admin/whoami", headers=headers, timeout=30)

    def get(self, path: str) -> httpx.Response:
        auth = {"Authorization": f"Bearer {self.key}"}
        return httpx.get(f"{self.base}{path}", headers=auth, timeout=30)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("admin-access")
    with fresh_database("postgresql", folder) as url:
        upgrade(url)
        yield folder, url


def site(
    settings: Settings, models: Models, database: tuple[Path, str], **overrides: object
) -> tuple[Settings, str, AbstractContextManager[str]]:
    folder, url = database
    config = settings.model_copy(update={"data_dir": folder, "database_url": url, **overrides})
    _, key = create_key(config, "ada", "admin")
    return config, key, serve_app(create_app(config, models=models))


def test_forwarded_addresses_are_ignored_unless_the_proxy_is_trusted(
    settings: Settings, models: Models, database: tuple[Path, str]
) -> None:
    # Before: X-Forwarded-For was believed from any loopback peer, so rotating it gave an
    # attacker unlimited guesses. Now it is believed only from VOICE_FORWARDED_ALLOW_IPS.
    _, key, server = site(settings, models, database)
    with server as base:
        admin = Site(base, key)
        answers = [
            admin.whoami(f"vsk_guess{n}", forwarded=f"198.51.100.{n}").status_code
            for n in range(FAILURES_ALLOWED + 5)
        ]
        assert answers[:FAILURES_ALLOWED] == [401] * FAILURES_ALLOWED
        assert set(answers[FAILURES_ALLOWED:]) == {429}
        assert admin.whoami(key).json()["name"] == "ada"  # a valid key is never refused


def test_behind_a_trusted_proxy_failures_count_per_client_and_per_key_prefix(
    settings: Settings, models: Models, database: tuple[Path, str]
) -> None:
    _, key, server = site(settings, models, database, forwarded_allow_ips=["127.0.0.0/8"])
    with server as base:
        admin = Site(base, key)
        for n in range(FAILURES_ALLOWED):
            assert admin.whoami(f"vsk_g{n:02d}", forwarded="203.0.113.9").status_code == 401
        assert admin.whoami("vsk_next", forwarded="203.0.113.9").status_code == 429
        # an address written further left by the client changes nothing: the proxy's
        # own entry (the right-most untrusted one) is the client
        spoofed = admin.whoami("vsk_next", forwarded="192.0.2.1, 203.0.113.9")
        assert spoofed.status_code == 429
        # other people behind the same proxy are not locked out, nor is the attacker's
        # valid key (behind a shared proxy, one attacker cannot lock out every admin)
        assert admin.whoami("vsk_other", forwarded="203.0.113.10").status_code == 401
        assert admin.whoami(key, forwarded="203.0.113.9").status_code == 200
        # guesses at one key from rotating addresses are counted by the key's prefix
        answers = [
            admin.whoami(f"vsk_AAAAAAAA{n}", forwarded=f"192.0.2.{n}").status_code
            for n in range(FAILURES_ALLOWED + 3)
        ]
        assert answers[:FAILURES_ALLOWED] == [401] * FAILURES_ALLOWED
        assert set(answers[FAILURES_ALLOWED:]) == {429}


def test_malformed_keys_and_huge_ids_are_clear_errors(
    settings: Settings, models: Models, database: tuple[Path, str]
) -> None:
    _, key, server = site(settings, models, database)
    with server as base:
        admin = Site(base, key)
        for bad in ("vsk_é".encode(), "vsk_\u202e".encode(), b"vsk_\xff\xfe"):
            refused = admin.whoami(bad)
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        # Before: OverflowError (SQLite) or "integer out of range" (PostgreSQL): 500.
        for path in (
            f"/v1/admin/review/items/{2**70}",
            f"/v1/admin/review/items/{MAX_ID + 1}/audio",
            "/v1/admin/review/items/0",
            f"/v1/admin/review/batches/{2**63}",
            f"/v1/admin/review/items?batch={2**70}",
            "/v1/admin/review/items?batch=-1",
        ):
            answer = admin.get(path)
            assert answer.status_code == 422, (path, answer.text)
            assert answer.json()["error"]["code"] == "invalid_request"
        decision = httpx.post(
            f"{base}/v1/admin/review/items/{2**70}/decision",
            json={"action": "approve"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert decision.status_code == 422
        for path in (f"/v1/admin/review/items/{MAX_ID}", f"/v1/admin/review/batches/{MAX_ID}"):
            assert admin.get(path).status_code == 404  # the largest id is looked up
        assert admin.get(f"/v1/admin/review/items?batch={MAX_ID}").json() == {"items": []}
