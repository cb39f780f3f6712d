"""The HTTP routes' errors: ``ApiError`` raised anywhere, answered in one shape by one handler.

The shape is ``{"error": {"code": ..., "message": ...}}``. ``ApiError`` is the service's one
error type (``VoiceServiceError``: message first, then keyword ``code``) with an HTTP status.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from core.errors import VoiceServiceError


class ApiError(VoiceServiceError):
    """An error answered with ``status`` and the JSON error shape."""

    def __init__(self, message: str, *, code: str, status: int) -> None:
        super().__init__(message, code=code)
        self.status = status


def error_body(error: VoiceServiceError) -> dict[str, str]:
    """The ``{"code", "message"}`` object every HTTP error answer holds under ``error``."""
    return {"code": error.code, "message": str(error)}


def json_error(error: VoiceServiceError, status: int) -> JSONResponse:
    """The JSON answer to ``error``."""
    return JSONResponse({"error": error_body(error)}, status_code=status)


async def api_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The app's handler for ``ApiError``."""
    assert isinstance(exc, ApiError)
    return json_error(exc, exc.status)
