from datetime import date

import pytest

from capture.keys import LayoutError, bucket_name, object_key, parse_key, turn_prefix


def test_layout() -> None:
    key = object_key(date(2026, 11, 26), "a1b2c3", "audio.flac")
    assert key == "raw/audio/voice_captures/2026-11-26/a1b2c3/audio.flac"
    assert parse_key(key) == (date(2026, 11, 26), "a1b2c3", "audio.flac")
    assert turn_prefix(date(2026, 1, 2), "x") == "raw/audio/voice_captures/2026-01-02/x/"
    assert bucket_name("voice-captures-{region}", "eu") == "voice-captures-eu"


@pytest.mark.parametrize("turn_id", ["", "../etc", "a/b", "a" * 65, "x y", "é"])
def test_ids_that_could_escape_are_refused(turn_id: str) -> None:
    with pytest.raises(LayoutError):
        object_key(date(2026, 11, 26), turn_id, "audio.flac")


@pytest.mark.parametrize(
    "key",
    [
        "raw/audio/voice_captures/2026-11-26/a/other.txt",
        "raw/audio/voice_captures/26-11-2026/a/audio.flac",
        "raw/audio/elsewhere/2026-11-26/a/audio.flac",
        "raw/audio/voice_captures/2026-11-26/a/b/audio.flac",
    ],
)
def test_foreign_keys_do_not_parse(key: str) -> None:
    with pytest.raises(LayoutError):
        parse_key(key)


def test_unknown_region_and_file() -> None:
    with pytest.raises(LayoutError):
        bucket_name("voice-captures-{region}", "mars")
    with pytest.raises(LayoutError):
        object_key(date(2026, 11, 26), "a", "secrets.txt")
