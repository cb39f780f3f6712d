""".env.example lists every setting with its meaning and default, as core/settings.py has them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / ".env.example"
LINE = re.compile(r"^# (VOICE_[A-Z0-9_]+)=(.*)$")


def example() -> dict[str, tuple[str, str]]:
    """VOICE_NAME -> (default as written, the meaning on the comment line above)."""
    lines = EXAMPLE.read_text("utf-8").splitlines()
    found = {}
    for index, line in enumerate(lines):
        match = LINE.match(line)
        if match:
            assert match.group(1) not in found, f"{match.group(1)} twice"
            found[match.group(1)] = (match.group(2), lines[index - 1].removeprefix("# "))
    return found


def test_env_example_is_what_the_script_writes_from_settings() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/make_env_example.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_setting_is_there_once_with_a_meaning() -> None:
    listed = example()
    assert set(listed) == {f"VOICE_{name.upper()}" for name in Settings.model_fields}
    for name, (_, meaning) in listed.items():
        assert meaning and not meaning.startswith(("VOICE_", "----")), name


def test_the_defaults_written_read_back_as_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uncommented as they are, the lines change nothing: each default is spelled right."""
    for name in list(os.environ):
        if name.startswith("VOICE_"):
            monkeypatch.delenv(name)
    env_file = tmp_path / ".env"
    values = {name: value for name, (value, _) in example().items() if value != ""}
    env_file.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    from_file = Settings(_env_file=env_file)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_file.model_dump() == defaults.model_dump()
    assert len(values) > 60  # most settings have a value, not just None
