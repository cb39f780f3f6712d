/*
 * Helpers both pages use (app.js, the voice page; admin.js, the review page).
 * Nothing here runs on import.
 */

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A new element with a class and text (nothing is set for a missing one). */
export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}

/**
 * A key-value store over ``window[area]`` ("localStorage" or "sessionStorage") that never
 * throws: where storage is disabled, get() answers null and set() does nothing, so a choice
 * lasts for this page only. set(key, null) removes the key.
 */
export function storage(area, scope = globalThis) {
  return {
    get(key) {
      try {
        return scope[area].getItem(key);
      } catch (_) {
        return null;
      }
    },
    set(key, value) {
      try {
        if (value === null) scope[area].removeItem(key);
        else scope[area].setItem(key, value);
      } catch (_) {
        /* storage disabled */
      }
    },
  };
}

/** Shows ``text`` in a status line, its kind (idle, live, error...) as data-state for CSS. */
export function showStatus(el, text, kind) {
  el.textContent = text || "";
  el.dataset.state = kind || "idle";
}
