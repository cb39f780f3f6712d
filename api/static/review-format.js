/* Words and figures the review page shows: pure functions, no DOM. */

export const REASONS = {
  pii_review: "Personal data check",
  thumbs_down: "Thumbs down",
  low_confidence: "Low STT confidence",
};

export const DONE_WORDS = {
  approve: "approved",
  correct: "corrected",
  redact: "redacted",
  reject: "rejected",
};

/** A server timestamp as a date; one without a zone (SQLite's) is UTC. */
export function parseDate(iso) {
  const text = String(iso || "");
  const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(text) || !text.includes("T");
  return new Date(zoned ? text : `${text}Z`);
}

export function formatDate(iso) {
  if (!iso) return "";
  const date = parseDate(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Seconds as m:ss.s (0 for what is not a finite, non-negative number). */
export function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds - minutes * 60;
  return `${minutes}:${rest.toFixed(1).padStart(4, "0")}`;
}

/** An identifier in words: "thumbs_down" -> "thumbs down". */
export function words(value) {
  return String(value || "").replace(/_/g, " ");
}

export function batchLabel(batch) {
  const date = parseDate(batch.created_at);
  const day = Number.isNaN(date.getTime())
    ? String(batch.created_at || "")
    : date.toLocaleDateString(undefined, { dateStyle: "medium" });
  return `Batch ${batch.id} · ${day} · ${batch.done}/${batch.total} done`;
}

export function progressText(done, total) {
  return total > 0 && done >= total ? `${done} of ${total} reviewed — complete` : `${done} of ${total} reviewed`;
}

/**
 * The index of the item to show after deciding item ``afterId``: the next pending one, else
 * the first pending one, with ``pending: true``; else the decided item (or, if it is gone,
 * the one that took its place, or the last) with ``pending: false``. Null for no items.
 */
export function nextPending(items, afterId) {
  if (items.length === 0) return null;
  const after = items.findIndex((i) => i.id > afterId && i.status === "pending");
  const index = after >= 0 ? after : items.findIndex((i) => i.status === "pending");
  if (index >= 0) return { index, pending: true };
  const here = items.findIndex((i) => i.id >= afterId);
  return { index: here >= 0 ? here : items.length - 1, pending: false };
}
