/*
 * The review page's single-key shortcuts. They work anywhere except while typing (the
 * transcript in edit mode, a text field, a select); Space plays unless a control has focus.
 */

/** The action name of a key (``event.key``), or null. */
export function shortcutFor(key) {
  if (key === " " || key === "Spacebar") return "play";
  if (key === "ArrowRight") return "next";
  if (key === "ArrowLeft") return "previous";
  const actions = {
    a: "approve",
    c: "correct",
    r: "redact",
    x: "reject",
    m: "mark",
    j: "next",
    k: "previous",
    l: "loop",
    "-": "slower",
    "+": "faster",
    "=": "faster",
    e: "edit",
  };
  return actions[key.length === 1 ? key.toLowerCase() : key] || null;
}

/** Decisions: a held key (auto-repeat) decides once. */
export const DECISIONS = new Set(["approve", "correct", "redact", "reject"]);

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

/**
 * Listens for the shortcuts on ``doc``. ``enabled()``: the reviewer is logged in and no dialog
 * is open; ``itemShown()``: an item is on screen (all but Space and the arrows need one);
 * ``actions``: a function per action name.
 */
export function installShortcuts(doc, { enabled, itemShown, actions }) {
  doc.addEventListener("keydown", (event) => {
    if (!enabled()) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const target = event.target;
    if (isTyping(target)) return;
    const name = shortcutFor(event.key);
    if (name === "play") {
      if (isControl(target)) return; // Space presses the focused button or box
      event.preventDefault();
      actions.play();
      return;
    }
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      // a slider or a radio group (the voice rating) moves with the arrows itself
      if (target instanceof HTMLInputElement && ["range", "radio"].includes(target.type)) return;
      event.preventDefault();
      actions[name]();
      return;
    }
    if (!name || !itemShown()) return;
    event.preventDefault();
    if (event.repeat && DECISIONS.has(name)) return;
    actions[name]();
  });
}
