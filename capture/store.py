"""Object stores for captured turns: the interface and the backend chosen by settings.

One bucket per region. ``local`` (the embedded default) keeps objects as files encrypted with
AES-GCM; ``s3`` talks to S3 or any S3-compatible store through boto3.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from capture.keys import bucket_name
from core.settings import Settings


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
        """Remove the object; absent objects are not an error."""

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix``; returns how many."""
        keys = self.list(prefix)
        for key in keys:
            self.delete(key)
        return len(keys)


def open_store(settings: Settings, region: str) -> ObjectStore:
    """The configured backend, for the bucket of ``region``."""
    bucket = bucket_name(settings.s3_bucket_template, region)
    if settings.storage == "s3":
        from capture.store_s3 import S3Store

        return S3Store(settings, bucket)
    from capture.store_local import LocalStore

    return LocalStore(settings, bucket)
