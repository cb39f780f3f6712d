"""Searching everything the service keeps for what an erasure should have removed."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import MetaData, select

from capture.store_local import LocalStore
from core.db import get_engine
from core.settings import Settings


def found_in(data: bytes, needles: Iterable[str]) -> list[str]:
    """The needles whose UTF-8 bytes occur in ``data``."""
    return [n for n in needles if n.encode() in data]


def files_holding(folder: Path, needles: Iterable[str]) -> dict[str, list[str]]:
    """Every file under ``folder`` read byte for byte (``grep -a -r``): path → needles in it."""
    wanted = list(needles)
    hits = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            found = found_in(path.read_bytes(), wanted)
            if found:
                hits[path.relative_to(folder).as_posix()] = found
    return hits


def rows_holding(settings: Settings, needles: Iterable[str]) -> list[tuple[str, dict[str, object]]]:
    """Every row of every table, as text: (table, row) of the rows holding a needle."""
    wanted = list(needles)
    engine = get_engine(settings)
    tables = MetaData()
    tables.reflect(engine)
    hits = []
    with engine.connect() as connection:
        for table in tables.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                if found_in(repr(dict(row)).encode(), wanted):
                    hits.append((table.name, dict(row)))
    return hits


def objects_holding(settings: Settings, needles: Iterable[str]) -> dict[str, list[str]]:
    """Every object of the local store, staging included, decrypted: bucket/key → needles."""
    wanted = list(needles)
    hits = {}
    root = settings.data_dir / "objects"
    for bucket in sorted(p.name for p in root.iterdir()) if root.is_dir() else []:
        store = LocalStore(settings, bucket)
        for key in store.list(""):
            found = found_in(store.get(key), wanted)
            if found:
                hits[f"{bucket}/{key}"] = found
    return hits
