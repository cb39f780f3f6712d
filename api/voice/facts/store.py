"""The fact store: built once from the installed packages, cached as JSON in the data folder.

The cache file's name carries the versions of the packages and of the shipped data it was
built from, so upgrading SciPy or mendeleev (or editing the curated files) rebuilds it at the
next start. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from api.voice.facts.model import Fact
from api.voice.facts.sources import (
    codata_facts,
    curated_facts,
    element_facts,
    ionization_facts,
    isotope_facts,
    package_versions,
    unit_relation_facts,
)
from core.folders import private_folder

log = logging.getLogger(__name__)
CACHE_FORMAT = 1


@dataclass(frozen=True)
class BuildReport:
    """How the store was obtained: built (and from what) or read from the cache."""

    facts: int
    seconds: float
    cached: bool
    path: Path | None
    counts: dict[str, int]


def _fingerprint() -> str:
    digest = hashlib.sha256(json.dumps(package_versions(), sort_keys=True).encode())
    for name in ("curated.jsonl", "aliases.json"):
        digest.update(resources.files("api.voice").joinpath(f"data/facts/{name}").read_bytes())
    digest.update(str(CACHE_FORMAT).encode())
    source = Path(__file__).with_name("sources.py")
    digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def build_facts() -> list[Fact]:
    """Every fact from every source; later sources never replace an earlier id."""
    merged: dict[str, Fact] = {}
    for fact in _chain(
        curated_facts(),
        codata_facts(),
        element_facts(),
        ionization_facts(),
        isotope_facts(),
        unit_relation_facts(),
    ):
        if fact.id in merged:
            continue
        merged[fact.id] = fact
    return _merge_legacy_names(list(merged.values()))


def _chain(*sources: Iterable[Fact]) -> Iterable[Fact]:
    for source in sources:
        yield from source


_LEGACY = re.compile(r"magn\.|\bmom\.|\bmag\.")


def _merge_legacy_names(facts: list[Fact]) -> list[Fact]:
    """SciPy keeps some old CODATA names beside the new ones ("magn." and "mag."): keep one."""
    kept: dict[tuple[str, float, str], Fact] = {}
    for fact in facts:
        key = (_LEGACY.sub("mag", fact.name.lower()), fact.value, fact.unit)
        if not fact.id.startswith("codata:"):
            key = (fact.id, 0.0, "")
        first = kept.get(key)
        if first is not None:
            kept[key] = replace(first, aliases=tuple(sorted({*first.aliases, *fact.aliases})))
        else:
            kept[key] = fact
    return list(kept.values())


def load_facts(data_dir: Path | None) -> tuple[list[Fact], BuildReport]:
    """The facts, from ``data_dir/facts/store-<fingerprint>.json`` or built (then cached)."""
    started = time.perf_counter()
    path = None
    if data_dir is not None:
        path = data_dir / "facts" / f"store-{_fingerprint()}.json"
        try:
            raw = json.loads(path.read_text("utf-8"))
            facts = [Fact.from_json(item) for item in raw["facts"]]
            return facts, BuildReport(
                len(facts), time.perf_counter() - started, True, path, _counts(facts)
            )
        except FileNotFoundError:
            pass
        except (ValueError, KeyError, TypeError):
            log.warning("fact cache %s is unreadable; rebuilding it", path)
    facts = build_facts()
    if path is not None:
        _write_atomically(path, {"format": CACHE_FORMAT, "facts": [f.to_json() for f in facts]})
    seconds = time.perf_counter() - started
    log.info("fact store built: %d facts in %.2f s", len(facts), seconds)
    return facts, BuildReport(len(facts), seconds, False, path, _counts(facts))


def _counts(facts: list[Fact]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for fact in facts:
        kind = fact.id.partition(":")[0]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _write_atomically(path: Path, data: object) -> None:
    private_folder(path.parent)  # 0700, like every folder of the service's state
    for old in path.parent.glob("store-*.json"):  # an older build is of no further use
        if old != path:
            old.unlink(missing_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, separators=(",", ":"))
    Path(tmp).replace(path)
