"""Errors that cross a boundary carry a stable code, so a client or a CLI can report them."""

from __future__ import annotations


class VoiceServiceError(Exception):
    """Base of the service's own errors: ``code`` is machine-readable, the message is for people."""

    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class AudioError(VoiceServiceError):
    """The input audio is empty, undecodable or too long."""

    code = "bad_audio"


class BackendUnavailable(VoiceServiceError):
    """A configured backend cannot be loaded (unknown name, missing extra, missing model)."""

    code = "backend_unavailable"
