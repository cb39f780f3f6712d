import pytest
from pydantic import ValidationError

from core.settings import Settings


def test_trusted_proxies_are_read_as_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).forwarded_allow_ips == []  # type: ignore[call-arg]
    monkeypatch.setenv("VOICE_FORWARDED_ALLOW_IPS", '["10.0.0.0/8", "192.0.2.7", "fd00::/8"]')
    networks = Settings(_env_file=None).forwarded_allow_ips  # type: ignore[call-arg]
    assert [str(n) for n in networks] == ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8"]
    monkeypatch.setenv("VOICE_FORWARDED_ALLOW_IPS", '["proxy.example.org"]')
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]
