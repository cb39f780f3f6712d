"""Registry entries: register (artefact first, row last), list, show, promote, retire, rollback.

Status moves: ``candidate`` (registered) -> ``challenger`` (in an A/B test) -> ``champion``
(serving by default) -> ``retired``. One champion per kind. Every change is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from capture.models import AuditEntry
from capture.queries import add_audit
from core.db import session_scope
from core.settings import Settings
from learning.errors import LearningError, ModelNotFound, NotEvaluated
from learning.registry import artefacts
from learning.registry.models import ModelVersion


def describe(model: ModelVersion) -> dict[str, Any]:
    """A JSON-able view of an entry."""
    return {
        "id": model.id,
        "kind": model.kind,
        "parent": model.parent_id,
        "description": model.description,
        "dataset": {"id": model.dataset_id, "hash": model.dataset_hash},
        "training": model.training,
        "evaluation": model.evaluation,
        "status": model.status,
        "artefact": {"prefix": model.artefact_prefix, "sha256": model.artefact_hash},
        "created_at": model.created_at.isoformat(),
        "updated_at": model.updated_at.isoformat(),
    }


def register(
    settings: Settings,
    folder: Path,
    *,
    kind: str = "stt",
    parent_id: str | None = None,
    dataset_id: str | None = None,
    dataset_hash: str | None = None,
    training: dict[str, Any] | None = None,
    description: str = "",
    status: str = "candidate",
    model_id: str | None = None,
    actor: str = "cli",
) -> ModelVersion:
    """Upload ``folder`` and then write the entry: a crash in between leaves no entry."""
    if not (folder / "model.bin").is_file():
        raise LearningError(f"{folder} is not a CTranslate2 model folder (no model.bin)")
    digest = artefacts.folder_digest(folder)
    now = datetime.now(UTC)
    model_id = model_id or f"{kind}-{now:%Y%m%d%H%M%S}-{digest[:8]}"
    try:
        prefix, digest = artefacts.upload_folder(settings, folder, kind, model_id)
    except BaseException:
        artefacts.delete_folder(settings, artefacts.prefix_for(kind, model_id))
        raise
    try:
        with session_scope(settings) as session:
            entry = ModelVersion(
                id=model_id,
                kind=kind,
                parent_id=parent_id,
                description=description[:200],
                dataset_id=dataset_id,
                dataset_hash=dataset_hash,
                training=training or {},
                evaluation={},
                status=status,
                artefact_prefix=prefix,
                artefact_hash=digest,
                created_at=now,
                updated_at=now,
            )
            session.add(entry)
            add_audit(
                session, actor, "model_register", model_id, {"status": status, "parent": parent_id}
            )
    except Exception:
        artefacts.delete_folder(settings, prefix)  # no artefact without its entry either
        raise
    return entry


def available(settings: Settings) -> bool:
    """Whether the database has the registry's tables (migrated)."""
    from sqlalchemy import inspect

    from core.db import get_engine

    return inspect(get_engine(settings)).has_table(ModelVersion.__tablename__)


def base_id(settings: Settings, kind: str = "stt") -> str:
    """The registry id of the configured model folder (by its content hash)."""
    return f"{kind}-base-{artefacts.folder_digest(settings.resolved_stt_model_path())[:12]}"


def ensure_base(settings: Settings, kind: str = "stt") -> ModelVersion:
    """The serving model of settings as an entry; champion when the kind has none yet."""
    folder = settings.resolved_stt_model_path()
    model_id = base_id(settings, kind)
    with session_scope(settings) as session:
        found = session.get(ModelVersion, model_id)
        has_champion = _champion(session, kind) is not None
    if found is not None:
        return found
    return register(
        settings,
        folder,
        kind=kind,
        model_id=model_id,
        description=f"base: {folder.name}",
        status="candidate" if has_champion else "champion",
        actor="system",
    )


def get(settings: Settings, model_id: str) -> ModelVersion:
    """The entry, or one line saying there is none."""
    with session_scope(settings) as session:
        found = session.get(ModelVersion, model_id)
    if found is None:
        raise ModelNotFound(f"no model {model_id!r} in the registry")
    return found


def listing(settings: Settings, kind: str | None = None) -> list[ModelVersion]:
    """Every entry, newest first."""
    with session_scope(settings) as session:
        query = select(ModelVersion).order_by(ModelVersion.created_at.desc())
        if kind:
            query = query.where(ModelVersion.kind == kind)
        return list(session.scalars(query))


def champion(settings: Settings, kind: str = "stt") -> ModelVersion | None:
    """The model serving by default."""
    with session_scope(settings) as session:
        return _champion(session, kind)


def _champion(session: Session, kind: str) -> ModelVersion | None:
    query = select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.status == "champion")
    return session.scalars(query).first()


def set_status(
    settings: Settings,
    model_id: str,
    status: str,
    actor: str,
    details: dict[str, Any] | None = None,
) -> ModelVersion:
    """Move an entry to ``status`` (audited)."""
    with session_scope(settings) as session:
        entry = session.get(ModelVersion, model_id)
        if entry is None:
            raise ModelNotFound(f"no model {model_id!r} in the registry")
        previous, entry.status, entry.updated_at = entry.status, status, datetime.now(UTC)
        add_audit(
            session, actor, f"model_{status}", model_id, {"from": previous, **(details or {})}
        )
    return entry


def promote(
    settings: Settings, model_id: str, actor: str, decision: dict[str, Any]
) -> ModelVersion:
    """Make ``model_id`` the champion; the old one retires. ``decision`` is the gate's record."""
    with session_scope(settings) as session:
        entry = session.get(ModelVersion, model_id)
        if entry is None:
            raise ModelNotFound(f"no model {model_id!r} in the registry")
        if not entry.evaluation:
            raise NotEvaluated(
                f"model {model_id} was never evaluated: "
                f"run `voice-service models evaluate {model_id}`"
            )
        old = _champion(session, entry.kind)
        now = datetime.now(UTC)
        if old is not None and old.id != model_id:
            old.status, old.updated_at = "retired", now
        entry.status, entry.updated_at = "champion", now
        add_audit(
            session,
            actor,
            "model_promote",
            model_id,
            {"previous": old.id if old else None, "decision": decision},
        )
    return entry


def rollback(settings: Settings, actor: str, kind: str = "stt") -> tuple[str, str]:
    """The champion before the current one serves again; returns (retired id, restored id)."""
    with session_scope(settings) as session:
        current = _champion(session, kind)
        if current is None:
            raise LearningError(
                f"no {kind} champion to roll back from", code="nothing_to_roll_back"
            )
        query = (
            select(AuditEntry)
            .where(AuditEntry.action == "model_promote", AuditEntry.subject == current.id)
            .order_by(AuditEntry.id.desc())
        )
        promotion = session.scalars(query).first()
        previous_id = (promotion.details or {}).get("previous") if promotion else None
        previous = session.get(ModelVersion, previous_id) if previous_id else None
        if previous is None:
            raise LearningError(
                f"{current.id} has no earlier champion to roll back to", code="nothing_to_roll_back"
            )
        now = datetime.now(UTC)
        current.status, current.updated_at = "retired", now
        previous.status, previous.updated_at = "champion", now
        add_audit(session, actor, "model_rollback", previous.id, {"retired": current.id})
        return current.id, previous.id


def record_evaluation(settings: Settings, model_id: str, figures: dict[str, Any]) -> None:
    """Keep the latest evaluation on the entry (audited: the figures' summary)."""
    with session_scope(settings) as session:
        entry = session.get(ModelVersion, model_id)
        if entry is None:
            raise ModelNotFound(f"no model {model_id!r} in the registry")
        entry.evaluation, entry.updated_at = figures, datetime.now(UTC)
        summary = {k: figures.get(k) for k in ("dataset_hash", "wer", "regression_wer")}
        add_audit(session, "system", "model_evaluate", model_id, summary)


def local_folder(settings: Settings, model_id: str) -> Path:
    """The entry's CTranslate2 folder on this machine (fetched and checked once)."""
    entry = get(settings, model_id)
    if entry.status == "failed":
        raise LearningError(f"model {model_id} failed and has no usable artefact")
    return artefacts.fetch_folder(settings, entry.artefact_prefix, entry.artefact_hash)
