/*
 * The review page's transcript: a contenteditable element whose flagged spans are <mark>
 * elements, with selections and marks to redact.
 *
 * It has two modes. Viewing (the default): the text can be selected and the single-key
 * shortcuts work, so "select words, press R" redacts them. Editing (a click on the text, E,
 * Enter or F2): contenteditable, the keys type, Esc goes back to viewing.
 *
 * Offsets here are UTF-16 code units of the editor's text, which is exactly the item's
 * transcript until the reviewer edits it; review-offsets.js converts them to and from the
 * API's code points.
 */

import { element } from "./common.js";
import { locate, merged, spansFromServer, spansToServer, trimmed, unitSpans } from "./review-offsets.js";

const UNDO_FIRST = "Undo your edits before marking words: redaction applies to the stored transcript.";

/**
 * The editor over the page's elements (editor, hintView, hintEdit, editedNote, revert,
 * spansSummary, spanList, mark, marksLine, clearMarks). ``detail()`` is the shown item (null
 * while none is); ``onSubmit()`` runs on Ctrl+Enter; ``showError``/``clearError`` report.
 */
export function createEditor(els, { detail, onSubmit, showError, clearError }) {
  const state = {
    editable: false, // the shown item's transcript may be edited (not rejected)
    editing: false, // edit mode (contenteditable): the page's shortcuts are off
    flagged: [], // the item's flagged spans that fit its transcript, overlaps too (units)
    selection: [], // the last non-empty selection in the editor: [{start, end}]
    marks: [], // ranges marked for redaction: [{start, end}]
  };
  let clickTimer = 0;

  const plaintextOnly = (() => {
    els.editor.setAttribute("contenteditable", "plaintext-only");
    const supported = els.editor.contentEditable === "plaintext-only";
    els.editor.removeAttribute("contenteditable");
    return supported;
  })();

  function text() {
    return els.editor.textContent.replace(/\u00a0/g, " ");
  }

  function isEdited() {
    const shown = detail();
    return Boolean(shown) && text() !== (shown.transcript || "");
  }

  function showEdited() {
    els.editedNote.hidden = !isEdited();
  }

  function showEditMode() {
    els.editor.classList.toggle("editing", state.editing);
    els.hintView.hidden = state.editing;
    els.hintEdit.hidden = !state.editing;
  }

  function setEditable(editable) {
    state.editable = editable;
    leave();
    els.editor.classList.toggle("locked", !editable);
  }

  /** Edit mode, with the caret at ``offset`` (the end when null). */
  function enter(offset) {
    if (!detail() || !state.editable) return;
    if (!state.editing) {
      state.editing = true;
      els.editor.setAttribute("contenteditable", plaintextOnly ? "plaintext-only" : "true");
      els.editor.removeAttribute("aria-readonly");
      showEditMode();
    }
    els.editor.focus();
    const length = text().length;
    const at = offset === null || offset === undefined ? length : Math.min(offset, length);
    const range = rangeFromOffsets(at, at);
    const selection = window.getSelection();
    if (range && selection) {
      selection.removeAllRanges();
      selection.addRange(range);
    }
  }

  function leave() {
    window.clearTimeout(clickTimer);
    if (!state.editing) return;
    state.editing = false;
    els.editor.removeAttribute("contenteditable");
    els.editor.setAttribute("aria-readonly", "true");
    showEditMode();
    showEdited();
  }

  /** Shows ``transcript`` with its flagged ``spans`` (code points, as the API sends them). */
  function render(transcript, spans) {
    leave();
    const flagged = spansFromServer(spans, transcript);
    state.flagged = unitSpans(spans, transcript);
    const nodes = [];
    let at = 0;
    for (const span of flagged) {
      if (span.start > at) nodes.push(document.createTextNode(transcript.slice(at, span.start)));
      const mark = element("mark", "flag", transcript.slice(span.start, span.end));
      mark.dataset.type = span.type || "FLAGGED";
      mark.title = `Flagged: ${span.type || "flagged"}`;
      nodes.push(mark);
      at = span.end;
    }
    if (at < transcript.length) nodes.push(document.createTextNode(transcript.slice(at)));
    els.editor.replaceChildren(...nodes);
    state.selection = [];
    paint("redact-selection", []);
    state.marks = [];
    showMarks();
    showEdited();

    els.spansSummary.textContent = flagged.length
      ? `${flagged.length} flagged span${flagged.length === 1 ? "" : "s"} to check:`
      : "No flagged spans.";
    els.spanList.replaceChildren(
      ...flagged.map((span) => {
        const words = transcript.slice(span.start, span.end);
        const li = element("li");
        li.appendChild(element("span", "span-type", span.type || "FLAGGED"));
        li.appendChild(document.createTextNode(" "));
        li.appendChild(element("q", null, words));
        li.appendChild(document.createTextNode(" "));
        const toggle = element("button", "link-button", "Mark for redaction");
        toggle.type = "button";
        toggle.setAttribute("aria-pressed", "false");
        toggle.dataset.start = String(span.start);
        toggle.dataset.end = String(span.end);
        toggle.setAttribute("aria-label", `Mark ${span.type || "flagged span"} “${words}” for redaction`);
        toggle.addEventListener("click", () => toggleMark({ start: span.start, end: span.end }));
        li.appendChild(toggle);
        return li;
      }),
    );
  }

  /** The number of UTF-16 units of the editor's text before (node, offset). */
  function offsetAt(node, offset) {
    const range = document.createRange();
    range.setStart(els.editor, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  /** A DOM range's offsets in the editor's text, without edge whitespace; or null. */
  function offsetsOf(range) {
    if (!range.intersectsNode(els.editor)) return null;
    const whole = document.createRange();
    whole.selectNodeContents(els.editor);
    const all = whole.toString();
    const start =
      range.compareBoundaryPoints(Range.START_TO_START, whole) <= 0
        ? 0
        : offsetAt(range.startContainer, range.startOffset);
    const end =
      range.compareBoundaryPoints(Range.END_TO_END, whole) >= 0
        ? all.length
        : offsetAt(range.endContainer, range.endOffset);
    return trimmed(all, start, end);
  }

  /** A DOM range of the editor's text between two offsets; null past its end. */
  function rangeFromOffsets(start, end) {
    const walker = document.createTreeWalker(els.editor, NodeFilter.SHOW_TEXT);
    const nodes = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push(node);
    const found = locate(
      nodes.map((node) => node.data.length),
      start,
      end,
    );
    if (!found) return null;
    const range = document.createRange();
    range.setStart(nodes[found.start[0]], found.start[1]);
    range.setEnd(nodes[found.end[0]], found.end[1]);
    return range;
  }

  function selectionOffsets() {
    const selection = window.getSelection();
    const out = [];
    if (!selection) return out;
    for (let i = 0; i < selection.rangeCount; i++) {
      const range = selection.getRangeAt(i);
      if (range.collapsed) continue;
      const offsets = offsetsOf(range);
      if (offsets) out.push(offsets);
    }
    return out;
  }

  /** Paints ranges of the editor's text where the CSS Custom Highlight API exists. */
  function paint(name, ranges) {
    if (!window.CSS || !CSS.highlights || typeof window.Highlight !== "function") return;
    const dom = ranges.map((r) => rangeFromOffsets(r.start, r.end)).filter(Boolean);
    if (dom.length) CSS.highlights.set(name, new window.Highlight(...dom));
    else CSS.highlights.delete(name);
  }

  function quoted(range) {
    return `“${text().slice(range.start, range.end)}”`;
  }

  function showMarks() {
    const marks = state.marks;
    els.marksLine.textContent = marks.length ? `Marked for redaction: ${marks.map(quoted).join(", ")}` : "";
    els.clearMarks.hidden = marks.length === 0;
    for (const toggle of els.spanList.querySelectorAll("button[aria-pressed]")) {
      const start = Number(toggle.dataset.start);
      const end = Number(toggle.dataset.end);
      const on = marks.some((m) => m.start <= start && end <= m.end);
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.textContent = on ? "Marked" : "Mark for redaction";
    }
    paint("redact-marks", marks); // the line above says it too
  }

  function toggleMark(range) {
    if (isEdited()) {
      showError(UNDO_FIRST);
      return;
    }
    const covered = state.marks.some((m) => m.start <= range.start && range.end <= m.end);
    if (covered) {
      state.marks = state.marks.filter((m) => !(m.start <= range.start && range.end <= m.end));
    } else {
      state.marks = merged([...state.marks, range]);
    }
    showMarks();
  }

  function markSelection() {
    if (!detail()) return;
    const live = selectionOffsets();
    const chosen = live.length ? live : state.selection;
    if (chosen.length === 0) {
      showError("Select words in the transcript first, then mark them.");
      return;
    }
    if (isEdited()) {
      showError(UNDO_FIRST);
      return;
    }
    clearError();
    state.marks = merged([...state.marks, ...chosen]);
    state.selection = [];
    const selection = window.getSelection();
    if (selection) selection.removeAllRanges();
    showMarks();
  }

  /**
   * The spans to redact (code points, for the API): the marks and the selection, a flagged
   * span keeping its type. Null, with the reason shown, when there is nothing to redact.
   */
  function redactSpans() {
    if (isEdited()) {
      showError(
        "Undo your edits before redacting: redaction applies to the stored transcript. " +
          "Save a correction first, or use “Undo edits”.",
      );
      return null;
    }
    const live = selectionOffsets();
    const ranges = merged([...state.marks, ...(live.length ? live : state.selection)]);
    if (ranges.length === 0) {
      showError("Select the words to redact in the transcript first (or mark flagged spans).");
      return null;
    }
    return spansToServer(ranges, text(), state.flagged);
  }

  // A single click on the text edits there; a double click or a drag selects (to redact).
  els.editor.addEventListener("click", (event) => {
    window.clearTimeout(clickTimer);
    if (state.editing || !state.editable || event.detail !== 1) return;
    const selection = window.getSelection();
    if (selection && !selection.isCollapsed) return; // words were selected: maybe to redact
    const range = selection && selection.rangeCount ? selection.getRangeAt(0) : null;
    const offset =
      range && els.editor.contains(range.startContainer)
        ? offsetAt(range.startContainer, range.startOffset)
        : null; // a click beside the words: edit at the end
    clickTimer = window.setTimeout(() => {
      const now = window.getSelection();
      if (!state.editing && (!now || now.isCollapsed)) enter(offset);
    }, 350);
  });
  els.editor.addEventListener("mousedown", () => window.clearTimeout(clickTimer));
  els.editor.addEventListener("blur", leave);

  document.addEventListener("selectionchange", () => {
    if (!detail()) return;
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0) return;
    const range = selection.getRangeAt(0);
    const inEditor = els.editor.contains(range.commonAncestorContainer);
    if (selection.isCollapsed) {
      if (inEditor) state.selection = []; // a click in the transcript: nothing selected
      // else a click elsewhere (a button): keep what was selected, painted so it shows
    } else {
      state.selection = inEditor || range.intersectsNode(els.editor) ? selectionOffsets() : [];
    }
    paint("redact-selection", state.editing ? [] : state.selection);
  });

  els.editor.addEventListener("input", () => {
    showEdited();
    if (state.marks.length) {
      state.marks = [];
      showMarks();
    }
  });

  els.editor.addEventListener("paste", (event) => {
    if (plaintextOnly) return;
    event.preventDefault(); // no markup from elsewhere
    const pasted = (event.clipboardData && event.clipboardData.getData("text/plain")) || "";
    document.execCommand("insertText", false, pasted.replace(/\s*\n\s*/g, " "));
  });

  els.editor.addEventListener("keydown", (event) => {
    if (!state.editing) {
      if ((event.key === "Enter" && !event.ctrlKey && !event.metaKey) || event.key === "F2") {
        event.preventDefault();
        enter(null);
      }
      return; // the page's shortcuts
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      onSubmit();
    } else if (event.key === "Enter") {
      event.preventDefault(); // one utterance, one line
    } else if (event.key === "Escape") {
      event.preventDefault();
      leave();
    }
  });

  els.revert.addEventListener("click", () => {
    const shown = detail();
    if (!shown) return;
    render(shown.transcript || "", shown.spans || []);
    els.editor.focus();
  });

  els.mark.addEventListener("click", markSelection);
  els.clearMarks.addEventListener("click", () => {
    state.marks = [];
    showMarks();
  });

  return { render, setEditable, enter, leave, text, isEdited, markSelection, redactSpans };
}
