"""S3 (or any S3-compatible store) through boto3: server-side encryption and SHA-256 checksums."""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from capture.store import ObjectNotFound, ObjectStore, StoreError
from core.settings import Settings

log = logging.getLogger(__name__)
_reported: set[tuple[str, str]] = set()  # (bucket, error code) already explained in the log


class S3Store(ObjectStore):
    """One bucket; retries with backoff are botocore's ("standard" mode)."""

    def __init__(self, settings: Settings, bucket: str) -> None:
        self.bucket = bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )
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

    def delete(self, key: str) -> None:
        """DELETE (S3 answers 204 for absent keys too)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(f"delete {self.bucket}/{key}: {exc}") from exc
