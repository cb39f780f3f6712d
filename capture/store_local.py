"""The embedded object store: a directory per bucket, every file encrypted with AES-GCM.

The key comes from ``VOICE_STORAGE_KEY`` (32 bytes, base64); without one, a key is made once
and kept in ``{data_dir}/storage.key``, readable by the service's user only. Each file holds
a random 12-byte nonce and the ciphertext; the object key is authenticated with it, so a file
moved under another key fails to decrypt.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from capture.store import ObjectNotFound, ObjectStore, StoreError
from core.folders import data_folder, private_folder
from core.settings import Settings

NONCE_BYTES = 12


def secret(configured: str, path: Path) -> bytes:
    """A 32-byte secret: the configured one (base64), or one kept at ``path``.

    The file is made once (mode 0600), so the embedded default needs no configuration.
    """
    if configured:
        return base64.b64decode(configured)
    if not path.exists():
        private_folder(path.parent)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return base64.b64decode(path.read_bytes())
        with os.fdopen(descriptor, "wb") as out:
            out.write(base64.b64encode(secrets.token_bytes(32)))
    return base64.b64decode(path.read_bytes())


def seal(cipher: AESGCM, data: bytes, label: str) -> bytes:
    """A random nonce, then the ciphertext of ``data`` authenticated with ``label``."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + cipher.encrypt(nonce, data, label.encode())


def unseal(cipher: AESGCM, sealed: bytes, label: str) -> bytes:
    """The plaintext; ``InvalidTag`` if the bytes or their label were changed."""
    return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], label.encode())


def write_durably(path: Path, data: bytes) -> None:
    """Write ``path`` so that after a crash it is either the old file or the new one, whole.

    A temporary file (0600) is written and fsynced, renamed over ``path``, and the folder
    fsynced.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def load_key(settings: Settings) -> bytes:
    """The AES-256 key from settings, or the one kept in the data folder (made if missing)."""
    key = secret(settings.storage_key, settings.data_dir / "storage.key")
    if len(key) != 32:
        raise StoreError("the storage key must be 32 bytes, base64-encoded")
    return key


class LocalStore(ObjectStore):
    """Files under ``{data_dir}/objects/{bucket}/``."""

    def __init__(self, settings: Settings, bucket: str) -> None:
        self.bucket = bucket
        self.root = data_folder(settings, "objects", bucket).resolve()
        self.cipher = AESGCM(load_key(settings))

    def _path(self, key: str) -> Path:
        if not key or key.startswith("/") or "\\" in key or ".." in key.split("/"):
            raise StoreError(f"invalid object key {key[:200]!r}")
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise StoreError(f"invalid object key {key[:200]!r}")
        return path

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Encrypt, write to a temporary file, fsync, rename into place."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_durably(path, seal(self.cipher, data, key))

    def get(self, key: str) -> bytes:
        """Read and decrypt; a tampered or moved file is an error, never wrong data."""
        path = self._path(key)
        try:
            sealed = path.read_bytes()
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        try:
            return unseal(self.cipher, sealed, key)
        except InvalidTag as exc:
            raise StoreError(f"{key}: does not decrypt (tampered, moved, or another key)") from exc

    def list(self, prefix: str) -> list[str]:
        """Keys under the prefix (temporary files excluded)."""
        if not self.root.is_dir():
            return []
        keys = (
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        )
        return sorted(k for k in keys if k.startswith(prefix))

    def delete(self, key: str) -> None:
        """Unlink the file and any folders left empty."""
        path = self._path(key)
        path.unlink(missing_ok=True)
        for parent in path.parents:
            if parent == self.root or not parent.is_dir() or any(parent.iterdir()):
                break
            parent.rmdir()
