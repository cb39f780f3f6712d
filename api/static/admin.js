/*
 * The reviewer page (/admin): logs in with an API key, walks the items of a review batch one
 * by one and records decisions through the admin REST API (/v1/admin/...).
 *
 * The key lives in sessionStorage (this tab only) and travels in the Authorization header,
 * so the recording is fetched with fetch() and played from a blob: URL (review-player.js).
 * The transcript is review-editor.js's; review-offsets.js converts its offsets to the API's.
 * This module holds the page's state: logging in, batches, items and decisions.
 */

import { $, element, showStatus, storage } from "./common.js";
import { API, ApiError, failureText, request } from "./review-api.js";
import { createEditor } from "./review-editor.js";
import { DONE_WORDS, batchLabel, nextPending, progressText } from "./review-format.js";
import { createItemView } from "./review-item.js";
import { createPlayer } from "./review-player.js";
import { installShortcuts } from "./review-shortcuts.js";
import { loadStats } from "./review-stats.js";
import { createVoiceRating } from "./review-voice.js";

const KEY_STORAGE = "voice-admin-key";
const store = storage("sessionStorage"); // the key lasts until the page is left where disabled

const ids = {
  error: "error", status: "status", account: "account", accountName: "account-name",
  accountRole: "account-role", logout: "logout", login: "login", loginForm: "login-form",
  key: "api-key", loginButton: "login-button", review: "review", batchSelect: "batch-select",
  progress: "batch-progress", progressText: "batch-progress-text", empty: "empty", item: "item",
  heading: "item-heading", position: "item-position", count: "item-count", reason: "item-reason",
  itemStatus: "item-status", turn: "item-turn", created: "item-created", audio: "audio",
  play: "play", seek: "seek", time: "time", speed: "speed", loop: "loop", audioNote: "audio-note",
  editor: "editor", hintView: "hint-view", hintEdit: "hint-edit", editedNote: "edited-note",
  revert: "revert", spansSummary: "spans-summary", spanList: "span-list", mark: "mark",
  marksLine: "marks-line", clearMarks: "clear-marks", labelLine: "label-line",
  labelText: "label-text", response: "response", approve: "approve", correct: "correct",
  redact: "redact", reject: "reject", prev: "prev", next: "next", historyCount: "history-count",
  history: "history", metadata: "metadata", stats: "stats", statsBody: "stats-body",
  rejectDialog: "reject-dialog", rejectCancel: "reject-cancel", rejectConfirm: "reject-confirm",
  voiceSection: "voice-rating", ratingVoice: "rating-voice", playAnswer: "play-answer",
  answerAudio: "answer-audio", ratingLine: "rating-line",
};
const els = Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, $(id)]));
els.tags = [...document.querySelectorAll('input[name="tag"]')];
els.scores = [...document.querySelectorAll('input[name="voice-score"]')];

const state = {
  key: null,
  user: null, // {name, role}
  batches: [],
  batchId: null,
  items: [], // summaries of the batch, by id
  index: -1,
  detail: null, // the shown item's detail
  seq: 0, // bumps on every item change: late answers for another item are dropped
  busy: false,
};

// ---- messages -------------------------------------------------------------------------

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
  showStatus(els.status, text, kind);
}

function api(path, options = {}) {
  return request(path, { key: state.key, ...options });
}

/** Shows an API failure; a key that stopped working logs out. */
function failed(err, doing) {
  if (err instanceof ApiError && err.status === 401 && state.user) {
    logOut(`Your key is no longer accepted (${err.message}). Log in again.`);
    return;
  }
  showError(failureText(err, doing));
  if (!(err instanceof ApiError)) window.console.error(err);
}

const editor = createEditor(els, {
  detail: () => state.detail,
  onSubmit: () => correct(),
  showError,
  clearError,
});

const view = createItemView(els, editor);

const player = createPlayer(els, {
  fetchAudio: async (url) => (await api(url, { raw: true })).blob(),
  gone: (err) => err instanceof ApiError && err.status === 404,
  failed,
  say: (text) => setStatus(text, "idle"),
  showError,
});

const voiceRating = createVoiceRating(els, {
  call: (path, options) => api(path, options),
  fetchAudio: async (url) => (await api(url, { raw: true })).blob(),
  me: () => (state.user ? state.user.name : null),
  failed,
  say: (text) => setStatus(text, "idle"),
});

// ---- logging in and out ---------------------------------------------------------------

async function logIn(key, fromStorage) {
  els.loginButton.disabled = true;
  let user;
  try {
    user = await api(`${API}/whoami`, { key });
  } catch (err) {
    store.set(KEY_STORAGE, null);
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
  store.set(KEY_STORAGE, key);
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
  store.set(KEY_STORAGE, null);
  player.unload();
  voiceRating.unload();
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
  els.progressText.textContent = progressText(done, total);
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
  player.unload();
  voiceRating.unload();
  els.item.hidden = true;
  els.empty.textContent = text;
  els.empty.hidden = false;
}

els.batchSelect.addEventListener("change", () => {
  clearError();
  loadBatch(Number(els.batchSelect.value));
});

// ---- one item -------------------------------------------------------------------------

async function showItem(index) {
  if (index < 0 || index >= state.items.length) return;
  const seq = ++state.seq;
  state.index = index;
  state.detail = null;
  const summary = state.items[index];
  els.empty.hidden = true;
  els.item.hidden = false;
  els.item.setAttribute("aria-busy", "true");
  view.position(index, state.items.length);
  view.summary(summary);
  editor.leave();
  setDecisionsEnabled(false);
  player.unload();
  voiceRating.unload();
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
  view.detail(detail);
  setDecisionsEnabled(detail.status !== "rejected");
  els.item.removeAttribute("aria-busy");
  player.load(detail, () => seq === state.seq);
  voiceRating.load(detail, () => seq === state.seq);
}

/** The detail could not be read (e.g. a rejected item whose capture is gone). */
function renderMissing(summary, err) {
  if (err instanceof ApiError && err.status === 401) {
    failed(err, "load the item");
    return;
  }
  view.blank();
  setDecisionsEnabled(false);
  if (summary.status === "rejected") {
    player.note("Rejected: the recording and transcript were deleted.");
  } else {
    failed(err, `load item ${summary.id}`);
    player.note("The item could not be loaded.");
  }
}

function setDecisionsEnabled(enabled) {
  view.enableDecisions(enabled, state.busy);
}

// ---- decisions and moving around -------------------------------------------------------

function setBusy(busy) {
  state.busy = busy;
  view.showBusy(busy, !state.detail || state.detail.status === "rejected");
}

async function decide(decision, extra) {
  const summary = state.items[state.index] || null;
  if (!summary || !state.detail || state.busy) return;
  if (state.detail.status === "rejected") {
    showError("This item was rejected; its capture is gone.");
    return;
  }
  const position = state.index + 1;
  editor.leave();
  setBusy(true);
  try {
    const body = { decision, tags: view.checkedTags(), ...extra };
    const result = await api(`${API}/review/items/${summary.id}/decision`, { method: "POST", body });
    clearError();
    const item = (result && result.item) || { ...summary, status: DONE_WORDS[decision] };
    state.items[state.index] = { ...summary, status: item.status };
    state.detail = { ...state.detail, ...item };
    view.summary(state.items[state.index]);
    if (decision === "reject") {
      // The capture is gone, and with it every item of that turn.
      state.items = state.items.filter((i) => i.turn_id !== summary.turn_id);
    }
    try {
      state.items = await fetchItems(state.batchId); // what others decided meanwhile too
    } catch (err) {
      failed(err, "refresh the batch's items");
    }
    const batch = await refreshBatch();
    const moved = await goToNextPending(summary.id);
    const done = batch && batch.total > 0 && batch.done >= batch.total ? " The batch is complete." : "";
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

/** Shows the next pending item after item ``afterId``; false when none is left. */
async function goToNextPending(afterId) {
  const next = nextPending(state.items, afterId);
  if (next === null) {
    showEmpty("No items left in this batch: the rejected ones were deleted.");
    return false;
  }
  await showItem(next.index);
  return next.pending;
}

function approve() {
  decide("approve", {});
}

function correct() {
  if (!state.detail) return;
  const text = editor.text().replace(/\s+/g, " ").trim();
  if (!text) {
    showError("The corrected transcript is empty. Type what was said, or reject the item.");
    els.editor.focus();
    return;
  }
  if (!editor.isEdited()) {
    showError("Edit the transcript first (or press Approve to accept it as it is).");
    els.editor.focus();
    return;
  }
  decide("correct", { transcript: text });
}

function redact() {
  if (!state.detail) return;
  const spans = editor.redactSpans();
  if (spans) decide("redact", { spans });
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

installShortcuts(document, {
  enabled: () => Boolean(state.user) && !els.review.hidden && !els.rejectDialog.open,
  itemShown: () => !els.item.hidden,
  actions: {
    play: player.togglePlay,
    approve,
    correct,
    redact,
    reject: askReject,
    mark: editor.markSelection,
    next: () => move(1),
    previous: () => move(-1),
    loop: player.toggleLoop,
    slower: () => player.stepSpeed(-1),
    faster: () => player.stepSpeed(1),
    edit: () => editor.enter(null),
  },
});

// ---- statistics -----------------------------------------------------------------------

els.stats.addEventListener("toggle", () => {
  if (els.stats.open && state.user) {
    loadStats(els.statsBody, {
      call: (path) => api(`${API}${path}`),
      forbidden: (err) => err instanceof ApiError && err.status === 403,
      failed,
    });
  }
});

// ---- first load -----------------------------------------------------------------------

setStatus("", "idle");
const saved = store.get(KEY_STORAGE);
if (saved) logIn(saved, true);
else showLogin();
