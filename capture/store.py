"""Object stores for captured turns: the interface and the backend chosen by settings.

One bucket per region. ``local`` (the embedded default) keeps objects as files encrypted with
AES-GCM; ``s3`` talks to S3 or any S3-compatible store through boto3.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from capture.keys import bucket_name
from core.settings import Settings

Keys = list[str]  # (``list`` is also a method name of the stores below)


class StoreError(Exception):
    """An object could not be stored, read or found."""


class ObjectNotFound(StoreError):
    """No object under that key."""


class ObjectStore(ABC):
    """One bucket."""

    bucket: str

    @abstractmethod
    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing what was there (puts are idempotent)."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The object's bytes (decrypted); ``ObjectNotFound`` if absent."""

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix``, sorted."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object and any earlier versions of it; absent objects are not an error."""

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix``, earlier versions too; returns how many."""
        keys = self.list(prefix)
        for key in keys:
            self.delete(key)
        return len(keys)

    def list_all(self, prefix: str) -> Keys:
        """Keys under ``prefix`` that hold anything, current or not.

        On a versioned bucket this adds keys whose only versions are old ones (overwritten,
        or deleted without their version ids); elsewhere it is ``list``.
        """
        return self.list(prefix)

    def purge_history(self, key: str) -> None:  # noqa: B027 (a no-op unless versioned)
        """Remove earlier versions of ``key`` and keep the current one.

        Called after a rewrite that took something out (a reviewer's redaction); where a put
        replaces the object outright, as in the local store, there is nothing to do.
        """


def open_store(settings: Settings, region: str) -> ObjectStore:
    """The configured backend, for the bucket of ``region``."""
    bucket = bucket_name(settings.s3_bucket_template, region)
    if settings.storage == "s3":
        from capture.store_s3 import S3Store

        return S3Store(settings, bucket)
    from capture.store_local import LocalStore

    return LocalStore(settings, bucket)
