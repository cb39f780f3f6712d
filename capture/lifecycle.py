"""Bucket lifecycle rules for captures, and what they cost per month.

Prices are S3 list prices for us-east-1 (USD, 2026) and are assumptions to adjust: the point
is the comparison between options, which holds across regions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capture.keys import PREFIX

PRICE_GB_MONTH = {"STANDARD": 0.023, "STANDARD_IA": 0.0125, "GLACIER": 0.0036}
PRICE_TRANSITION_PER_1000 = {"STANDARD_IA": 0.01, "GLACIER": 0.03}
MIN_DAYS = {"STANDARD_IA": 30, "GLACIER": 90}  # storage billed at least this long
IA_MIN_OBJECT_BYTES = 128 * 1024  # smaller objects are not moved to IA by default


def lifecycle_rules(
    retention_days: int,
    ia_after_days: int = 30,
    glacier_after_days: int | None = None,
    noncurrent_days: int = 1,
) -> list[dict[str, Any]]:
    """The rules of the capture prefix.

    The first moves objects to STANDARD_IA, optionally GLACIER, then expires them; on a
    versioned bucket it also expires versions ``noncurrent_days`` after they stop being
    current (an overwrite, or an expiry that only added a delete marker). The second removes
    delete markers left with no version behind them (S3 allows that action only in a rule of
    its own, without days).
    """
    transitions: list[dict[str, Any]] = []
    if ia_after_days < retention_days:
        transitions.append({"Days": ia_after_days, "StorageClass": "STANDARD_IA"})
    if glacier_after_days is not None and glacier_after_days < retention_days:
        transitions.append({"Days": glacier_after_days, "StorageClass": "GLACIER"})
    prefix = {"Prefix": f"{PREFIX}/"}
    rule: dict[str, Any] = {
        "ID": "voice-captures-retention",
        "Filter": prefix,
        "Status": "Enabled",
        "Expiration": {"Days": retention_days},
        "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent_days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }
    if transitions:
        rule["Transitions"] = transitions
    markers = {
        "ID": "voice-captures-delete-markers",
        "Filter": prefix,
        "Status": "Enabled",
        "Expiration": {"ExpiredObjectDeleteMarker": True},
    }
    return [rule, markers]


@dataclass(frozen=True)
class Estimate:
    """Steady-state monthly cost of keeping captures, with and without the rules (USD)."""

    with_rules: float
    standard_only: float
    warnings: list[str]


def estimate(
    rules: list[dict[str, Any]], turns_per_month: int, audio_kb: float, small_kb: float = 2.0
) -> Estimate:
    """Monthly cost once the bucket holds a full retention period of captures.

    Each turn stores one FLAC of ``audio_kb`` and two small objects (metadata, transcript)
    of ``small_kb`` together; objects under 128 KB are not transitioned by default.
    """
    rule = rules[0]
    retention = int(rule["Expiration"]["Days"])
    stages = [(0, "STANDARD")]
    stages += [(t["Days"], t["StorageClass"]) for t in rule.get("Transitions", [])]
    audio_gb = turns_per_month * audio_kb / 1e6
    small_gb = turns_per_month * small_kb / 1e6
    movable = audio_kb * 1024 >= IA_MIN_OBJECT_BYTES
    standard = PRICE_GB_MONTH["STANDARD"]
    warnings: list[str] = []
    cost = 0.0
    for index, (start, storage_class) in enumerate(stages):
        end = stages[index + 1][0] if index + 1 < len(stages) else retention
        months = (end - start) / 30
        cost += small_gb * months * standard  # metadata and transcripts stay in STANDARD
        if storage_class == "STANDARD" or not movable:
            cost += audio_gb * months * standard
            continue
        billed = max(months, MIN_DAYS[storage_class] / 30)
        cost += audio_gb * billed * PRICE_GB_MONTH[storage_class]
        cost += turns_per_month / 1000 * PRICE_TRANSITION_PER_1000[storage_class]
        if end - start < MIN_DAYS[storage_class]:
            warnings.append(
                f"{storage_class} bills at least {MIN_DAYS[storage_class]} days but objects "
                f"leave it after {end - start}: early deletion is charged"
            )
    if len(stages) > 1 and not movable:
        warnings.append(
            f"audio objects of {audio_kb:g} KB are under 128 KB: S3 does not transition them "
            "by default, so the rules only expire"
        )
    standard_only = (audio_gb + small_gb) * retention / 30 * standard
    if len(stages) > 1 and movable and cost >= standard_only:
        warnings.append(
            "for objects this small the transition requests cost more than the cheaper "
            "storage saves: consider expiring only (--ia-after at or beyond the retention)"
        )
    return Estimate(round(cost, 2), round(standard_only, 2), warnings)
