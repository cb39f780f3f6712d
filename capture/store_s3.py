"""S3 (or any S3-compatible store) through boto3: server-side encryption and SHA-256 checksums.

Deletes remove every version of a key and its delete markers, so an erased or expired object
leaves nothing behind on a versioned bucket (a plain DELETE there only hides the data behind
a delete marker). A store that does not implement version listing is treated as unversioned.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from typing import Any, NamedTuple

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from capture.store import Keys, ObjectNotFound, ObjectStore, StoreError
from core.settings import Settings

log = logging.getLogger(__name__)
_reported: set[tuple[str, str]] = set()  # (bucket, error code) already explained in the log
BATCH = 1000  # keys per DeleteObjects request (the API's limit)
_clients: dict[tuple[int, str | None], Any] = {}  # (process id, endpoint): one client each
_clients_lock = threading.Lock()


def client_for(endpoint_url: str | None) -> Any:
    """The boto3 S3 client of this process for ``endpoint_url``, made on first use.

    Making a client costs milliseconds of CPU (it loads the service model); a client is
    thread-safe, so every store of the process shares one. A forked process makes its own.
    """
    key = (os.getpid(), endpoint_url)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint_url,
                config=Config(
                    retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=16
                ),
            )
            _clients[key] = client
    return client


class Version(NamedTuple):
    """One version of a key, or one delete marker."""

    key: str
    version_id: str
    latest: bool
    marker: bool


Versions = list[Version]  # (``list`` is also a method name of the store)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Store(ObjectStore):
    """One bucket; retries with backoff are botocore's ("standard" mode)."""

    def __init__(self, settings: Settings, bucket: str) -> None:
        self.bucket = bucket
        self.client: Any = client_for(settings.s3_endpoint_url)
        self.encryption: dict[str, str] = {"ServerSideEncryption": settings.s3_sse}
        if settings.s3_sse == "aws:kms" and settings.s3_kms_key_id:
            self.encryption["SSEKMSKeyId"] = settings.s3_kms_key_id

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (development and tests)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """PUT with SSE and a SHA-256 checksum the server verifies."""
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                **self.encryption,
            )
        except (BotoCoreError, ClientError) as exc:
            self._explain_first(exc)
            raise StoreError(f"put {self.bucket}/{key}: {exc}") from exc

    def _explain_first(self, exc: Exception) -> None:
        """One log line, the first time uploads to this bucket fail this way, saying why."""
        error = exc.response.get("Error", {}) if isinstance(exc, ClientError) else {}
        code = str(error.get("Code") or type(exc).__name__)
        if (self.bucket, code) in _reported:
            return
        _reported.add((self.bucket, code))
        why = " ".join(str(error.get("Message") or exc).split())
        if "encrypt" in why.lower() or "kms" in why.lower():
            sse = self.encryption["ServerSideEncryption"]
            why += (
                f" (VOICE_S3_SSE={sse}: the store refuses server-side encryption; give it a KMS"
                " key, for MinIO MINIO_KMS_SECRET_KEY as in docker-compose.yml)"
            )
        log.error(
            "upload to s3://%s failed: %s: %s; captures wait in the spool, retry, then go to"
            " the dead letters",
            self.bucket,
            code,
            why,
        )

    def get(self, key: str) -> bytes:
        """GET the object's bytes."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise ObjectNotFound(key) from exc
            raise StoreError(f"get {self.bucket}/{key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"get {self.bucket}/{key}: {exc}") from exc
        body: bytes = response["Body"].read()
        return body

    def list(self, prefix: str) -> list[str]:
        """Every key under the prefix, across pages."""
        keys: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            ):
                keys.extend(item["Key"] for item in page.get("Contents", []))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
                return []  # a region nobody has used yet
            raise StoreError(f"list {self.bucket}/{prefix}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"list {self.bucket}/{prefix}: {exc}") from exc
        return sorted(keys)

    def versions(self, prefix: str) -> Versions:
        """Every version and delete marker under ``prefix`` (the API's order)."""
        found: Versions = []
        try:
            for page in self.client.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=prefix
            ):
                for kind, marker in (("Versions", False), ("DeleteMarkers", True)):
                    found.extend(
                        Version(v["Key"], v.get("VersionId") or "null", v["IsLatest"], marker)
                        for v in page.get(kind, [])
                    )
        except ClientError as exc:
            if _code(exc) == "NoSuchBucket":
                return []
            if _code(exc) in ("NotImplemented", "501"):  # no versioning here: plain keys
                return [Version(k, "", True, False) for k in self.list(prefix)]
            raise StoreError(f"list versions {self.bucket}/{prefix}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"list versions {self.bucket}/{prefix}: {exc}") from exc
        return found

    def _remove(self, versions: Versions) -> None:
        for chunk in _chunks(versions):
            objects = [
                {"Key": v.key, "VersionId": v.version_id} if v.version_id else {"Key": v.key}
                for v in chunk
            ]
            try:
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True}
                )
            except (BotoCoreError, ClientError) as exc:
                raise StoreError(f"delete in {self.bucket}: {exc}") from exc
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise StoreError(
                    f"delete {self.bucket}/{first.get('Key')}: {first.get('Code')} "
                    f"({len(answer['Errors'])} of {len(objects)} failed)"
                )

    def delete(self, key: str) -> None:
        """Delete every version of the key and its delete markers (absent keys: nothing)."""
        self._remove([v for v in self.versions(key) if v.key == key])

    def delete_prefix(self, prefix: str) -> int:
        """Delete every version and delete marker under the prefix.

        Returns how many keys were current objects (what a listing showed before).
        """
        versions = self.versions(prefix)
        self._remove(versions)
        return len({v.key for v in versions if v.latest and not v.marker})

    def list_all(self, prefix: str) -> Keys:
        """Keys with any version or delete marker under the prefix."""
        return sorted({v.key for v in self.versions(prefix)})

    def purge_history(self, key: str) -> None:
        """Delete the key's noncurrent versions and delete markers, keeping the current one."""
        self._remove([v for v in self.versions(key) if v.key == key and not v.latest])


def _chunks(versions: Versions) -> Iterator[Versions]:
    for start in range(0, len(versions), BATCH):
        yield versions[start : start + BATCH]
