"""The science terms: the STT hotwords and the knowledge base's titles, with their domains.

The knowledge base is read as data (its JSON lines) from where the ``api`` package keeps it,
plus the operator's documents in ``{data_dir}/kb``; nothing of ``api`` is imported.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path

from core.settings import SCIENCE_HOTWORDS, Settings

PREFIX_DOMAINS = {
    "phys": "physics",
    "si": "physics",
    "astro": "physics",
    "chem": "chemistry",
    "bio": "biology",
    "math": "math",
    "eng": "engineering",
}


_NON_WORD = re.compile(r"[^\w\s]")


@dataclass(frozen=True)
class Term:
    """One science term and the domain it belongs to."""

    text: str
    domain: str


def _kb_files(settings: Settings) -> list[Path]:
    spec = importlib.util.find_spec("api")  # locates the package without importing it
    files = []
    if spec is not None and spec.submodule_search_locations:
        shipped = Path(next(iter(spec.submodule_search_locations))) / "voice/data/kb/science.jsonl"
        files.append(shipped)
    if settings.kb_dir.is_dir():
        files += sorted(settings.kb_dir.glob("*.jsonl"))
    return [path for path in files if path.is_file()]


def _passages(settings: Settings) -> list[dict[str, str]]:
    found = []
    for path in _kb_files(settings):
        for line in path.read_text("utf-8").splitlines():
            try:
                passage = json.loads(line)
            except ValueError:
                continue  # `kb add` validates; a broken line adds no term
            if isinstance(passage, dict) and passage.get("title"):
                found.append(passage)
    return found


def _domain(passage: dict[str, str]) -> str:
    return PREFIX_DOMAINS.get(str(passage.get("id", "")).split("-")[0], "none")


def science_terms(settings: Settings) -> list[Term]:
    """Hotwords first, then titles (without a leading "The"); each once, case-insensitively."""
    passages = _passages(settings)
    terms: dict[str, Term] = {}
    for word in [*SCIENCE_HOTWORDS, *settings.stt_hotwords]:
        pattern = re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)
        owner = next((p for p in passages if pattern.search(f"{p['title']} {p.get('text')}")), None)
        terms.setdefault(word.lower(), Term(word, _domain(owner) if owner else "none"))
    for passage in passages:
        title = re.sub(r"^the\s+", "", passage["title"].strip(), flags=re.IGNORECASE)
        terms.setdefault(title.lower(), Term(title, _domain(passage)))
    return list(terms.values())


def _spaced(text: str) -> str:
    """Lower-case words between single spaces, padded: whole-word matching by ``in``."""
    return " " + " ".join(_NON_WORD.sub(" ", text.lower()).split()) + " "


class Coverage:
    """Which terms a text mentions (whole words, any case, punctuation ignored)."""

    def __init__(self, terms: list[Term]) -> None:
        self.terms = [(t.text, _spaced(t.text)) for t in terms]

    def mentioned(self, text: str) -> set[str]:
        """The terms ``text`` contains."""
        spaced = _spaced(text)
        return {name for name, pattern in self.terms if pattern in spaced}
