"""The evaluation's matching rule, figures, data loading, and the offline stock baseline."""

import socket
from pathlib import Path

import pytest

from redaction.evaluate import Counts, LabelledSpan, load_dataset, score, stock_presidio


def test_an_overlapping_span_of_the_same_type_is_a_match() -> None:
    gold = [[LabelledSpan("CREDIT_CARD", 10, 29), LabelledSpan("PERSON", 40, 50)]]
    found = [
        [
            LabelledSpan("CREDIT_CARD", 12, 35),
            LabelledSpan("US_SSN", 40, 50),
            LabelledSpan("PERSON", 60, 70),
        ]
    ]
    counts = score(gold, found)
    assert (counts["CREDIT_CARD"].tp, counts["CREDIT_CARD"].fp) == (1, 0)
    assert (counts["PERSON"].tp, counts["PERSON"].fp, counts["PERSON"].fn) == (0, 1, 1)
    assert counts["US_SSN"].fp == 1


def test_one_prediction_matches_one_labelled_span() -> None:
    gold = [[LabelledSpan("PHONE_NUMBER", 0, 10), LabelledSpan("PHONE_NUMBER", 11, 21)]]
    counts = score(gold, [[LabelledSpan("PHONE_NUMBER", 0, 21)]])
    assert (counts["PHONE_NUMBER"].tp, counts["PHONE_NUMBER"].fn) == (1, 1)


def test_precision_recall_f2() -> None:
    figures = Counts(tp=6, fp=2, fn=4).figures()
    assert (figures["precision"], figures["recall"]) == (0.75, 0.6)
    assert figures["f2"] == round(5 * 0.75 * 0.6 / (4 * 0.75 + 0.6), 3)
    assert Counts().figures()["f2"] == 1.0  # nothing to find, nothing found


def test_a_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text('{"text": "a", "entities": []}\n\n{"text": "b"}\n')
    with pytest.raises(ValueError, match=r"set.jsonl:3"):
        load_dataset(path)


def test_stock_presidio_runs_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    predict = stock_presidio()
    [found] = predict(["mail jane.doe@example.co.uk or call 415-555-0132"])
    assert {span.type for span in found} >= {"EMAIL_ADDRESS", "PHONE_NUMBER"}
