"""A user's own data: ``DELETE /v1/me/data`` withdraws consent and erases every capture.

The caller proves who they are with ``Authorization: Bearer <user token>``: the signed token
when the service requires tokens, otherwise the same user identifier the client sends in its
sessions' ``start`` message. Spooled turns go at once; stored captures are erased by a
worker within one run (the change is kept durably first, so an outage only delays it).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.routes.errors import json_error
from api.routes.limits import ClientLimiter, client_of
from core.settings import Settings
from core.tokens import TokenError, verify_token

router = APIRouter(tags=["privacy"])
MAX_TOKEN_CHARS = 1024
# Each request writes a durable file and a task: a client gets 10 a minute, enough for people.
limiter = ClientLimiter(10, 60.0)


def _user(request: Request, settings: Settings) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    if not settings.require_token:
        return token
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
    client = client_of(request)
    if limiter.blocked(client):
        return json_error(429, "rate_limited", "too many erasure requests; wait a minute")
    limiter.count(client)
    user = _user(request, settings)
    if user is None:
        return json_error(401, "unauthorized", "send Authorization: Bearer <your user token>")
    sink = request.app.state.model_state.capture
    change = await sink.request_erasure(user, "api")
    return {
        "status": "erasure_scheduled",
        "request_id": change.event_id,
        "spooled_turns_erased": len(change.spooled_turns),
    }
