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

from api.routes.deps import LimitsDep, SettingsDep
from api.routes.errors import ApiError
from api.routes.limits import client_of
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
)
async def erase_my_data(
    request: Request, settings: SettingsDep, limits: LimitsDep
) -> dict[str, object]:
    """Withdraw consent and erase every capture of the caller (202: the erasure is under way)."""
    user = _user(request, settings)
    if user is None or not settings.require_token:  # nothing proven: count by address
        client = client_of(request)
        blocked = limits.erasure_by_address.blocked(client)
        limits.erasure_by_address.count(client)
        if blocked:
            raise ApiError("too many requests; wait a minute", code="rate_limited", status=429)
    if user is None:
        message = "send Authorization: Bearer <your user token>"
        raise ApiError(message, code="unauthorized", status=401)
    sink = request.app.state.model_state.capture
    user_id = sink.user_id(user)
    if limits.erasures.blocked(user_id):
        message = "too many erasure requests; wait a minute"
        raise ApiError(message, code="rate_limited", status=429)
    limits.erasures.count(user_id)
    change = await sink.request_erasure(user, "api")
    return {
        "status": "erasure_scheduled",
        "request_id": change.event_id,
        "spooled_turns_erased": len(change.spooled_turns),
    }
