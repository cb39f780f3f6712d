"""The report as one self-contained HTML file: tables, and PNG plots embedded as data URIs.

No script at all, and one inline style block whose hash the service's Content-Security-Policy
allows (``STYLE_HASH``), so the page renders the same when served or saved and opened.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;color:#1b1f24;"
    "padding:0 1rem}h1{font-size:1.6rem}h2{border-bottom:1px solid #ccd;margin-top:2.2rem}"
    "table{border-collapse:collapse;margin:.6rem 0;font-size:13px}th,td{border:1px solid #ccd;"
    "padding:3px 8px;text-align:left;vertical-align:top}th{background:#eef1f6}"
    "figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #dde}"
    "figcaption,.models,.note{color:#555;font-size:12px}.met{color:#0a6b2c}.missed{color:#b3261e}"
    "code{font-size:12px}"
)
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()


class Markup(str):
    """Text that is already HTML."""


def h(text: object) -> str:
    """Escaped text."""
    return escape("" if text is None else str(text))


def fmt(value: Any, percent: bool = False) -> Markup:
    """A figure as shown (escaped): a dash for none, a rate as a percentage."""
    if value is None:
        return Markup("–")
    if percent and isinstance(value, int | float):
        return Markup(f"{100 * value:.1f} %")
    return Markup(h(value))


def interval(bounds: Sequence[float] | None) -> Markup:
    """A 95 % interval as ``2.61 – 3.40`` (a dash for none)."""
    if not bounds:
        return Markup("–")
    return Markup(f"{bounds[0]:.2f} – {bounds[1]:.2f}")


def table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An HTML table (cells are escaped unless already markup: ``Markup``)."""
    body = "".join(
        "<tr>" + "".join(f"<td>{c if isinstance(c, Markup) else h(c)}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return "<table><tr>" + "".join(f"<th>{h(c)}</th>" for c in head) + f"</tr>{body}</table>"


def models_line(models: Mapping[str, Any]) -> str:
    """The line naming a figure's models: ``Models: stt = ..., llm = ...``."""
    parts = []
    for kind, value in models.items():
        if isinstance(value, Mapping):  # version -> turn count
            shown = ", ".join(f"{name} ({count})" for name, count in value.items()) or "none"
        elif isinstance(value, list | tuple):
            shown = ", ".join(str(v) for v in value) or "none"
        else:
            shown = str(value)
        parts.append(f"{h(kind)} = <code>{h(shown)}</code>")
    return f'<p class="models">Models: {"; ".join(parts)}</p>'


def figure(png: bytes | None, caption: str, alt: str) -> str:
    """An embedded plot; a note instead when there was nothing to plot."""
    if png is None:
        return f'<p class="note">No data for: {h(caption)}.</p>'
    data = base64.b64encode(png).decode()
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{h(alt)}">'
        f"<figcaption>{h(caption)}</figcaption></figure>"
    )


def slo_rows(check: Mapping[str, Mapping[str, Any]]) -> list[list[Any]]:
    """Rows of an objectives table, met or missed coloured."""
    rows = []
    for name, item in check.items():
        met = item["met"]
        verdict = (
            Markup('<span class="met">met</span>')
            if met
            else Markup('<span class="missed">missed</span>')
            if met is False
            else "no data"
        )
        rows.append(
            [name.upper(), f"< {item['target_ms']:g} ms", fmt(item["measured_ms"]), verdict]
        )
    return rows


def page(title: str, generated: str, models: Mapping[str, Any], sections: Iterable[str]) -> str:
    """The whole document."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{h(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{h(title)}</h1><p>Generated {h(generated)}.</p>{models_line(models)}"
        + "".join(sections)
        + "</body></html>"
    )
