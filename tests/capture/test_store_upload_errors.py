"""The first failed upload says why, in one log line.

MinIO refuses SSE-S3 (``VOICE_S3_SSE=AES256``) when no KMS key is configured, with a 501
``NotImplemented``. No MinIO server can run here (no binary in any package registry), and moto
accepts every encryption header, so a loopback server answers PUTs exactly as MinIO does then
(its error ``ErrKMSNotConfigured``): the real boto3 client, the real HTTP exchange.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from capture.store import StoreError, open_store
from core.settings import Settings

KMS_NOT_CONFIGURED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NotImplemented</Code><Message>Server'
    b" side encryption specified but KMS is not configured</Message><Key>k</Key><BucketName>"
    b"b</BucketName><Resource>/b/k</Resource><RequestId>1</RequestId><HostId>h</HostId></Error>"
)


class _MinioWithoutKms(BaseHTTPRequestHandler):
    puts = 0

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).puts += 1
        refuse = self.headers.get("x-amz-server-side-encryption") == "AES256"
        self.send_response(501 if refuse else 200)
        body = KMS_NOT_CONFIGURED if refuse else b""
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def minio_without_kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MinioWithoutKms)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_sse_refused_for_want_of_a_kms_key_is_explained_once(
    minio_without_kms: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        storage="s3",
        s3_endpoint_url=minio_without_kms,
        s3_bucket_template="kms-test-{region}",
        _env_file=None,
    )  # type: ignore[call-arg]
    store = open_store(settings, "eu")
    with caplog.at_level(logging.ERROR, logger="capture.store_s3"):
        for attempt in range(3):
            with pytest.raises(StoreError, match="KMS is not configured"):
                store.put(f"raw/{attempt}.txt", b"x", content_type="text/plain")
    assert _MinioWithoutKms.puts == 3  # each try reached the server (501 is not retried)
    [record] = caplog.records  # the first failure only
    line = record.getMessage()
    assert "\n" not in line
    assert "s3://kms-test-eu" in line and "NotImplemented" in line
    assert "KMS is not configured" in line and "VOICE_S3_SSE=AES256" in line
    assert "MINIO_KMS_SECRET_KEY" in line


def test_an_unreachable_store_is_explained_once_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = Settings(
        data_dir=tmp_path,
        storage="s3",
        s3_endpoint_url="http://127.0.0.1:9",
        s3_bucket_template="down-test-{region}",
        _env_file=None,
    )  # type: ignore[call-arg]
    store = open_store(settings, "us")
    with caplog.at_level(logging.ERROR, logger="capture.store_s3"):
        for _ in range(2):
            with pytest.raises(StoreError):
                store.put("raw/a.txt", b"x", content_type="text/plain")
    [record] = caplog.records
    assert "s3://down-test-us" in record.getMessage()
    assert "EndpointConnectionError" in record.getMessage()
    assert "MINIO_KMS_SECRET_KEY" not in record.getMessage()  # no encryption hint here
