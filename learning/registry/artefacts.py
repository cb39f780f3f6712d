"""Model folders in the object store: uploaded file by file with a hashed manifest.

Layout: ``models/{kind}/{model_id}/files/{relative path}`` and ``.../manifest.json`` (each
file's SHA-256 and size, and the folder's digest). The manifest is written last, so a folder
without one is incomplete; a download checks every hash and lands in place only when whole.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from capture.store import ObjectNotFound, ObjectStore, open_store
from core.folders import data_folder
from core.settings import Settings
from learning.errors import LearningError

PREFIX = "models"


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path, only: Iterable[str] | None = None) -> list[Path]:
    if only is not None:
        return [folder / name for name in only]
    return sorted(p for p in folder.rglob("*") if p.is_file())


def folder_digest(folder: Path, only: Iterable[str] | None = None) -> str:
    """One SHA-256 over every file's relative path and content hash (order-independent)."""
    digest = hashlib.sha256()
    for path in _files(folder, only):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{file_digest(path)}\n".encode())
    return digest.hexdigest()


def model_store(settings: Settings) -> ObjectStore:
    """The bucket models live in: the default region's."""
    return open_store(settings, settings.default_region)


def prefix_for(kind: str, model_id: str) -> str:
    """``models/{kind}/{id}/``."""
    return f"{PREFIX}/{kind}/{model_id}/"


def upload_folder(settings: Settings, folder: Path, kind: str, model_id: str) -> tuple[str, str]:
    """Upload every file, then the manifest; returns (prefix, folder digest)."""
    store = model_store(settings)
    prefix = prefix_for(kind, model_id)
    entries = []
    for path in _files(folder):
        relative = path.relative_to(folder).as_posix()
        store.put(
            f"{prefix}files/{relative}", path.read_bytes(), content_type="application/octet-stream"
        )
        entries.append(
            {"path": relative, "sha256": file_digest(path), "bytes": path.stat().st_size}
        )
    digest = folder_digest(folder)
    manifest = {"model_id": model_id, "kind": kind, "digest": digest, "files": entries}
    store.put(
        f"{prefix}manifest.json", json.dumps(manifest).encode(), content_type="application/json"
    )
    return prefix, digest


def delete_folder(settings: Settings, prefix: str) -> int:
    """Remove an artefact (a failed upload, or a retired model's files on request)."""
    return model_store(settings).delete_prefix(prefix)


def fetch_folder(settings: Settings, prefix: str, digest: str) -> Path:
    """The artefact as a local folder (cached by digest), every file's hash checked."""
    cache = data_folder(settings, "models", "cache")
    target = cache / digest[:24]
    if (target / ".complete").is_file():
        return target
    store = model_store(settings)
    try:
        manifest = json.loads(store.get(f"{prefix}manifest.json"))
    except ObjectNotFound:
        raise LearningError(
            f"the model artefact at {prefix} is incomplete (no manifest)", code="artefact_missing"
        ) from None
    if manifest.get("digest") != digest:
        raise LearningError(
            f"the model artefact at {prefix} does not match its registry hash",
            code="artefact_mismatch",
        )
    staging = cache / f".{target.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    for entry in manifest["files"]:
        path = staging / entry["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        data = store.get(f"{prefix}files/{entry['path']}")
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            shutil.rmtree(staging, ignore_errors=True)
            raise LearningError(f"{entry['path']} of {prefix} is corrupt", code="artefact_mismatch")
        path.write_bytes(data)
    (staging / ".complete").write_text(digest)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target
