"""A user's own data: ``DELETE /v1/me/data`` withdraws consent and erases every capture.

The caller proves who they are with ``Authorization: Bearer <user token>``: the signed token
when the service requires tokens, otherwise the same user identifier the client sends in its
sessions' ``start`` message. Spooled turns go at once; stored captures are erased by a
worker within one run (the change is kept durably first, so an outage only delays it).

Limits (``app.state.limits``): requests without a valid signed token (every request when
the service does not require tokens: then the identifier proves nothing) are counted per
client address, and erasures per user; with tokens required, no one can use up another
person's allowance.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.routes.errors import json_error
from api.routes.limits import Limits, client_of
from core.settings import Settings
from core.tokens import TokenError, verify_token

router = APIRouter(tags=["privacy"])
MAX_TOKEN_CHARS = 1024


def _user(request: Request, settings: Settings) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    if not settings.require_token:
        try:  # HTTP headers arrive decoded as Latin-1; the client's identifier was UTF-8
            return token.encode("latin-1").decode("utf-8")
        except UnicodeError:
            return None
    try:
        return verify_token(token, settings.token_secret)
    except TokenError:
        return None


@router.delete(
    "/v1/me/data",
    status_code=202,
    responses={
        401: {"description": "no valid user token"},
        429: {"description": "too many requests"},
    },
    response_model=None,
)
async def erase_my_data(request: Request) -> JSONResponse | dict[str, object]:
    """Withdraw consent and erase every capture of the caller (202: the erasure is under way)."""
    settings: Settings = request.app.state.settings
    limits: Limits = request.app.state.limits
    user = _user(request, settings)
    if user is None or not settings.require_token:  # nothing proven: count by address
        client = client_of(request)
        blocked = limits.erasure_by_address.blocked(client)
        limits.erasure_by_address.count(client)
        if blocked:
            return json_error(429, "rate_limited", "too many requests; wait a minute")
    if user is None:
        return json_error(401, "unauthorized", "send Authorization: Bearer <your user token>")
    sink = request.app.state.model_state.capture
    user_id = sink.user_id(user)
    if limits.erasures.blocked(user_id):
        return json_error(429, "rate_limited", "too many erasure requests; wait a minute")
    limits.erasures.count(user_id)
    change = await sink.request_erasure(user, "api")
    return {
        "status": "erasure_scheduled",
        "request_id": change.event_id,
        "spooled_turns_erased": len(change.spooled_turns),
    }
