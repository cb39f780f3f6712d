"""The export's pure parts: list columns of either shape, splits, rules, terms, settings."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from pydantic import ValidationError

from core.settings import Settings
from learning.dataset.quality import Clip, audio_rule, encode, near_duplicates, row_rule
from learning.dataset.source import Turn, items
from learning.dataset.splits import speaker_of, split_of
from learning.dataset.terms import Coverage, science_terms
from tests.learning.conftest import pcm_of

SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]


def turn(turn_id: str, text: str, user: str = "u", **changes: object) -> Turn:
    fields: dict[str, object] = dict(
        turn_id=turn_id,
        user_id=user,
        region="eu",
        day=date(2026, 12, 1),
        timestamp=datetime(2026, 12, 1, 10, int(turn_id[-1]), tzinfo=UTC),
        transcript=text,
        label=None,
        intent="scientific_query",
        domain="physics",
        avg_logprob=-0.2,
        tags=frozenset(),
        reviewed=False,
        unsure=False,
    )
    return Turn(**{**fields, **changes})  # type: ignore[arg-type]


def test_list_columns_are_read_in_either_shape() -> None:
    assert items({"items": ["stt_error"]}) == items(["stt_error"]) == ["stt_error"]
    assert items({"items": None}) == items(None) == items({}) == []


def test_splits_follow_the_hash_and_the_shares() -> None:
    shares = {"train": 0.8, "dev": 0.1, "test": 0.1}
    speakers = [speaker_of(f"user-{n}", "salt") for n in range(2000)]
    chosen = [split_of(s, shares) for s in speakers]
    assert chosen == [split_of(s, shares) for s in speakers]  # deterministic
    assert 0.76 < chosen.count("train") / 2000 < 0.84 and chosen.count("dev") > 150
    assert speaker_of("user-1", "salt") != speaker_of("user-1", "pepper")
    assert {split_of(s, {"train": 0.0, "dev": 0.0, "test": 1.0}) for s in speakers} == {"test"}
    with pytest.raises(ValidationError, match="add up to 1"):
        Settings(dataset_splits={"train": 0.8, "dev": 0.1, "test": 0.2}, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="train, dev and test"):
        Settings(dataset_splits={"train": 1.0}, _env_file=None)  # type: ignore[call-arg]


def test_row_rules() -> None:
    assert row_rule(SETTINGS, turn("t1", "what is a photon")) is None
    assert row_rule(SETTINGS, turn("t1", "hmm", tags=frozenset({"not_speech"}))) == "not_speech_tag"
    assert row_rule(SETTINGS, turn("t1", "  ")) == "empty_text"
    assert row_rule(SETTINGS, turn("t1", "what", avg_logprob=-1.5)) == "low_confidence"
    assert row_rule(SETTINGS, turn("t1", "what", unsure=True)) == "low_confidence"
    vouched = turn("t1", "what", avg_logprob=-1.5, reviewed=True, label="what is it")
    assert row_rule(SETTINGS, vouched) is None  # a reviewer's label beats STT's doubt
    redacted = turn("t1", "my card is [CREDIT_CARD]")
    assert row_rule(SETTINGS, redacted) is None
    dropping = SETTINGS.model_copy(update={"dataset_redacted_turns": "drop"})
    assert row_rule(dropping, redacted) == "redacted"


def test_audio_rules_on_real_speech_silence_and_clipping() -> None:
    speech = np.frombuffer(pcm_of("complete_no_pause-04.flac"), dtype="<i2")
    assert audio_rule(SETTINGS, Clip(speech, encode(speech))) is None
    silence = np.zeros(32_000, np.int16)
    assert audio_rule(SETTINGS, Clip(silence, encode(silence))) == "speech_ratio"
    short = speech[:4_000]
    assert audio_rule(SETTINGS, Clip(short, encode(short))) == "too_short"
    loud = np.clip(speech.astype(np.int32) * 40, -32_768, 32_767).astype(np.int16)
    assert audio_rule(SETTINGS, Clip(loud, encode(loud))) == "clipping"
    long = np.tile(speech, 20)
    assert audio_rule(SETTINGS, Clip(long, encode(long))) == "too_long"


def test_near_duplicates_are_per_user_and_keep_the_first() -> None:
    turns = [
        turn("t1", "What is the speed of light?", "a"),
        turn("t2", "what is the speed of light", "a"),
        turn("t3", "What is the speed of light?", "b"),
        turn("t4", "What is the speed of sound?", "a"),
    ]
    assert near_duplicates(turns, 0.95) == {"t2"}
    assert near_duplicates(turns, 0.8) == {"t2", "t4"}


def test_terms_are_the_hotwords_and_the_knowledge_base_titles() -> None:
    terms = {t.text: t.domain for t in science_terms(SETTINGS)}
    assert terms["Planck"] == "physics" and terms["mitochondria"] == "biology"
    assert terms["Speed of light"] == "physics" and terms["Ideal gas law"] == "chemistry"
    assert "newton" in terms and "The newton" not in terms
    coverage = Coverage(science_terms(SETTINGS))
    assert coverage.mentioned("So, what's Newton's second law? And the speed of light!") >= {
        "Newton's second law",
        "Speed of light",
        "newton",
    }
    assert "Pi" not in coverage.mentioned("a pipe and a pint")
