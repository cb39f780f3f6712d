import os
import time
from pathlib import Path

import pytest

from capture.keys import LayoutError
from capture.spool import Spool, SpoolError, SpoolRecord
from core.settings import Settings
from tests.utils.capture import spool_record


def record(turn_id: str = "turn-1", user_id: str = "u" * 64) -> SpoolRecord:
    return spool_record(turn_id, user_id=user_id)


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(Settings(data_dir=tmp_path, _env_file=None))  # type: ignore[call-arg]


def test_round_trip(spool: Spool) -> None:
    pcm = bytes(range(256)) * 100
    spool.put(record(), pcm)
    got, audio = spool.get("turn-1")
    assert got == record() and audio == pcm


def test_entries_are_encrypted_private_and_whole(spool: Spool) -> None:
    path = spool.put(record(), b"\x01\x02" * 1000)
    raw = path.read_bytes()
    assert b"4111" not in raw and b"turn_id" not in raw
    assert path.stat().st_mode & 0o777 == 0o600
    assert spool.root.stat().st_mode & 0o777 == 0o700
    assert [p.name for p in spool.root.iterdir()] == ["turn-1.entry"]  # no temporary left


def test_tampering_and_renaming_fail(spool: Spool) -> None:
    path = spool.put(record(), b"\x00\x00")
    path.rename(spool.root / "turn-2.entry")
    with pytest.raises(SpoolError, match="does not decrypt"):
        spool.get("turn-2")
    with pytest.raises(SpoolError, match="no spool entry"):
        spool.get("turn-1")
    with pytest.raises(LayoutError):
        spool.get("../../etc/passwd")


def test_pending_and_erasure(spool: Spool) -> None:
    spool.put(record("old"), b"")
    past = time.time() - 600
    os.utime(spool.root / "old.entry", (past, past))
    spool.put(record("new", user_id="v" * 64), b"")
    assert spool.pending() == ["old", "new"]
    assert spool.pending(older_than_s=300) == ["old"]
    assert [r.turn_id for r in spool.records_of("u" * 64)] == ["old"]
    assert spool.exists("old")
    spool.delete("old")
    assert not spool.exists("old")
    assert spool.pending() == ["new"]
    spool.delete("new")
    spool.delete("new")  # idempotent
    assert spool.pending() == []
