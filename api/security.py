"""Response headers that keep pages from being framed, sniffed or leaking where they were.

The pages load their scripts and styles from ``/static`` only (no inline script, style or
handler), so their Content-Security-Policy can be strict. ``frame-ancestors`` works only as
a header (browsers ignore it in a ``<meta>`` tag), hence this middleware beside the tags.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from learning.evaluation.html import STYLE_HASH

_COMMON = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
_STRICT = "style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
PAGE_POLICIES = {
    "/": f"{_COMMON}script-src 'self'; connect-src 'self'; {_STRICT}",
    "/admin": f"{_COMMON}script-src 'self'; connect-src 'self'; media-src 'self' blob:; {_STRICT}",
    "/policy.html": f"{_COMMON}script-src 'none'; connect-src 'none'; {_STRICT}",
}
API_POLICY = "default-src 'none'; frame-ancestors 'none'"  # JSON answers render nothing
# An evaluation report: no script, its one style block (by hash), its plots as data: images.
REPORT_POLICY = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
REPORTS = "/v1/admin/reports/"
HEADERS = {
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
}


def policy_for(path: str) -> str | None:
    """The Content-Security-Policy for ``path`` (static files keep their page's)."""
    if path.startswith("/static/"):
        return None  # scripts and worklets run under the policy of the page that loads them
    if path.startswith(REPORTS) and path.endswith("/report.html"):
        return REPORT_POLICY
    return PAGE_POLICIES.get(path, API_POLICY)


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = policy_for(scope["path"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in HEADERS and name.lower() != b"content-security-policy"
                ]
                headers.extend(HEADERS.items())
                if policy is not None:
                    headers.append((b"content-security-policy", policy.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
