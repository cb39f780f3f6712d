from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from capture.store import ObjectNotFound, StoreError, open_store
from capture.store_local import LocalStore
from capture.store_s3 import S3Store
from core.settings import Settings
from tests.utils.s3 import s3_server

KEY = "raw/audio/voice_captures/2026-11-26/t1/transcript.txt"
SECRET = b"my card number is [CREDIT_CARD] and the secret word is zanzibar"


def local(tmp_path: Path) -> LocalStore:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    store = open_store(settings, "eu")
    assert isinstance(store, LocalStore)
    return store


def test_local_round_trip_and_listing(tmp_path: Path) -> None:
    store = local(tmp_path)
    store.put(KEY, SECRET, content_type="text/plain")
    store.put(KEY.replace("transcript.txt", "audio.flac"), b"fLaC...", content_type="audio/flac")
    assert store.get(KEY) == SECRET
    assert store.list("raw/audio/voice_captures/2026-11-26/") == sorted(
        [KEY, KEY.replace("transcript.txt", "audio.flac")]
    )
    assert store.delete_prefix("raw/audio/voice_captures/2026-11-26/t1/") == 2
    assert store.list("") == []
    with pytest.raises(ObjectNotFound):
        store.get(KEY)


def test_local_files_are_encrypted_and_private(tmp_path: Path) -> None:
    store = local(tmp_path)
    store.put(KEY, SECRET, content_type="text/plain")
    path = store.root / KEY
    raw = path.read_bytes()
    assert b"zanzibar" not in raw and len(raw) == len(SECRET) + 12 + 16
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "storage.key").stat().st_mode & 0o777 == 0o600


def test_local_tampering_and_moving_are_detected(tmp_path: Path) -> None:
    store = local(tmp_path)
    store.put(KEY, SECRET, content_type="text/plain")
    path = store.root / KEY
    data = bytearray(path.read_bytes())
    data[20] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="does not decrypt"):
        store.get(KEY)
    store.put(KEY, SECRET, content_type="text/plain")
    other = KEY.replace("t1", "t2")
    (store.root / other).parent.mkdir(parents=True)
    path.rename(store.root / other)
    with pytest.raises(StoreError, match="does not decrypt"):
        store.get(other)


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "a/../../b", "", "a\\b"])
def test_local_keys_cannot_escape_the_bucket(tmp_path: Path, key: str) -> None:
    with pytest.raises(StoreError, match="invalid object key"):
        local(tmp_path).put(key, b"x", content_type="text/plain")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.mark.usefixtures("aws_env")
def test_s3_store_sends_encryption_and_checksums(s3_endpoint: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, storage="s3", s3_endpoint_url=s3_endpoint, _env_file=None
    )  # type: ignore[call-arg]
    store = open_store(settings, "us")
    assert isinstance(store, S3Store) and store.bucket == "voice-captures-us"
    store.ensure_bucket()
    store.put(KEY, SECRET, content_type="text/plain")
    assert store.get(KEY) == SECRET
    assert store.list("raw/") == [KEY]
    head = boto3.client("s3", endpoint_url=s3_endpoint).head_object(
        Bucket="voice-captures-us", Key=KEY, ChecksumMode="ENABLED"
    )
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "text/plain"
    assert head.get("ChecksumSHA256")
    store.delete(KEY)
    store.delete(KEY)  # idempotent
    with pytest.raises(ObjectNotFound):
        store.get(KEY)


@pytest.mark.usefixtures("aws_env")
def test_s3_kms_and_unreachable_endpoint(s3_endpoint: str, tmp_path: Path) -> None:
    kms = Settings(
        data_dir=tmp_path,
        storage="s3",
        s3_endpoint_url=s3_endpoint,
        s3_sse="aws:kms",
        s3_kms_key_id="alias/voice",
        _env_file=None,
    )  # type: ignore[call-arg]
    store = open_store(kms, "eu")
    assert store.encryption == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/voice"}  # type: ignore[attr-defined]
    down = Settings(
        data_dir=tmp_path, storage="s3", s3_endpoint_url="http://127.0.0.1:9", _env_file=None
    )  # type: ignore[call-arg]
    with pytest.raises(StoreError):
        open_store(down, "eu").put(KEY, b"x", content_type="text/plain")


def s3_store(endpoint: str, tmp_path: Path, bucket: str, *, versioned: bool) -> S3Store:
    settings = Settings(data_dir=tmp_path, storage="s3", s3_endpoint_url=endpoint, _env_file=None)  # type: ignore[call-arg]
    store = S3Store(settings, bucket)
    store.ensure_bucket()
    if versioned:
        store.client.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
        )
    return store


def all_versions(store: S3Store) -> list[tuple[str, bool, bool]]:
    return sorted((v.key, v.latest, v.marker) for v in store.versions(""))


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("versioned", [True, False])
def test_s3_deletes_take_every_version_and_delete_marker(
    s3_endpoint: str, tmp_path: Path, versioned: bool
) -> None:
    store = s3_store(s3_endpoint, tmp_path, f"deletes-{versioned}".lower(), versioned=versioned)
    turn = KEY.rsplit("/", 1)[0] + "/"
    store.put(KEY, SECRET, content_type="text/plain")
    store.put(KEY, b"rewritten", content_type="text/plain")  # versioned: the first one stays
    store.put(turn + "audio.flac", b"fLaC", content_type="audio/flac")
    hidden = turn + "metadata.json"
    store.put(hidden, b"{}", content_type="application/json")
    store.client.delete_object(Bucket=store.bucket, Key=hidden)  # versioned: a marker only
    neighbour = KEY.replace("/t1/", "/t10/")  # shares the prefix ".../t1" but not ".../t1/"
    store.put(neighbour, b"keep", content_type="text/plain")
    if versioned:  # what plain overwrites and deletes leave behind
        assert len(all_versions(store)) == 6
        old = next(v for v in store.versions(KEY) if not v.latest)
        answer = store.client.get_object(Bucket=store.bucket, Key=KEY, VersionId=old.version_id)
        assert answer["Body"].read() == SECRET
        assert store.list(turn) == sorted([KEY, turn + "audio.flac"])
        assert store.list_all(turn) == sorted([KEY, turn + "audio.flac", hidden])
    else:
        assert len(all_versions(store)) == 3

    store.purge_history(KEY)  # after a rewrite: only the current version stays
    assert [(v.latest, v.marker) for v in store.versions(KEY)] == [(True, False)]
    assert store.get(KEY) == b"rewritten"

    assert store.delete_prefix(turn) == 2  # the current objects: transcript and audio
    assert all_versions(store) == [(neighbour, True, False)]
    store.delete(neighbour)
    store.delete(neighbour)  # absent: nothing to do
    assert all_versions(store) == []
