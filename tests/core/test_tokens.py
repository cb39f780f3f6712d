import pytest

from core.tokens import TokenError, issue_token, verify_token


def test_round_trip_and_expiry() -> None:
    token = issue_token("alice@example.org", "s3cret", ttl_s=60, now=1000)
    assert verify_token(token, "s3cret", now=1059) == "alice@example.org"
    with pytest.raises(TokenError, match="expired"):
        verify_token(token, "s3cret", now=1061)


@pytest.mark.parametrize(
    "mangle", [lambda t: t + "x", lambda t: t.replace(".", "", 1), lambda t: "a.b.c", lambda t: ""]
)
def test_forged_or_malformed(mangle) -> None:
    token = issue_token("bob", "s3cret", ttl_s=60)
    with pytest.raises(TokenError):
        verify_token(mangle(token), "s3cret")


def test_other_secret_and_no_secret() -> None:
    token = issue_token("bob", "one", ttl_s=60)
    with pytest.raises(TokenError, match="signature"):
        verify_token(token, "two")
    with pytest.raises(TokenError):
        issue_token("bob", "", ttl_s=60)
    with pytest.raises(TokenError):
        verify_token(token, "")


@pytest.mark.parametrize("token", ["é.1.x", "bob.9999999999.sïgnature", "\u202e.1.2", "a.b.\udcff"])
def test_non_ascii_tokens_are_malformed_not_a_crash(token: str) -> None:
    # hmac.compare_digest raises TypeError on str holding non-ASCII characters: before the
    # fix these crashed the WebSocket handler and DELETE /v1/me/data (500).
    with pytest.raises(TokenError, match="malformed"):
        verify_token(token, "s3cret")
