/* The voice page's conversation log: one entry per turn, the question, the answer and thumbs. */

import { element } from "./common.js";

const THUMB_PATH =
  "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 " +
  "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23" +
  ".14-.47.14-.73v-2z";

function thumbIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "18");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", THUMB_PATH);
  path.setAttribute("fill", "currentColor");
  svg.appendChild(path);
  return svg;
}

/** Scrolls the log to its last entry. */
export function scrollToLast(log) {
  const last = log.lastElementChild;
  if (last && typeof last.scrollIntoView === "function") {
    last.scrollIntoView({ block: "end", behavior: "smooth" });
  }
}

/**
 * Adds turn ``id`` of session ``session`` to ``log`` with the user's ``text``; the thumbs call
 * ``onFeedback(turn, value)``. Answers ``{id, session, el, answer, meta, choice, buttons}``:
 * the answer and meta elements fill as the turn goes on.
 */
export function appendTurn(log, { id, session, text, onFeedback }) {
  const li = element("li", "turn");
  li.dataset.turnId = id;

  const user = element("div", "bubble user");
  user.appendChild(element("span", "who", "You"));
  user.appendChild(element("p", "user-text", text));

  const assistant = element("div", "bubble assistant");
  assistant.appendChild(element("span", "who", "Assistant"));
  const answer = element("p", "assistant-text");
  assistant.appendChild(answer);

  const footer = element("div", "turn-footer");
  const meta = element("small", "turn-meta");
  const feedback = element("div", "feedback");
  feedback.setAttribute("role", "group");
  feedback.setAttribute("aria-label", "Rate this answer");
  const turn = { id, session, el: li, answer, meta, choice: null, buttons: {} };
  for (const [value, label] of [
    ["thumbs_up", "Good answer"],
    ["thumbs_down", "Bad answer"],
  ]) {
    const button = element("button", `thumb ${value === "thumbs_down" ? "down" : "up"}`);
    button.type = "button";
    button.setAttribute("aria-label", label);
    button.title = label;
    button.setAttribute("aria-pressed", "false");
    button.appendChild(thumbIcon());
    button.addEventListener("click", () => onFeedback(turn, value));
    feedback.appendChild(button);
    turn.buttons[value] = button;
  }
  footer.appendChild(meta);
  footer.appendChild(feedback);
  assistant.appendChild(footer);

  li.appendChild(user);
  li.appendChild(assistant);
  log.appendChild(li);
  scrollToLast(log);
  return turn;
}

/** Shows ``value`` (thumbs_up, thumbs_down) as the turn's chosen thumb. */
export function showChoice(turn, value) {
  turn.choice = value;
  for (const [name, button] of Object.entries(turn.buttons)) {
    const chosen = name === value;
    button.setAttribute("aria-pressed", chosen ? "true" : "false");
    button.classList.toggle("chosen", chosen);
  }
}
