"""The science knowledge base, retrieved by TF-IDF cosine similarity.

Passages shipped with the package, plus documents the operator adds (``voice-service kb add``).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer

from core.errors import VoiceServiceError
from core.folders import private_folder
from core.messages import Passage

_ID_UNSAFE = re.compile(r"[^a-z0-9]+")
MAX_DOCUMENT_BYTES = 5_000_000


class KnowledgeBaseError(VoiceServiceError):
    """A document could not be added."""

    code = "bad_document"


def _parse_jsonl(text: str, origin: str) -> list[Passage]:
    passages = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            passages.append(Passage.model_validate_json(line))
        except ValueError as exc:
            first = str(exc).splitlines()[0]
            raise KnowledgeBaseError(f"{origin}:{number}: not a passage ({first})") from exc
    return passages


class KnowledgeBase:
    """An in-memory index over every passage; rebuilt when documents are added."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self.vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, stop_words="english"
        )
        corpus = [f"{p.title} {p.title} {p.text}" for p in passages]
        self.matrix = self.vectorizer.fit_transform(corpus) if passages else None

    @classmethod
    def load(cls, kb_dir: Path) -> KnowledgeBase:
        """The shipped passages, then each ``*.jsonl`` in ``kb_dir``; later ids replace earlier."""
        shipped = resources.files("api.voice").joinpath("data/kb/science.jsonl").read_text("utf-8")
        by_id = {p.id: p for p in _parse_jsonl(shipped, "science.jsonl")}
        for path in sorted(kb_dir.glob("*.jsonl")) if kb_dir.is_dir() else []:
            by_id.update({p.id: p for p in _parse_jsonl(path.read_text("utf-8"), str(path))})
        return cls(list(by_id.values()))

    def search(self, query: str, *, top_k: int, min_score: float) -> list[Passage]:
        """The best passages for ``query`` scoring at least ``min_score`` (cosine, 0..1)."""
        if self.matrix is None or not query.strip():
            return []
        scores = (self.matrix @ self.vectorizer.transform([query]).T).toarray().ravel()
        ranked = scores.argsort()[::-1][:top_k]
        return [
            self.passages[i].model_copy(update={"score": round(float(scores[i]), 4)})
            for i in ranked
            if scores[i] >= min_score
        ]


def passages_from_file(path: Path) -> list[Passage]:
    """Passages of one document: JSON lines as they are, text or Markdown split by paragraph."""
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise KnowledgeBaseError(f"{path}: larger than {MAX_DOCUMENT_BYTES // 1_000_000} MB")
        text = path.read_text("utf-8")
    except FileNotFoundError as exc:
        raise KnowledgeBaseError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise KnowledgeBaseError(f"{path}: not UTF-8 text") from exc
    except OSError as exc:
        raise KnowledgeBaseError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if path.suffix == ".jsonl":
        passages = _parse_jsonl(text, str(path))
    else:
        stem = _ID_UNSAFE.sub("-", path.stem.lower()).strip("-") or "doc"
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
        passages = [
            Passage(id=f"{stem}-{n}", title=path.stem, text=p.lstrip("# "), source=path.name)
            for n, p in enumerate(paragraphs, start=1)
        ]
    if not passages:
        raise KnowledgeBaseError(f"{path}: no text to add")
    return passages


def add_documents(paths: list[Path], kb_dir: Path) -> int:
    """Validate every document first, then store each as ``kb_dir/<name>.jsonl``; returns count."""
    parsed = [(path, passages_from_file(path)) for path in paths]
    private_folder(kb_dir)
    total = 0
    for path, passages in parsed:
        target = kb_dir / f"{_ID_UNSAFE.sub('-', path.stem.lower()).strip('-') or 'doc'}.jsonl"
        tmp = target.with_suffix(".tmp")
        tmp.write_text("".join(p.model_dump_json(exclude={"score"}) + "\n" for p in passages))
        tmp.replace(target)
        total += len(passages)
    return total
