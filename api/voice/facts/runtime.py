"""One fact index per process, shared by the facts action, the guard and the transcript fixer.

Built on first use (the cached store loads in well under a second; a first build from the
packages takes a few seconds) and kept: the facts only change with the installed packages.
"""

from __future__ import annotations

import threading
from pathlib import Path

from api.voice.facts.hearing import TranscriptFixer
from api.voice.facts.retrieve import FactIndex
from api.voice.facts.store import BuildReport, load_facts

_lock = threading.Lock()
_indexes: dict[Path | None, tuple[FactIndex, BuildReport]] = {}


def fact_index(data_dir: Path | None) -> FactIndex:
    """The index over the store cached in ``data_dir`` (None: built in memory, not cached)."""
    return fact_index_with_report(data_dir)[0]


def fact_index_with_report(data_dir: Path | None) -> tuple[FactIndex, BuildReport]:
    """The index and how its store was obtained (built or read from the cache, and how fast)."""
    key = data_dir.resolve() if data_dir is not None else None
    with _lock:
        found = _indexes.get(key)
        if found is None:
            facts, report = load_facts(data_dir)
            found = _indexes[key] = (FactIndex(facts), report)
        return found


_fixers: dict[Path | None, TranscriptFixer] = {}


def transcript_fixer(data_dir: Path | None) -> TranscriptFixer:
    """The transcript corrector over the same facts, built once (about 0.2 s)."""
    index = fact_index(data_dir)
    key = data_dir.resolve() if data_dir is not None else None
    with _lock:
        fixer = _fixers.get(key)
        if fixer is None:
            fixer = _fixers[key] = TranscriptFixer(index.facts)
        return fixer
