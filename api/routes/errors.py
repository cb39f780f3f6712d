"""The HTTP routes' error shape: ``{"error": {"code": ..., "message": ...}}``."""

from __future__ import annotations

from fastapi.responses import JSONResponse


def json_error(status: int, code: str, message: str) -> JSONResponse:
    """An error answer with a machine-readable code and a message for people."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
