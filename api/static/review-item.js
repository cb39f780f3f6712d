/* How the review page shows one item: its facts, transcript, answer, tags and history. */

import { element } from "./common.js";
import { REASONS, formatDate, words } from "./review-format.js";

/** The item's part of the page (``els``), its transcript drawn by ``editor``. */
export function createItemView(els, editor) {
  const decisionButtons = [els.approve, els.correct, els.redact, els.reject, els.mark];

  /** What a list entry has too: reason, status, turn, when it was flagged. */
  function summary(item) {
    els.reason.textContent = REASONS[item.reason] || words(item.reason);
    els.reason.dataset.reason = item.reason;
    els.itemStatus.textContent = words(item.status);
    els.itemStatus.dataset.status = item.status;
    els.turn.textContent = item.turn_id;
    els.created.textContent = formatDate(item.created_at);
  }

  /** Item ``index`` (from 0) of ``count``, with Previous and Next where there is one. */
  function position(index, count) {
    els.position.textContent = String(index + 1);
    els.count.textContent = String(count);
    els.prev.disabled = index === 0;
    els.next.disabled = index === count - 1;
  }

  function history(decisions) {
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

  function setTags(tags) {
    els.tags.forEach((box) => (box.checked = tags.includes(box.value)));
  }

  /** The error tags ticked. */
  function checkedTags() {
    return els.tags.filter((box) => box.checked).map((box) => box.value);
  }

  /** Everything of an item's detail (GET /v1/admin/review/items/{id}). */
  function detail(item) {
    summary(item);
    const rejected = item.status === "rejected";
    editor.render(item.transcript || "", rejected ? [] : item.spans || []);
    editor.setEditable(!rejected);
    els.response.textContent = item.response || "";
    els.labelLine.hidden = !item.label;
    els.labelText.textContent = item.label || "";
    setTags(item.tags || []);
    history(item.decisions || []);
    els.metadata.textContent = JSON.stringify(item.metadata || {}, null, 2);
  }

  /** Nothing of the detail: it could not be read. */
  function blank() {
    editor.render("", []);
    editor.setEditable(false);
    els.response.textContent = "";
    els.labelLine.hidden = true;
    els.history.replaceChildren();
    els.historyCount.textContent = "";
    els.metadata.textContent = "";
    setTags([]);
  }

  function enableDecisions(enabled, busy) {
    for (const button of decisionButtons) button.disabled = !enabled || busy;
    els.tags.forEach((box) => (box.disabled = !enabled));
  }

  /** While a decision is on its way: the buttons are off (and stay off for a rejected item). */
  function showBusy(busy, rejected) {
    els.item.classList.toggle("busy", busy);
    for (const button of decisionButtons) button.disabled = busy || rejected;
  }

  return { summary, position, detail, blank, enableDecisions, showBusy, checkedTags };
}
