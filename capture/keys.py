"""The fixed object layout of captured turns, and bucket names per region.

``raw/audio/voice_captures/YYYY-MM-DD/{turn_id}/audio.flac`` (and ``metadata.json``,
``transcript.txt``), where the turn's id is the ``turn_id`` of its metadata. Ids are
validated so no key can be built from arbitrary user input.
"""

from __future__ import annotations

import re
from datetime import date

PREFIX = "raw/audio/voice_captures"
FILES = ("audio.flac", "metadata.json", "transcript.txt")
REGIONS = ("eu", "us")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class LayoutError(ValueError):
    """An id, day, file or region that has no place in the layout."""


def check_id(value: str) -> str:
    """A turn id: letters, digits, ``-`` and ``_`` only, at most 64 characters."""
    if not _ID.match(value):
        raise LayoutError(f"invalid id {value[:80]!r}")
    return value


def turn_prefix(day: date, turn_id: str) -> str:
    """``raw/audio/voice_captures/YYYY-MM-DD/{turn_id}/``."""
    return f"{PREFIX}/{day.isoformat()}/{check_id(turn_id)}/"


def object_key(day: date, turn_id: str, name: str) -> str:
    """The key of one of a turn's three objects."""
    if name not in FILES:
        raise LayoutError(f"unknown capture file {name!r}")
    return turn_prefix(day, turn_id) + name


def parse_key(key: str) -> tuple[date, str, str]:
    """The day, turn id and file name of a capture key."""
    parts = key.split("/")
    if len(parts) != 6 or "/".join(parts[:3]) != PREFIX or not _DAY.match(parts[3]):
        raise LayoutError(f"not a capture key: {key[:200]!r}")
    if parts[5] not in FILES:
        raise LayoutError(f"unknown capture file in {key[:200]!r}")
    return date.fromisoformat(parts[3]), check_id(parts[4]), parts[5]


def bucket_name(template: str, region: str) -> str:
    """``voice-captures-{region}`` by default; regions are ``eu`` and ``us``."""
    if region not in REGIONS:
        raise LayoutError(f"unknown region {region!r}; choose one of {', '.join(REGIONS)}")
    return template.format(region=region)
