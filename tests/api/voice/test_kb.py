import json
from pathlib import Path

import pytest

from api.voice.kb import KnowledgeBase, KnowledgeBaseError, add_documents


def test_shipped_passages_are_found(tmp_path: Path) -> None:
    kb = KnowledgeBase.load(tmp_path / "kb")
    assert len(kb.passages) >= 40
    assert len({p.id for p in kb.passages}) == len(kb.passages)
    cases = {
        "what is the speed of light": "phys-speed-of-light",
        "at what temperature does water boil": "chem-water-boiling-point",
        "what do mitochondria do": "bio-mitochondria",
        "tell me about the pythagorean theorem": "math-pythagorean-theorem",
    }
    for query, expected in cases.items():
        found = kb.search(query, top_k=2, min_score=0.1)
        assert found and found[0].id == expected, query
        assert found[0].source


def test_unrelated_queries_find_nothing(tmp_path: Path) -> None:
    kb = KnowledgeBase.load(tmp_path / "kb")
    assert kb.search("play some jazz music please", top_k=2, min_score=0.12) == []
    assert kb.search("", top_k=2, min_score=0.0) == []


def test_adding_text_and_jsonl_documents(tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    notes = tmp_path / "Lab Notes.md"
    notes.write_text(
        "# Zorblax\n\nThe zorblax constant of our lab is 42 quibbles.\n\nSecond paragraph."
    )
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        json.dumps(
            {
                "id": "x-1",
                "title": "Flux",
                "text": "Flux capacitors need 1.21 gigawatts.",
                "source": "lab",
            }
        )
        + "\n"
    )
    assert add_documents([notes, extra], kb_dir) == 4
    kb = KnowledgeBase.load(kb_dir)
    found = kb.search("what is the zorblax constant", top_k=1, min_score=0.1)
    assert found[0].id == "lab-notes-2" and found[0].source == "Lab Notes.md"
    assert (
        kb.search("how many gigawatts for a flux capacitor", top_k=1, min_score=0.1)[0].id == "x-1"
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", b'{"id": "x"}\n', "not a passage"),
        ("binary.txt", b"\xff\xfe\x00bad", "not UTF-8"),
        ("empty.txt", b"   \n\n", "no text"),
    ],
)
def test_bad_documents_are_refused_whole(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    good = tmp_path / "good.txt"
    good.write_text("A fine paragraph.")
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(KnowledgeBaseError, match=message):
        add_documents([good, bad], tmp_path / "kb")
    assert not (tmp_path / "kb").exists()  # nothing half-added


def test_missing_document(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="no such file"):
        add_documents([tmp_path / "missing.txt"], tmp_path / "kb")
