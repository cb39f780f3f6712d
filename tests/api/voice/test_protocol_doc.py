"""docs/protocol.md's server events and docs/server-events.schema.json match the models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from api.voice import protocol_doc
from api.voice.server_events import TurnEndEvent

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_the_committed_docs_are_generated_from_the_current_models(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Fails when a model changes and ``python -m api.voice.protocol_doc`` was not run."""
    assert protocol_doc.main(["--check", "--docs", str(DOCS)]) == 0, capsys.readouterr().out


def test_every_event_has_a_row_and_a_schema() -> None:
    events = protocol_doc.event_models()
    assert {model.model_fields["type"].default for model in events} == {
        "ready",
        "partial_transcript",
        "transcript",
        "nlu",
        "response_delta",
        "audio_start",
        "audio_end",
        "turn_end",
        "interrupted",
        "error",
    }
    table = protocol_doc.table()
    for model in events:
        assert f"| `{model.model_fields['type'].default}` |" in table
    schema = json.loads(protocol_doc.schema())
    assert schema["discriminator"]["propertyName"] == "type"
    assert len(schema["oneOf"]) == len(events)
    assert "first_audio_ms" in protocol_doc.table()  # nested models are described too


def test_check_finds_a_stale_doc_and_writing_fixes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    # A model changed (here: a field's description) without the docs being regenerated.
    field = TurnEndEvent.model_fields["response"]
    monkeypatch.setattr(field, "description", "the whole answer, as text")
    assert protocol_doc.main(["--check", "--docs", str(docs)]) == 1
    assert protocol_doc.main(["--docs", str(docs)]) == 0
    assert "the whole answer, as text" in (docs / "protocol.md").read_text()
    assert protocol_doc.main(["--check", "--docs", str(docs)]) == 0
    # The hand-written parts around the table are kept.
    assert (docs / "protocol.md").read_text().split(protocol_doc.BEGIN)[0] == (
        DOCS / "protocol.md"
    ).read_text().split(protocol_doc.BEGIN)[0]


def test_a_doc_without_the_markers_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "protocol.md").write_text("# no markers\n")
    assert protocol_doc.main(["--check", "--docs", str(tmp_path)]) == 2
