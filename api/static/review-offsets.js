/*
 * Character offsets of the review page's transcript, as pure functions of strings.
 *
 * Two ways of counting meet here. The admin API counts code points: a span is Python's
 * ``text[start:end]``, and review/decisions.py accepts a redaction span only when
 * ``0 <= start < end <= len(transcript)``. The DOM counts UTF-16 code units: a character
 * outside the Basic Multilingual Plane (an emoji, some CJK) is two of them. The page works
 * in code units (text nodes, selections, ranges) and converts at the API's edge:
 * ``spansFromServer`` on the way in, ``spansToServer`` on the way out. Accented letters are
 * one unit per code point either way (a decomposed "é" is two of each), so only surrogate
 * pairs shift offsets.
 */

const SPAN_TYPE = /^[A-Z_]{1,32}$/; // review/decisions.py's Span.type

function isHigh(code) {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLow(code) {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** True where ``unit`` falls between the two halves of a surrogate pair. */
function splitsPair(text, unit) {
  return (
    unit > 0 &&
    unit < text.length &&
    isHigh(text.charCodeAt(unit - 1)) &&
    isLow(text.charCodeAt(unit))
  );
}

/** Python's ``len(text)``: the number of code points. */
export function codePointLength(text) {
  let count = 0;
  for (let unit = 0; unit < text.length; unit++) {
    if (!splitsPair(text, unit + 1)) count += 1;
  }
  return count;
}

/**
 * The code point offset of UTF-16 offset ``unit`` (clamped to the text). One inside a
 * surrogate pair moves to the pair's start, or, for the ``end`` of a range, past it, so a
 * range never cuts a character.
 */
export function toCodePoints(text, unit, { end = false } = {}) {
  let at = Math.max(0, Math.min(unit, text.length));
  if (splitsPair(text, at)) at += end ? 1 : -1;
  let count = 0;
  for (let i = 0; i < at; i++) {
    if (!splitsPair(text, i + 1)) count += 1;
  }
  return count;
}

/** The UTF-16 offset of code point offset ``point`` (clamped to the text). */
export function toUnits(text, point) {
  let unit = 0;
  for (let count = 0; count < point && unit < text.length; count++) {
    unit += splitsPair(text, unit + 1) ? 2 : 1;
  }
  return unit;
}

/**
 * Whether review/decisions.py accepts ``span`` (code points) for a redaction of ``text``:
 * whole numbers with ``0 <= start < end <= len(text)`` and, when given, a type of 1 to 32
 * capitals or underscores.
 */
export function isValidSpan(span, text) {
  if (!span || !Number.isInteger(span.start) || !Number.isInteger(span.end)) return false;
  if (span.type !== undefined && !(typeof span.type === "string" && SPAN_TYPE.test(span.type))) {
    return false;
  }
  return span.start >= 0 && span.start < span.end && span.end <= codePointLength(text);
}

/**
 * The spans (code points, as the API sends them) that fit ``text``, in UTF-16 units, in
 * their order; the others are left out.
 */
export function unitSpans(spans, text) {
  const length = codePointLength(text);
  return (spans || [])
    .filter((s) => s && Number.isInteger(s.start) && Number.isInteger(s.end))
    .filter((s) => s.start >= 0 && s.end <= length && s.start < s.end)
    .map((s) => ({ ...s, start: toUnits(text, s.start), end: toUnits(text, s.end) }));
}

/**
 * The flagged spans of an item (code points) to show in ``text``: those that fit, sorted,
 * without overlaps (the longer of two that start together wins), in UTF-16 units.
 */
export function spansFromServer(spans, text) {
  const sorted = unitSpans(spans, text).sort((a, b) => a.start - b.start || b.end - a.end);
  const out = [];
  for (const span of sorted) {
    if (out.length && span.start < out[out.length - 1].end) continue;
    out.push(span);
  }
  return out;
}

/**
 * The spans to send for a redaction of ``text``: ``ranges`` (UTF-16 units) in code points.
 * A range that is exactly one of the ``flagged`` spans (units) keeps its type, so it becomes
 * "[PERSON]" rather than "[REDACTED]".
 */
export function spansToServer(ranges, text, flagged = []) {
  return ranges.map((range) => {
    const same = flagged.find((f) => f.start === range.start && f.end === range.end);
    const span = {
      start: toCodePoints(text, range.start),
      end: toCodePoints(text, range.end, { end: true }),
    };
    return same && SPAN_TYPE.test(same.type || "") ? { ...span, type: same.type } : span;
  });
}

/** Sorted ranges with overlaps and neighbours merged (new objects: the input is kept). */
export function merged(ranges) {
  const sorted = ranges.map((r) => ({ start: r.start, end: r.end })).sort((a, b) => a.start - b.start);
  const out = [];
  for (const range of sorted) {
    const last = out[out.length - 1];
    if (last && range.start <= last.end) last.end = Math.max(last.end, range.end);
    else out.push(range);
  }
  return out;
}

/** ``start``..``end`` of ``text`` without whitespace at either edge; null when nothing is left. */
export function trimmed(text, start, end) {
  while (start < end && /\s/.test(text[start])) start += 1;
  while (end > start && /\s/.test(text[end - 1])) end -= 1;
  return start < end ? { start, end } : null;
}

/**
 * Where offsets ``start`` and ``end`` of a text split into pieces of ``lengths`` fall:
 * ``{start: [piece, offset], end: [piece, offset]}``, a boundary between two pieces counting
 * as the end of the first; null when ``end`` is past the text.
 */
export function locate(lengths, start, end) {
  let at = 0;
  let first = null;
  for (let piece = 0; piece < lengths.length; piece++) {
    const length = lengths[piece];
    if (!first && start <= at + length) first = [piece, start - at];
    if (first && end <= at + length) return { start: first, end: [piece, end - at] };
    at += length;
  }
  return null;
}
