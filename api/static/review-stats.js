/* The review page's statistics panel (GET /v1/admin/stats: admin keys only). */

import { element } from "./common.js";
import { words } from "./review-format.js";

/** Fills ``body`` with the statistics; ``call(path)`` is the API; ``failed`` reports errors. */
export async function loadStats(body, { call, forbidden, failed }) {
  body.replaceChildren(element("p", "hint", "Loading…"));
  let stats;
  try {
    stats = await call("/stats");
  } catch (err) {
    if (forbidden(err)) {
      body.replaceChildren(element("p", "hint", "Statistics need an admin key."));
    } else {
      body.replaceChildren(element("p", "hint", "Statistics could not be loaded."));
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
  body.replaceChildren(list);
}
