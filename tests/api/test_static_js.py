"""The pages' ES modules: served as JavaScript, loaded only as same-origin module files, their
unit tests (``node --test tests/static/``) passing, and their offsets agreeing with Python's.

The review page counts characters in UTF-16 units (the DOM's); the admin API counts code
points (``review/decisions.py`` checks spans against ``len(transcript)``). The agreement test
runs ``api/static/review-offsets.js`` in node on transcripts with emoji, accents and CJK, and
checks its answers with the server's own validation.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from capture.models import Capture
from core.settings import Settings
from review.decisions import Decision, InvalidDecision, _check

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "api" / "static"
JS_TYPES = {"text/javascript", "application/javascript"}
IMPORT = re.compile(r"""(?:^|\n)\s*import\s[^;]*?from\s+["']([^"']+)["']""")
# A reason that names node, for machines without it.
NO_NODE = "node is absent: the page modules' unit tests need Node.js >= 18 (apt-get install nodejs)"
TRANSCRIPTS = [
    "my name is John Smith and I live at 12 Elm Street",
    "I love 🍕, my name is John Smith",
    "👍🏽 great, call 👨‍👩‍👧 Jane Doe at 555 0100",
    "café con José in Zürich",  # precomposed accents
    "cafe\u0301 con Jose\u0301 in Zu\u0308rich",  # combining accents
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 名前は 田中 𠀀 Tanaka 🇯🇵",
]


def node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip(NO_NODE)
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    major = int(version.stdout.strip().lstrip("v").split(".")[0])
    if major < 18:
        pytest.skip(f"{NO_NODE}; found {version.stdout.strip()}")
    return node


class Scripts(HTMLParser):
    """The <script> elements of a page, and its Content-Security-Policy."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline: list[str] = []
        self.csp = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True
        elif tag == "meta" and attributes.get("http-equiv") == "Content-Security-Policy":
            self.csp = attributes.get("content") or ""
        for name in attributes:
            assert not name.startswith("on"), f"inline handler {name}= on <{tag}>"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


def test_pages_load_only_same_origin_modules_served_as_javascript(settings: Settings) -> None:
    client = TestClient(create_app(settings))  # no lifespan: nothing loads models
    reached: set[str] = set()
    for page in ("/", "/admin"):
        response = client.get(page)
        assert response.status_code == 200
        parsed = Scripts()
        parsed.feed(response.text)
        assert "script-src 'self'" in parsed.csp, page
        assert parsed.inline == [], f"inline script on {page}"
        assert parsed.scripts, page
        todo = []
        for script in parsed.scripts:
            assert script.get("type") == "module", (page, script)
            src = script.get("src") or ""
            assert src.startswith("/static/"), (page, script)
            todo.append(src)
        while todo:  # every module the page imports, transitively
            path = todo.pop()
            if path in reached:
                continue
            reached.add(path)
            module = client.get(path)
            assert module.status_code == 200, path
            media_type = module.headers["content-type"].split(";")[0].strip()
            assert media_type in JS_TYPES, (path, module.headers["content-type"])
            for target in IMPORT.findall(module.text):
                assert target.startswith("./") and target.endswith(".js"), (path, target)
                todo.append("/static/" + target[2:])
    worklet = client.get("/static/pcm-worklet.js")  # loaded by audioWorklet.addModule
    assert worklet.headers["content-type"].split(";")[0] in JS_TYPES
    # No module is left behind unused, and none is missing.
    on_disk = {f"/static/{p.name}" for p in STATIC.glob("*.js")} - {"/static/pcm-worklet.js"}
    assert reached == on_disk


def test_node_unit_tests_of_the_page_modules_pass() -> None:
    node = node_or_skip()
    result = subprocess.run(
        [node, "--test", "tests/static/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-6000:]
    passed = re.search(r"^# pass (\d+)$", report, re.MULTILINE)
    assert passed and int(passed.group(1)) >= 20, report[-2000:]
    assert re.search(r"^# fail 0$", report, re.MULTILINE), report[-2000:]


AGREE = r"""
import { readFileSync } from "node:fs";
const offsets = await import(process.argv[1]);
const cases = JSON.parse(readFileSync(0, "utf8"));
const out = cases.map(({ text, words, spans, grid }) => ({
  toServer: [...text.matchAll(/\S+/g)].map((word) => {
    const selected = { start: word.index, end: word.index + word[0].length }; // UTF-16 units
    return offsets.spansToServer([selected], text)[0];
  }),
  fromServer: offsets.spansFromServer(spans, text).map((s) => text.slice(s.start, s.end)),
  length: offsets.codePointLength(text),
  valid: grid.map(([start, end]) => offsets.isValidSpan({ start, end }, text)),
}));
process.stdout.write(JSON.stringify(out));
"""


def server_accepts(text: str, start: int, end: int) -> bool:
    """Whether the admin API takes this redaction span of ``text`` (review/decisions.py)."""
    try:
        decision = Decision.model_validate(
            {"decision": "redact", "spans": [{"start": start, "end": end}]}
        )
        _check(decision, Capture(transcript=text))
    except (ValidationError, InvalidDecision):
        return False
    return True


def run_offsets(node: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = subprocess.run(
        [node, "--input-type=module", "-e", AGREE, (STATIC / "review-offsets.js").as_uri()],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answers: list[dict[str, Any]] = json.loads(result.stdout)
    return answers


def test_offsets_agree_with_the_servers_span_checks() -> None:
    node = node_or_skip()
    cases: list[dict[str, Any]] = []
    for text in TRANSCRIPTS:
        found = list(re.finditer(r"\S+", text))
        words = [match.group() for match in found]
        spans = [{"start": match.start(), "end": match.end()} for match in found]
        grid = [[a, b] for a in range(-1, len(text) + 2) for b in range(-1, len(text) + 3)]
        cases.append({"text": text, "words": words, "spans": spans, "grid": grid})
    answers = run_offsets(node, cases)
    assert any(len(c["text"]) != len(c["text"].encode("utf-16-le")) // 2 for c in cases)
    for case, answer in zip(cases, answers, strict=True):
        text = case["text"]
        assert answer["length"] == len(text)
        # A selection of each word, in the DOM's units, becomes the span Python reads as it.
        for word, span in zip(case["words"], answer["toServer"], strict=True):
            assert text[span["start"] : span["end"]] == word, (text, word, span)
            assert server_accepts(text, span["start"], span["end"]), (text, span)
        # Each span the server sends marks, in the page, the words Python's slice gives.
        assert answer["fromServer"] == case["words"], text
        # The page's check and the server's accept exactly the same spans.
        expected = [server_accepts(text, a, b) for a, b in case["grid"]]
        disagree = [
            (a, b, js)
            for (a, b), js, py in zip(case["grid"], answer["valid"], expected, strict=True)
            if js != py
        ]
        assert disagree == [], (text, disagree[:5])
