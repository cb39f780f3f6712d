"""Session tokens the service signs: ``user.expiry.signature`` (HMAC-SHA256, URL-safe).

A token is ASCII by construction; anything else a client sends is refused as malformed
before any work, and signatures are compared as bytes (``hmac.compare_digest`` raises on
``str`` holding non-ASCII characters).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


class TokenError(Exception):
    """The token is malformed, forged or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def issue_token(user: str, secret: str, ttl_s: int, now: float | None = None) -> str:
    """A token for ``user`` valid for ``ttl_s`` seconds."""
    if not secret:
        raise TokenError("no token secret is configured (VOICE_TOKEN_SECRET)")
    expiry = int((time.time() if now is None else now) + ttl_s)
    payload = f"{_b64(user.encode())}.{expiry}"
    return f"{payload}.{_sign(secret, payload)}"


def verify_token(token: str, secret: str, now: float | None = None) -> str:
    """The user the token was issued to; raises ``TokenError`` otherwise."""
    if not secret:
        raise TokenError("no token secret is configured")
    if not token.isascii():
        raise TokenError("malformed token")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("malformed token")
    user_part, expiry_part, signature = parts
    payload = f"{user_part}.{expiry_part}"
    if not hmac.compare_digest(_sign(secret, payload).encode(), signature.encode()):
        raise TokenError("bad signature")
    try:
        expiry = int(expiry_part)
        user = _unb64(user_part).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError("malformed token") from exc
    if expiry < (time.time() if now is None else now):
        raise TokenError("expired token")
    return user
