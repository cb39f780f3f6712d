"""Reports in the object store: ``reports/evaluation/{id}/report.html`` and ``report.json``.

They go to the bucket of ``Settings.default_region`` (they hold figures and model names, no
user data; the capture lifecycle rules cover ``raw/`` only, so reports are kept). Ids are
checked, so no key is built from arbitrary input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from capture.store import ObjectStore, open_store
from core.settings import Settings
from learning.evaluation.report import render_html, to_json

PREFIX = "reports/evaluation/"
FILES = {"report.html": "text/html; charset=utf-8", "report.json": "application/json"}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class BadReportId(ValueError):
    """Not a report id."""


def check_id(report_id: str) -> str:
    """A report id: letters, digits, ``-`` and ``_``, at most 64."""
    if not _ID.match(report_id):
        raise BadReportId(report_id[:80])
    return report_id


def _store(settings: Settings) -> ObjectStore:
    return open_store(settings, settings.default_region)


def publish(settings: Settings, report_id: str, document: Mapping[str, Any]) -> list[str]:
    """Store the report under ``report_id`` (a rerun replaces it); returns the keys."""
    store = _store(settings)
    base = PREFIX + check_id(report_id) + "/"
    body = {
        "report.json": to_json(document).encode(),
        "report.html": render_html(document).encode(),
    }
    for name, data in body.items():
        store.put(base + name, data, content_type=FILES[name])
    return [base + name for name in body]


def list_reports(settings: Settings) -> list[dict[str, Any]]:
    """Stored reports, newest id first, with the files each has."""
    reports: dict[str, list[str]] = {}
    for key in _store(settings).list(PREFIX):
        parts = key[len(PREFIX) :].split("/")
        if len(parts) == 2 and parts[1] in FILES and _ID.match(parts[0]):
            reports.setdefault(parts[0], []).append(parts[1])
    return [{"id": rid, "files": sorted(reports[rid])} for rid in sorted(reports, reverse=True)]


def read_report(settings: Settings, report_id: str, name: str) -> tuple[bytes, str]:
    """A report file's bytes and content type (``ObjectNotFound`` when absent)."""
    if name not in FILES:
        raise BadReportId(name)
    return _store(settings).get(PREFIX + check_id(report_id) + "/" + name), FILES[name]
