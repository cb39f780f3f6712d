/*
 * The reviewer page (/admin): logs in with an API key, walks the items of a review batch one
 * by one and records decisions through the admin REST API (/v1/admin/...).
 *
 * The key lives in sessionStorage (this tab only) and travels in the Authorization header,
 * so the recording is fetched with fetch() and played from a blob: URL.
 * The transcript is a contenteditable element: flagged spans are <mark> elements, and
 * character offsets are counted over its text, which is exactly the item's transcript
 * until the reviewer edits it.
 */
"use strict";

(() => {
  const KEY_STORAGE = "voice-admin-key";
  const API = "/v1/admin";
  const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
  const REASONS = {
    pii_review: "Personal data check",
    thumbs_down: "Thumbs down",
    low_confidence: "Low STT confidence",
  };
  const DONE_WORDS = {
    approve: "approved",
    correct: "corrected",
    redact: "redacted",
    reject: "rejected",
  };

  const $ = (id) => document.getElementById(id);
  const els = {
    error: $("error"),
    status: $("status"),
    account: $("account"),
    accountName: $("account-name"),
    accountRole: $("account-role"),
    logout: $("logout"),
    login: $("login"),
    loginForm: $("login-form"),
    key: $("api-key"),
    loginButton: $("login-button"),
    review: $("review"),
    batchSelect: $("batch-select"),
    progress: $("batch-progress"),
    progressText: $("batch-progress-text"),
    empty: $("empty"),
    item: $("item"),
    heading: $("item-heading"),
    position: $("item-position"),
    count: $("item-count"),
    reason: $("item-reason"),
    itemStatus: $("item-status"),
    session: $("item-session"),
    created: $("item-created"),
    audio: $("audio"),
    play: $("play"),
    seek: $("seek"),
    time: $("time"),
    speed: $("speed"),
    loop: $("loop"),
    audioNote: $("audio-note"),
    editor: $("editor"),
    hintView: $("hint-view"),
    hintEdit: $("hint-edit"),
    editedNote: $("edited-note"),
    revert: $("revert"),
    spansSummary: $("spans-summary"),
    spanList: $("span-list"),
    mark: $("mark"),
    marksLine: $("marks-line"),
    clearMarks: $("clear-marks"),
    labelLine: $("label-line"),
    labelText: $("label-text"),
    response: $("response"),
    tags: [...document.querySelectorAll('input[name="tag"]')],
    approve: $("approve"),
    correct: $("correct"),
    redact: $("redact"),
    reject: $("reject"),
    prev: $("prev"),
    next: $("next"),
    historyCount: $("history-count"),
    history: $("history"),
    metadata: $("metadata"),
    stats: $("stats"),
    statsBody: $("stats-body"),
    rejectDialog: $("reject-dialog"),
    rejectCancel: $("reject-cancel"),
    rejectConfirm: $("reject-confirm"),
  };

  const state = {
    key: null,
    user: null, // {name, role}
    batches: [],
    batchId: null,
    items: [], // summaries of the batch, by id
    index: -1,
    detail: null, // the shown item's detail
    seq: 0, // bumps on every item change: late answers for another item are dropped
    audioUrl: null,
    editable: false, // the shown item's transcript may be edited (not rejected)
    editing: false, // the editor is in edit mode (contenteditable): shortcuts are off
    selection: [], // the last non-empty selection in the editor: [{start, end}]
    marks: [], // ranges marked for redaction: [{start, end}]
    busy: false,
  };

  // ---- small helpers ------------------------------------------------------------------

  function storageGet(key) {
    try {
      return window.sessionStorage.getItem(key);
    } catch (_) {
      return null;
    }
  }

  function storageSet(key, value) {
    try {
      if (value === null) window.sessionStorage.removeItem(key);
      else window.sessionStorage.setItem(key, value);
    } catch (_) {
      /* storage disabled: the key lasts until the page is left */
    }
  }

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  /** A server timestamp as a date; one without a zone (SQLite's) is UTC. */
  function parseDate(iso) {
    const text = String(iso || "");
    const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(text) || !text.includes("T");
    return new Date(zoned ? text : `${text}Z`);
  }

  function formatDate(iso) {
    if (!iso) return "";
    const date = parseDate(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function formatTime(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
    const minutes = Math.floor(seconds / 60);
    const rest = seconds - minutes * 60;
    return `${minutes}:${rest.toFixed(1).padStart(4, "0")}`;
  }

  function words(value) {
    return String(value || "").replace(/_/g, " ");
  }

  let errorShown = 0;

  function showError(text) {
    // Emptied first and filled a moment later, so the same message is announced again.
    const token = ++errorShown;
    els.error.textContent = "";
    window.setTimeout(() => {
      if (token === errorShown) els.error.textContent = text;
    }, 30);
  }

  function clearError() {
    errorShown += 1;
    els.error.textContent = "";
  }

  function setStatus(text, kind) {
    els.status.textContent = text || "";
    els.status.dataset.state = kind || "idle";
  }

  // ---- the API --------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, { method = "GET", body, key = state.key, raw = false } = {}) {
    const headers = { Authorization: `Bearer ${key}`, Accept: raw ? "*/*" : "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch (_) {
      throw new ApiError(0, "network", "the server could not be reached");
    }
    if (!response.ok) {
      let code = `http_${response.status}`;
      let message = response.statusText || `HTTP ${response.status}`;
      try {
        const data = await response.json();
        if (data && data.error) {
          code = data.error.code || code;
          message = data.error.message || message;
        } else if (data && data.detail) {
          message = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
        }
      } catch (_) {
        /* not JSON: keep the status line */
      }
      throw new ApiError(response.status, code, message);
    }
    return raw ? response : response.json();
  }

  /** Shows an API failure; a key that stopped working logs out. */
  function failed(err, doing) {
    if (err instanceof ApiError && err.status === 401 && state.user) {
      logOut(`Your key is no longer accepted (${err.message}). Log in again.`);
      return;
    }
    if (err instanceof ApiError) {
      const why = {
        403: "your key's role may not do this",
        404: "it no longer exists",
        429: "too many attempts; wait a minute and try again",
      }[err.status];
      showError(`Could not ${doing}: ${err.message}${why ? ` (${why})` : ""}. [${err.code}]`);
    } else {
      showError(`Could not ${doing}: ${(err && err.message) || err}.`);
      window.console.error(err);
    }
  }

  // ---- logging in and out ---------------------------------------------------------------

  async function logIn(key, fromStorage) {
    els.loginButton.disabled = true;
    let user;
    try {
      user = await api(`${API}/whoami`, { key });
    } catch (err) {
      storageSet(KEY_STORAGE, null);
      if (err instanceof ApiError && err.status === 401) {
        showError(
          fromStorage
            ? "Your saved key is no longer accepted. Log in again."
            : "That key was not accepted. Check it and try again.",
        );
      } else if (err instanceof ApiError && err.status === 429) {
        showError("Too many failed attempts. Wait a minute, then try again.");
      } else {
        failed(err, "log in");
      }
      showLogin();
      return;
    } finally {
      els.loginButton.disabled = false;
    }
    state.key = key;
    state.user = user;
    storageSet(KEY_STORAGE, key);
    els.key.value = "";
    els.accountName.textContent = user.name;
    els.accountRole.textContent = user.role;
    els.account.hidden = false;
    els.login.hidden = true;
    els.review.hidden = false;
    clearError();
    setStatus(`Signed in as ${user.name} (${user.role}).`, "live");
    try {
      await loadBatches();
    } catch (err) {
      failed(err, "show the batch");
    }
  }

  function showLogin() {
    els.account.hidden = true;
    els.review.hidden = true;
    els.login.hidden = false;
    els.key.focus();
    els.key.select();
  }

  function logOut(message) {
    state.key = null;
    state.user = null;
    state.batches = [];
    state.items = [];
    state.index = -1;
    state.detail = null;
    state.seq += 1;
    storageSet(KEY_STORAGE, null);
    unloadAudio();
    els.batchSelect.replaceChildren();
    els.editor.replaceChildren();
    els.stats.open = false;
    if (els.rejectDialog.open) els.rejectDialog.close();
    setStatus(message ? "" : "Logged out.", "idle");
    if (message) showError(message);
    else clearError();
    showLogin();
  }

  els.loginForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = els.key.value.trim();
    if (!key) {
      showError("Enter your API key.");
      els.key.focus();
      return;
    }
    logIn(key, false);
  });

  els.logout.addEventListener("click", () => logOut(null));

  // ---- batches --------------------------------------------------------------------------

  function batchLabel(batch) {
    const date = parseDate(batch.created_at);
    const day = Number.isNaN(date.getTime())
      ? String(batch.created_at || "")
      : date.toLocaleDateString(undefined, { dateStyle: "medium" });
    return `Batch ${batch.id} · ${day} · ${batch.done}/${batch.total} done`;
  }

  async function loadBatches() {
    const data = await api(`${API}/review/batches`).catch((err) => {
      failed(err, "load the batches");
      return null;
    });
    if (!data || !state.user) return;
    state.batches = data.batches || [];
    els.batchSelect.replaceChildren(
      ...state.batches.map((batch) => {
        const option = element("option", null, batchLabel(batch));
        option.value = String(batch.id);
        return option;
      }),
    );
    els.batchSelect.disabled = state.batches.length === 0;
    if (state.batches.length === 0) {
      state.batchId = null;
      showProgress(null);
      showEmpty("There are no review batches yet. Batches are built from pending items every day.");
      return;
    }
    await loadBatch(state.batches[0].id); // newest first: the current batch
  }

  function showProgress(batch) {
    const total = batch ? batch.total : 0;
    const done = batch ? batch.done : 0;
    els.progress.max = Math.max(total, 1);
    els.progress.value = done;
    els.progressText.textContent =
      total > 0 && done >= total ? `${done} of ${total} reviewed — complete` : `${done} of ${total} reviewed`;
  }

  function updateBatch(batch) {
    const index = state.batches.findIndex((b) => b.id === batch.id);
    if (index >= 0) state.batches[index] = batch;
    const option = [...els.batchSelect.options].find((o) => o.value === String(batch.id));
    if (option) option.textContent = batchLabel(batch);
    if (batch.id === state.batchId) showProgress(batch);
  }

  async function refreshBatch() {
    if (state.batchId === null) return null;
    try {
      const batch = await api(`${API}/review/batches/${state.batchId}`);
      updateBatch(batch);
      return batch;
    } catch (err) {
      failed(err, "refresh the batch's progress");
      return null;
    }
  }

  /** The items of a batch, by id (rejected ones are gone: their capture was deleted). */
  async function fetchItems(batchId) {
    const data = await api(`${API}/review/items?batch=${encodeURIComponent(batchId)}`);
    return (data.items || []).slice().sort((a, b) => a.id - b.id);
  }

  async function loadBatch(id) {
    state.batchId = id;
    els.batchSelect.value = String(id);
    const batch = state.batches.find((b) => b.id === id);
    showProgress(batch || null);
    let items;
    try {
      items = await fetchItems(id);
    } catch (err) {
      failed(err, "load the batch's items");
      return;
    }
    if (state.batchId !== id || !state.user) return;
    state.items = items;
    if (state.items.length === 0) {
      showEmpty("This batch has no items.");
      return;
    }
    const firstPending = state.items.findIndex((item) => item.status === "pending");
    await showItem(firstPending >= 0 ? firstPending : 0);
    if (firstPending < 0) setStatus("Every item of this batch has a decision.", "idle");
  }

  function showEmpty(text) {
    state.items = [];
    state.index = -1;
    state.detail = null;
    state.seq += 1;
    unloadAudio();
    els.item.hidden = true;
    els.empty.textContent = text;
    els.empty.hidden = false;
  }

  els.batchSelect.addEventListener("change", () => {
    clearError();
    loadBatch(Number(els.batchSelect.value));
  });

  // ---- one item -------------------------------------------------------------------------

  function current() {
    return state.items[state.index] || null;
  }

  async function showItem(index) {
    if (index < 0 || index >= state.items.length) return;
    const seq = ++state.seq;
    state.index = index;
    state.detail = null;
    const summary = state.items[index];
    els.empty.hidden = true;
    els.item.hidden = false;
    els.item.setAttribute("aria-busy", "true");
    els.position.textContent = String(index + 1);
    els.count.textContent = String(state.items.length);
    renderSummary(summary);
    leaveEdit();
    setDecisionsEnabled(false);
    els.prev.disabled = index === 0;
    els.next.disabled = index === state.items.length - 1;
    unloadAudio();
    let detail;
    try {
      detail = await api(`${API}/review/items/${summary.id}`);
    } catch (err) {
      if (seq !== state.seq) return;
      els.item.removeAttribute("aria-busy");
      renderMissing(summary, err);
      return;
    }
    if (seq !== state.seq) return; // another item was asked for meanwhile
    state.detail = detail;
    state.items[index] = { ...summary, status: detail.status };
    renderDetail(detail);
    els.item.removeAttribute("aria-busy");
    loadAudio(detail, seq);
  }

  function renderSummary(summary) {
    els.reason.textContent = REASONS[summary.reason] || words(summary.reason);
    els.reason.dataset.reason = summary.reason;
    els.itemStatus.textContent = words(summary.status);
    els.itemStatus.dataset.status = summary.status;
    els.session.textContent = summary.session_id;
    els.created.textContent = formatDate(summary.created_at);
  }

  /** The detail could not be read (e.g. a rejected item whose capture is gone). */
  function renderMissing(summary, err) {
    if (err instanceof ApiError && err.status === 401) {
      failed(err, "load the item");
      return;
    }
    renderTranscript("", []);
    setEditable(false);
    els.response.textContent = "";
    els.labelLine.hidden = true;
    els.history.replaceChildren();
    els.historyCount.textContent = "";
    els.metadata.textContent = "";
    setTags([]);
    setDecisionsEnabled(false);
    if (summary.status === "rejected") {
      setAudioNote("Rejected: the recording and transcript were deleted.");
    } else {
      failed(err, `load item ${summary.id}`);
      setAudioNote("The item could not be loaded.");
    }
  }

  function renderDetail(detail) {
    renderSummary(detail);
    const rejected = detail.status === "rejected";
    renderTranscript(detail.transcript || "", rejected ? [] : detail.spans || []);
    setEditable(!rejected);
    els.response.textContent = detail.response || "";
    els.labelLine.hidden = !detail.label;
    els.labelText.textContent = detail.label || "";
    setTags(detail.tags || []);
    renderHistory(detail.decisions || []);
    els.metadata.textContent = JSON.stringify(detail.metadata || {}, null, 2);
    setDecisionsEnabled(!rejected);
  }

  function setDecisionsEnabled(enabled) {
    for (const button of [els.approve, els.correct, els.redact, els.reject, els.mark]) {
      button.disabled = !enabled || state.busy;
    }
    els.tags.forEach((box) => (box.disabled = !enabled));
  }

  function setTags(tags) {
    els.tags.forEach((box) => (box.checked = tags.includes(box.value)));
  }

  function checkedTags() {
    return els.tags.filter((box) => box.checked).map((box) => box.value);
  }

  function renderHistory(decisions) {
    els.historyCount.textContent = `(${decisions.length})`;
    if (decisions.length === 0) {
      els.history.replaceChildren(element("li", "hint", "No decision yet."));
      return;
    }
    els.history.replaceChildren(
      ...decisions.map((d) => {
        const li = element("li");
        li.appendChild(element("strong", null, `v${d.version} ${words(d.decision)}`));
        li.appendChild(document.createTextNode(` by ${d.reviewer}, ${formatDate(d.at)}`));
        if (d.tags && d.tags.length) {
          li.appendChild(document.createTextNode(` · tags: ${d.tags.map(words).join(", ")}`));
        }
        if (d.spans && d.spans.length) {
          li.appendChild(document.createTextNode(` · ${d.spans.length} span(s)`));
        }
        if (d.transcript) {
          li.appendChild(document.createTextNode(" · "));
          li.appendChild(element("q", null, d.transcript));
        }
        return li;
      }),
    );
  }

  // ---- the transcript editor ------------------------------------------------------------

  // The editor has two modes. Viewing (the default): the text can be selected and the
  // single-key shortcuts work, so "select words, press R" redacts them. Editing (a click on
  // the text, E, Enter or F2): contenteditable, the keys type, Esc goes back to viewing.

  const plaintextOnly = (() => {
    els.editor.setAttribute("contenteditable", "plaintext-only");
    const supported = els.editor.contentEditable === "plaintext-only";
    els.editor.removeAttribute("contenteditable");
    return supported;
  })();

  function setEditable(editable) {
    state.editable = editable;
    leaveEdit();
    els.editor.classList.toggle("locked", !editable);
  }

  function showEditMode() {
    els.editor.classList.toggle("editing", state.editing);
    els.hintView.hidden = state.editing;
    els.hintEdit.hidden = !state.editing;
  }

  let clickTimer = 0;

  /** Edit mode, with the caret at character ``offset`` (the end when null). */
  function enterEdit(offset) {
    if (!state.detail || !state.editable) return;
    if (!state.editing) {
      state.editing = true;
      els.editor.setAttribute("contenteditable", plaintextOnly ? "plaintext-only" : "true");
      els.editor.removeAttribute("aria-readonly");
      showEditMode();
    }
    els.editor.focus();
    const length = editorText().length;
    const at = offset === null || offset === undefined ? length : Math.min(offset, length);
    const range = rangeFromOffsets(at, at);
    const selection = window.getSelection();
    if (range && selection) {
      selection.removeAllRanges();
      selection.addRange(range);
    }
  }

  function leaveEdit() {
    window.clearTimeout(clickTimer);
    if (!state.editing) return;
    state.editing = false;
    els.editor.removeAttribute("contenteditable");
    els.editor.setAttribute("aria-readonly", "true");
    showEditMode();
    showEdited();
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
      if (!state.editing && (!now || now.isCollapsed)) enterEdit(offset);
    }, 350);
  });
  els.editor.addEventListener("mousedown", () => window.clearTimeout(clickTimer));
  els.editor.addEventListener("blur", leaveEdit);

  /** Valid, sorted, non-overlapping spans of ``text``. */
  function cleanSpans(spans, text) {
    const sorted = spans
      .filter((s) => Number.isInteger(s.start) && Number.isInteger(s.end))
      .filter((s) => s.start >= 0 && s.end <= text.length && s.start < s.end)
      .sort((a, b) => a.start - b.start || b.end - a.end);
    const out = [];
    for (const span of sorted) {
      if (out.length && span.start < out[out.length - 1].end) continue;
      out.push(span);
    }
    return out;
  }

  function renderTranscript(text, spans) {
    leaveEdit();
    const flagged = cleanSpans(spans, text);
    const nodes = [];
    let at = 0;
    for (const span of flagged) {
      if (span.start > at) nodes.push(document.createTextNode(text.slice(at, span.start)));
      const mark = element("mark", "flag", text.slice(span.start, span.end));
      mark.dataset.type = span.type || "FLAGGED";
      mark.title = `Flagged: ${span.type || "flagged"}`;
      nodes.push(mark);
      at = span.end;
    }
    if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
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
        const li = element("li");
        li.appendChild(element("span", "span-type", span.type || "FLAGGED"));
        li.appendChild(document.createTextNode(" "));
        li.appendChild(element("q", null, text.slice(span.start, span.end)));
        li.appendChild(document.createTextNode(" "));
        const toggle = element("button", "link-button", "Mark for redaction");
        toggle.type = "button";
        toggle.setAttribute("aria-pressed", "false");
        toggle.dataset.start = String(span.start);
        toggle.dataset.end = String(span.end);
        toggle.setAttribute(
          "aria-label",
          `Mark ${span.type || "flagged span"} “${text.slice(span.start, span.end)}” for redaction`,
        );
        toggle.addEventListener("click", () => toggleMark({ start: span.start, end: span.end }));
        li.appendChild(toggle);
        return li;
      }),
    );
  }

  function editorText() {
    return els.editor.textContent.replace(/\u00a0/g, " ");
  }

  function isEdited() {
    return Boolean(state.detail) && editorText() !== (state.detail.transcript || "");
  }

  function showEdited() {
    els.editedNote.hidden = !isEdited();
  }

  /** The number of characters of the editor's text before (node, offset). */
  function offsetAt(node, offset) {
    const range = document.createRange();
    range.setStart(els.editor, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  /** A range's character offsets in the editor's text, without edge whitespace; or null. */
  function offsetsOf(range) {
    if (!range.intersectsNode(els.editor)) return null;
    const whole = document.createRange();
    whole.selectNodeContents(els.editor);
    const length = whole.toString().length;
    let start =
      range.compareBoundaryPoints(Range.START_TO_START, whole) <= 0
        ? 0
        : offsetAt(range.startContainer, range.startOffset);
    let end =
      range.compareBoundaryPoints(Range.END_TO_END, whole) >= 0
        ? length
        : offsetAt(range.endContainer, range.endOffset);
    const text = whole.toString();
    while (start < end && /\s/.test(text[start])) start += 1;
    while (end > start && /\s/.test(text[end - 1])) end -= 1;
    return start < end ? { start, end } : null;
  }

  /** A DOM range of the editor's text between two character offsets. */
  function rangeFromOffsets(start, end) {
    const walker = document.createTreeWalker(els.editor, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let at = 0;
    let started = false;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const length = node.data.length;
      if (!started && start <= at + length) {
        range.setStart(node, start - at);
        started = true;
      }
      if (started && end <= at + length) {
        range.setEnd(node, end - at);
        return range;
      }
      at += length;
    }
    return null;
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

  document.addEventListener("selectionchange", () => {
    if (!state.detail) return;
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

  /** Paints ranges of the editor's text where the CSS Custom Highlight API exists. */
  function paint(name, ranges) {
    if (!window.CSS || !CSS.highlights || typeof window.Highlight !== "function") return;
    const dom = ranges.map((r) => rangeFromOffsets(r.start, r.end)).filter(Boolean);
    if (dom.length) CSS.highlights.set(name, new window.Highlight(...dom));
    else CSS.highlights.delete(name);
  }

  /** Sorted ranges with overlaps and neighbours merged. */
  function merged(ranges) {
    const sorted = ranges.map((r) => ({ start: r.start, end: r.end })).sort((a, b) => a.start - b.start);
    const out = [];
    for (const range of sorted) {
      const last = out[out.length - 1];
      if (last && range.start <= last.end) last.end = Math.max(last.end, range.end);
      else out.push(range);
    }
    return out;
  }

  function quoted(range) {
    return `“${editorText().slice(range.start, range.end)}”`;
  }

  function showMarks() {
    const marks = state.marks;
    els.marksLine.textContent = marks.length
      ? `Marked for redaction: ${marks.map(quoted).join(", ")}`
      : "";
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
      showError("Undo your edits before marking words: redaction applies to the stored transcript.");
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
    if (!state.detail) return;
    const live = selectionOffsets();
    const chosen = live.length ? live : state.selection;
    if (chosen.length === 0) {
      showError("Select words in the transcript first, then mark them.");
      return;
    }
    if (isEdited()) {
      showError("Undo your edits before marking words: redaction applies to the stored transcript.");
      return;
    }
    clearError();
    state.marks = merged([...state.marks, ...chosen]);
    state.selection = [];
    const selection = window.getSelection();
    if (selection) selection.removeAllRanges();
    showMarks();
  }

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
    const text = (event.clipboardData && event.clipboardData.getData("text/plain")) || "";
    document.execCommand("insertText", false, text.replace(/\s*\n\s*/g, " "));
  });

  els.editor.addEventListener("keydown", (event) => {
    if (!state.editing) {
      if ((event.key === "Enter" && !event.ctrlKey && !event.metaKey) || event.key === "F2") {
        event.preventDefault();
        enterEdit(null);
      }
      return; // the page's shortcuts
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      correct();
    } else if (event.key === "Enter") {
      event.preventDefault(); // one utterance, one line
    } else if (event.key === "Escape") {
      event.preventDefault();
      leaveEdit();
    }
  });

  els.revert.addEventListener("click", () => {
    if (!state.detail) return;
    renderTranscript(state.detail.transcript || "", state.detail.spans || []);
    els.editor.focus();
  });

  els.mark.addEventListener("click", markSelection);
  els.clearMarks.addEventListener("click", () => {
    state.marks = [];
    showMarks();
  });

  // ---- the recording --------------------------------------------------------------------

  function setAudioNote(text) {
    els.audioNote.textContent = text || "";
    els.audioNote.hidden = !text;
  }

  function unloadAudio() {
    els.audio.pause();
    els.audio.removeAttribute("src");
    els.audio.load();
    if (state.audioUrl) URL.revokeObjectURL(state.audioUrl);
    state.audioUrl = null;
    els.play.disabled = true;
    els.seek.disabled = true;
    els.seek.max = "0";
    els.seek.value = "0";
    showPlayState();
    showTime();
    setAudioNote("");
  }

  async function loadAudio(detail, seq) {
    if (detail.status === "rejected") {
      setAudioNote("Rejected: the recording was deleted.");
      return;
    }
    if (!detail.audio_url) {
      setAudioNote("This item has no recording.");
      return;
    }
    setAudioNote("Loading the recording…");
    let blob;
    try {
      const response = await api(detail.audio_url, { raw: true });
      blob = await response.blob();
    } catch (err) {
      if (seq !== state.seq) return;
      if (err instanceof ApiError && err.status === 404) setAudioNote("The recording is gone.");
      else {
        setAudioNote("The recording could not be loaded.");
        failed(err, "load the recording");
      }
      return;
    }
    if (seq !== state.seq) return;
    state.audioUrl = URL.createObjectURL(blob);
    els.audio.src = state.audioUrl;
    applySpeed();
    els.audio.loop = els.loop.checked;
    els.play.disabled = false;
    els.seek.disabled = false;
    setAudioNote("");
  }

  function togglePlay() {
    if (!state.audioUrl) return;
    if (els.audio.paused || els.audio.ended) {
      els.audio.play().catch((err) => {
        if (err && err.name === "AbortError") return; // another item was shown meanwhile
        showError(`The recording could not be played: ${(err && err.message) || err}.`);
      });
    } else {
      els.audio.pause();
    }
  }

  function showPlayState() {
    const playing = !els.audio.paused && !els.audio.ended;
    els.play.textContent = playing ? "Pause" : "Play";
    els.play.classList.toggle("playing", playing);
  }

  function showTime() {
    const duration = Number.isFinite(els.audio.duration) ? els.audio.duration : 0;
    const position = els.audio.currentTime || 0;
    els.time.textContent = `${formatTime(position)} / ${formatTime(duration)}`;
    els.seek.max = String(duration);
    els.seek.value = String(Math.min(position, duration));
    els.seek.setAttribute("aria-valuetext", `${formatTime(position)} of ${formatTime(duration)}`);
  }

  function applySpeed() {
    const speed = Number(els.speed.value) || 1;
    els.audio.defaultPlaybackRate = speed;
    els.audio.playbackRate = speed;
  }

  function stepSpeed(direction) {
    const now = SPEEDS.indexOf(Number(els.speed.value));
    const next = SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, (now < 0 ? 2 : now) + direction))];
    els.speed.value = String(next);
    applySpeed();
    setStatus(`Speed ${next}×`, "idle");
  }

  els.play.addEventListener("click", togglePlay);
  els.audio.addEventListener("play", showPlayState);
  els.audio.addEventListener("pause", showPlayState);
  els.audio.addEventListener("ended", showPlayState);
  els.audio.addEventListener("timeupdate", showTime);
  els.audio.addEventListener("durationchange", showTime);
  els.audio.addEventListener("loadedmetadata", () => {
    applySpeed();
    showTime();
  });
  els.audio.addEventListener("error", () => {
    if (state.audioUrl) setAudioNote("This browser could not decode the recording.");
  });
  els.seek.addEventListener("input", () => {
    const to = Number(els.seek.value);
    if (Number.isFinite(to)) els.audio.currentTime = to;
  });
  els.speed.addEventListener("change", applySpeed);
  els.loop.addEventListener("change", () => (els.audio.loop = els.loop.checked));

  // ---- decisions and moving around -------------------------------------------------------

  function setBusy(busy) {
    state.busy = busy;
    els.item.classList.toggle("busy", busy);
    const rejected = !state.detail || state.detail.status === "rejected";
    for (const button of [els.approve, els.correct, els.redact, els.reject, els.mark]) {
      button.disabled = busy || rejected;
    }
  }

  async function decide(decision, extra) {
    const summary = current();
    if (!summary || !state.detail || state.busy) return;
    if (state.detail.status === "rejected") {
      showError("This item was rejected; its capture is gone.");
      return;
    }
    const position = state.index + 1;
    leaveEdit();
    setBusy(true);
    try {
      const body = { decision, tags: checkedTags(), ...extra };
      const result = await api(`${API}/review/items/${summary.id}/decision`, {
        method: "POST",
        body,
      });
      clearError();
      const item = (result && result.item) || { ...summary, status: DONE_WORDS[decision] };
      state.items[state.index] = { ...summary, status: item.status };
      state.detail = { ...state.detail, ...item };
      renderSummary(state.items[state.index]);
      if (decision === "reject") {
        // The capture is gone, and with it every item of that turn.
        state.items = state.items.filter((i) => i.session_id !== summary.session_id);
      }
      try {
        state.items = await fetchItems(state.batchId); // what others decided meanwhile too
      } catch (err) {
        failed(err, "refresh the batch's items");
      }
      const batch = await refreshBatch();
      const moved = await goToNextPending(summary.id);
      const done =
        batch && batch.total > 0 && batch.done >= batch.total ? " The batch is complete." : "";
      setStatus(
        moved
          ? `Item ${position} ${DONE_WORDS[decision]}. Now item ${state.index + 1} of ${state.items.length}.${done}`
          : `Item ${position} ${DONE_WORDS[decision]}. No pending items left in this batch.${done}`,
        "live",
      );
      els.heading.focus({ preventScroll: false });
    } catch (err) {
      failed(err, `${decision} item ${position}`);
    } finally {
      setBusy(false);
      if (state.detail) setDecisionsEnabled(state.detail.status !== "rejected");
    }
  }

  /**
   * Shows the next pending item after item ``afterId`` (or the first pending one before it);
   * false when none is left, showing the decided item again or, if it is gone, its neighbour.
   */
  async function goToNextPending(afterId) {
    const items = state.items;
    if (items.length === 0) {
      showEmpty("No items left in this batch: the rejected ones were deleted.");
      return false;
    }
    const after = items.findIndex((i) => i.id > afterId && i.status === "pending");
    const index = after >= 0 ? after : items.findIndex((i) => i.status === "pending");
    if (index >= 0) {
      await showItem(index);
      return true;
    }
    const here = items.findIndex((i) => i.id >= afterId);
    await showItem(here >= 0 ? here : items.length - 1);
    return false;
  }

  function approve() {
    decide("approve", {});
  }

  function correct() {
    if (!state.detail) return;
    const text = editorText().replace(/\s+/g, " ").trim();
    if (!text) {
      showError("The corrected transcript is empty. Type what was said, or reject the item.");
      els.editor.focus();
      return;
    }
    if (!isEdited()) {
      showError("Edit the transcript first (or press Approve to accept it as it is).");
      els.editor.focus();
      return;
    }
    decide("correct", { transcript: text });
  }

  function redact() {
    if (!state.detail) return;
    if (isEdited()) {
      showError(
        "Undo your edits before redacting: redaction applies to the stored transcript. " +
          "Save a correction first, or use “Undo edits”.",
      );
      return;
    }
    const live = selectionOffsets();
    const ranges = merged([...state.marks, ...(live.length ? live : state.selection)]);
    if (ranges.length === 0) {
      showError("Select the words to redact in the transcript first (or mark flagged spans).");
      return;
    }
    // A range that is exactly a flagged span keeps its type: "[PERSON]" rather than "[REDACTED]".
    const flagged = state.detail.spans || [];
    const spans = ranges.map((range) => {
      const same = flagged.find((f) => f.start === range.start && f.end === range.end);
      return same && /^[A-Z_]{1,32}$/.test(same.type || "") ? { ...range, type: same.type } : range;
    });
    decide("redact", { spans });
  }

  function askReject() {
    if (!state.detail || state.busy || state.detail.status === "rejected") return;
    if (typeof els.rejectDialog.showModal === "function") {
      els.rejectDialog.showModal();
      els.rejectCancel.focus(); // the safe choice first
    } else if (window.confirm("Reject this item? Its capture is deleted.")) decide("reject", {});
  }

  els.rejectCancel.addEventListener("click", () => els.rejectDialog.close("cancel"));
  els.rejectConfirm.addEventListener("click", () => els.rejectDialog.close("reject"));
  els.rejectDialog.addEventListener("close", () => {
    const choice = els.rejectDialog.returnValue;
    els.rejectDialog.returnValue = "";
    if (choice === "reject") decide("reject", {});
    else els.reject.focus();
  });

  function move(step) {
    const index = state.index + step;
    if (index < 0 || index >= state.items.length) {
      setStatus(step > 0 ? "This is the last item of the batch." : "This is the first item.", "idle");
      return;
    }
    clearError();
    showItem(index);
  }

  els.approve.addEventListener("click", approve);
  els.correct.addEventListener("click", correct);
  els.redact.addEventListener("click", redact);
  els.reject.addEventListener("click", askReject);
  els.prev.addEventListener("click", () => move(-1));
  els.next.addEventListener("click", () => move(1));

  // ---- keyboard shortcuts ---------------------------------------------------------------

  function isTyping(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable || target.closest("[contenteditable]")) return true;
    if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
    if (target instanceof HTMLInputElement) {
      return !["checkbox", "radio", "button", "submit", "reset", "range"].includes(target.type);
    }
    return false;
  }

  function isControl(target) {
    return (
      target instanceof Element &&
      Boolean(target.closest("button, a[href], input, select, textarea, summary, audio, [contenteditable]"))
    );
  }

  document.addEventListener("keydown", (event) => {
    if (!state.user || els.review.hidden || els.rejectDialog.open) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const target = event.target;
    if (isTyping(target)) return;
    const key = event.key;
    if (key === " " || key === "Spacebar") {
      if (isControl(target)) return; // Space presses the focused button or box
      event.preventDefault();
      togglePlay();
      return;
    }
    if (key === "ArrowRight" || key === "ArrowLeft") {
      if (target instanceof HTMLInputElement && target.type === "range") return;
      event.preventDefault();
      move(key === "ArrowRight" ? 1 : -1);
      return;
    }
    const actions = {
      a: approve,
      c: correct,
      r: redact,
      x: askReject,
      m: markSelection,
      j: () => move(1),
      k: () => move(-1),
      l: () => {
        els.loop.checked = !els.loop.checked;
        els.audio.loop = els.loop.checked;
        setStatus(`Loop ${els.loop.checked ? "on" : "off"}.`, "idle");
      },
      "-": () => stepSpeed(-1),
      "+": () => stepSpeed(1),
      "=": () => stepSpeed(1),
      e: () => enterEdit(null),
    };
    const action = actions[key.length === 1 ? key.toLowerCase() : key];
    if (!action || els.item.hidden) return;
    event.preventDefault();
    if (event.repeat && "acrx".includes(key.toLowerCase())) return; // a held key decides once
    action();
  });

  // ---- statistics -----------------------------------------------------------------------

  async function loadStats() {
    els.statsBody.replaceChildren(element("p", "hint", "Loading…"));
    let stats;
    try {
      stats = await api(`${API}/stats`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        els.statsBody.replaceChildren(element("p", "hint", "Statistics need an admin key."));
      } else {
        els.statsBody.replaceChildren(element("p", "hint", "Statistics could not be loaded."));
        failed(err, "load the statistics");
      }
      return;
    }
    const list = element("dl", "stats-list");
    const add = (term, value) => {
      const row = element("div");
      row.appendChild(element("dt", null, term));
      row.appendChild(element("dd", null, value));
      list.appendChild(row);
    };
    for (const [status, n] of Object.entries(stats.items_by_status || {})) {
      add(`Items ${words(status)}`, String(n));
    }
    add(
      "Thumbs-up rate",
      typeof stats.thumbs_up_rate === "number" ? `${Math.round(stats.thumbs_up_rate * 100)}%` : "—",
    );
    const tags = stats.top_error_tags || [];
    add("Top error tags", tags.length ? tags.map((t) => `${words(t.tag)} (${t.count})`).join(", ") : "—");
    els.statsBody.replaceChildren(list);
  }

  els.stats.addEventListener("toggle", () => {
    if (els.stats.open && state.user) loadStats();
  });

  // ---- first load -----------------------------------------------------------------------

  setStatus("", "idle");
  const saved = storageGet(KEY_STORAGE);
  if (saved) logIn(saved, true);
  else showLogin();
})();
