"""Write .env.example from core/settings.py: every setting, its default and its meaning.

The meaning is the field's comment in core/settings.py: the comment at the end of its line,
after the comment lines just above it (a comment block after a blank line starts with a
section title). `--check` exits 1 when .env.example is not what this would write, or when a
setting has no comment (tests/core/test_env_example.py runs it).

    python scripts/make_env_example.py          # write .env.example
    python scripts/make_env_example.py --check  # compare
"""

from __future__ import annotations

import ast
import io
import json
import sys
import tokenize
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "core" / "settings.py"
TARGET = ROOT / ".env.example"
HEADER = """\
# voice-service settings: every VOICE_* variable, its default and what it means.
# Generated from core/settings.py by scripts/make_env_example.py: do not edit by hand.
# Copy to .env (never commit it) and uncomment what you change. Lists and maps are JSON.
"""


def comments(source: str) -> dict[int, str]:
    """Line number -> the comment on that line (without ``#``)."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string.lstrip("#").strip()
    return found


def fields(source: str) -> list[tuple[str, str | None, str]]:
    """(name, section title or None, meaning) of each field of ``Settings``, in order."""
    tree = ast.parse(source)
    settings = next(
        node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Settings"
    )
    lines = source.splitlines()
    notes = comments(source)
    found = []
    for node in settings.body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        if node.target.id == "model_config":
            continue
        block: list[str] = []
        row = node.lineno - 1  # the line above, 1-based
        while row >= 1 and lines[row - 1].strip().startswith("#"):
            block.insert(0, notes[row])
            row -= 1
        section = None
        if block and row >= 1 and not lines[row - 1].strip():
            section, block = block[0], block[1:]
        inline = notes.get(node.lineno, "")
        meaning = " ".join(part for part in (*block, inline) if part)
        found.append((node.target.id, section, meaning))
    return found


def env_value(value: Any) -> str:
    """A default as the environment variable would spell it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=str)
    return str(value)


def render() -> tuple[str, list[str]]:
    """The file's text, and the settings that have no meaning written."""
    sys.path.insert(0, str(ROOT))
    from core.settings import Settings

    defaults = Settings.model_construct()
    out = [HEADER]
    missing = []
    for name, section, meaning in fields(SOURCE.read_text("utf-8")):
        if name not in Settings.model_fields:
            continue
        if section:
            out.append(f"\n# ---- {section} ----\n")
        if not meaning:
            missing.append(name)
        value = env_value(getattr(defaults, name))
        out.append(f"\n# {meaning}\n# VOICE_{name.upper()}={value}\n")
    absent = set(Settings.model_fields) - {name for name, _, _ in fields(SOURCE.read_text())}
    missing += sorted(absent)
    return "".join(out), missing


def main(argv: list[str]) -> int:
    text, missing = render()
    if missing:
        print(f"settings without a comment in core/settings.py: {', '.join(missing)}")
        return 1
    if "--check" in argv:
        current = TARGET.read_text("utf-8") if TARGET.exists() else ""
        if current != text:
            print(".env.example is out of date: run python scripts/make_env_example.py")
            return 1
        return 0
    TARGET.write_text(text, "utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
