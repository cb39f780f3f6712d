"""The redaction engine, loaded once for the package's tests."""

from __future__ import annotations

import pytest

from redaction.engine import Redactor, default_redactor


@pytest.fixture(scope="session")
def redactor() -> Redactor:
    return default_redactor()
