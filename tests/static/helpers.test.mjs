// The pure helpers of both pages: formatting, the API client's errors, shortcuts, speeds,
// storage. (The DOM parts are covered by the browser tests in tests/api/.)
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";

import { storage } from "../../api/static/common.js";
import { ApiError, errorOf, failureText, request } from "../../api/static/review-api.js";
import {
  batchLabel,
  formatDate,
  formatTime,
  nextPending,
  parseDate,
  progressText,
  words,
} from "../../api/static/review-format.js";
import { nextSpeed, SPEEDS } from "../../api/static/review-player.js";
import { DECISIONS, shortcutFor } from "../../api/static/review-shortcuts.js";

describe("format", () => {
  test("a timestamp without a zone (SQLite's) is UTC", () => {
    const utc = Date.UTC(2026, 0, 5, 10, 30);
    assert.equal(parseDate("2026-01-05T10:30:00").getTime(), utc);
    assert.equal(parseDate("2026-01-05T10:30:00Z").getTime(), utc);
    assert.equal(parseDate("2026-01-05T12:30:00+02:00").getTime(), utc);
    assert.equal(parseDate("2026-01-05T12:30:00+0200").getTime(), utc);
    assert.ok(Number.isNaN(parseDate("not a date").getTime()));
  });

  test("formatDate keeps what it cannot read, and shows nothing for nothing", () => {
    assert.equal(formatDate(""), "");
    assert.equal(formatDate(null), "");
    assert.equal(formatDate("yesterday-ish"), "yesterday-ish");
    assert.match(formatDate("2026-01-05T10:30:00"), /2026/);
  });

  test("formatTime is m:ss.s, and 0 for what is not a time", () => {
    assert.equal(formatTime(0), "0:00.0");
    assert.equal(formatTime(3.25), "0:03.3");
    assert.equal(formatTime(61.04), "1:01.0");
    assert.equal(formatTime(600), "10:00.0");
    assert.equal(formatTime(NaN), "0:00.0");
    assert.equal(formatTime(Infinity), "0:00.0");
    assert.equal(formatTime(-2), "0:00.0");
  });

  test("words, batch labels and progress", () => {
    assert.equal(words("thumbs_down"), "thumbs down");
    assert.equal(words(undefined), "");
    assert.match(batchLabel({ id: 4, created_at: "2026-01-05T10:30:00", done: 2, total: 9 }), /^Batch 4 · .*2026.* · 2\/9 done$/);
    assert.equal(batchLabel({ id: 4, created_at: "garbage", done: 0, total: 1 }), "Batch 4 · garbage · 0/1 done");
    assert.equal(progressText(0, 0), "0 of 0 reviewed");
    assert.equal(progressText(2, 3), "2 of 3 reviewed");
    assert.equal(progressText(3, 3), "3 of 3 reviewed — complete");
  });

  test("nextPending: the next pending item, else the first, else where the decided one was", () => {
    const items = (statuses) => statuses.map((status, i) => ({ id: (i + 1) * 10, status }));
    assert.equal(nextPending([], 10), null);
    assert.deepEqual(nextPending(items(["approved", "pending", "pending"]), 20), { index: 2, pending: true });
    assert.deepEqual(nextPending(items(["pending", "approved", "approved"]), 20), { index: 0, pending: true });
    assert.deepEqual(nextPending(items(["approved", "approved"]), 20), { index: 1, pending: false });
    // Item 20 was rejected and is gone: its neighbour takes its place, or the last one.
    assert.deepEqual(nextPending([{ id: 10, status: "approved" }, { id: 30, status: "approved" }], 20), {
      index: 1,
      pending: false,
    });
    assert.deepEqual(nextPending([{ id: 10, status: "approved" }], 20), { index: 0, pending: false });
  });
});

describe("the API client", () => {
  test("errorOf reads the service's error shape, FastAPI's detail, or the status line", () => {
    const shaped = errorOf(404, "Not Found", { error: { code: "not_found", message: "no item 7" } });
    assert.ok(shaped instanceof ApiError);
    assert.deepEqual([shaped.status, shaped.code, shaped.message], [404, "not_found", "no item 7"]);
    const detail = errorOf(422, "Unprocessable", { detail: [{ msg: "bad" }] });
    assert.deepEqual([detail.code, detail.message], ["http_422", '[{"msg":"bad"}]']);
    const bare = errorOf(502, "", null);
    assert.deepEqual([bare.code, bare.message], ["http_502", "HTTP 502"]);
  });

  test("failureText explains the status and names the code", () => {
    assert.equal(
      failureText(new ApiError(403, "forbidden", "admins only"), "load the statistics"),
      "Could not load the statistics: admins only (your key's role may not do this). [forbidden]",
    );
    assert.equal(
      failureText(new ApiError(500, "http_500", "boom"), "approve item 1"),
      "Could not approve item 1: boom. [http_500]",
    );
    assert.equal(failureText(new TypeError("x is null"), "log in"), "Could not log in: x is null.");
  });

  describe("request, against a real HTTP server", () => {
    let server;
    let base;
    const seen = [];

    before(async () => {
      server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
          seen.push({ method: req.method, url: req.url, headers: req.headers, body });
          if (req.url === "/ok") {
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ name: "rita", role: "reviewer" }));
          } else if (req.url === "/denied") {
            res.writeHead(401, { "content-type": "application/json" });
            res.end(JSON.stringify({ error: { code: "unauthorized", message: "no valid API key" } }));
          } else {
            res.writeHead(503, "Service Unavailable", { "content-type": "text/plain" });
            res.end("down");
          }
        });
      });
      await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${server.address().port}`;
    });

    after(() => server.close());

    test("sends the key as a bearer token and JSON bodies; answers the JSON", async () => {
      const answer = await request(`${base}/ok`, { method: "POST", body: { decision: "approve" }, key: "vsk_1" });
      assert.deepEqual(answer, { name: "rita", role: "reviewer" });
      const last = seen[seen.length - 1];
      assert.equal(last.method, "POST");
      assert.equal(last.headers.authorization, "Bearer vsk_1");
      assert.equal(last.headers["content-type"], "application/json");
      assert.deepEqual(JSON.parse(last.body), { decision: "approve" });
      const raw = await request(`${base}/ok`, { key: "vsk_1", raw: true });
      assert.equal(raw.status, 200);
    });

    test("a refusal is an ApiError with the service's code; a non-JSON one keeps the status", async () => {
      await assert.rejects(request(`${base}/denied`, { key: "bad" }), { status: 401, code: "unauthorized" });
      await assert.rejects(request(`${base}/down`, { key: "k" }), {
        status: 503,
        code: "http_503",
        message: "Service Unavailable",
      });
    });

    test("an unreachable server is a network error", async () => {
      const closed = http.createServer();
      await new Promise((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const port = closed.address().port;
      await new Promise((resolve) => closed.close(resolve));
      await assert.rejects(request(`http://127.0.0.1:${port}/x`, { key: "k" }), {
        status: 0,
        code: "network",
      });
    });
  });
});

describe("shortcuts and speeds", () => {
  test("each key's action", () => {
    const expected = {
      a: "approve", A: "approve", c: "correct", r: "redact", x: "reject", m: "mark",
      j: "next", ArrowRight: "next", k: "previous", ArrowLeft: "previous", l: "loop",
      "-": "slower", "+": "faster", "=": "faster", e: "edit", " ": "play", Spacebar: "play",
    };
    for (const [key, action] of Object.entries(expected)) assert.equal(shortcutFor(key), action, key);
    for (const key of ["q", "Enter", "Escape", "Tab", "F2", "ArrowUp", "1"]) assert.equal(shortcutFor(key), null, key);
    assert.deepEqual([...DECISIONS].sort(), ["approve", "correct", "redact", "reject"]);
  });

  test("speeds step within 0.5× to 2×, from 1× when unknown", () => {
    assert.equal(nextSpeed(1, 1), 1.25);
    assert.equal(nextSpeed(1, -1), 0.75);
    assert.equal(nextSpeed(2, 1), 2);
    assert.equal(nextSpeed(0.5, -1), 0.5);
    assert.equal(nextSpeed(3, 1), 1.25);
    assert.deepEqual([SPEEDS[0], SPEEDS[SPEEDS.length - 1]], [0.5, 2]);
  });
});

describe("storage", () => {
  test("gets and sets, and null removes", () => {
    const map = new Map();
    const area = {
      getItem: (k) => (map.has(k) ? map.get(k) : null),
      setItem: (k, v) => map.set(k, String(v)),
      removeItem: (k) => map.delete(k),
    };
    const store = storage("sessionStorage", { sessionStorage: area });
    assert.equal(store.get("key"), null);
    store.set("key", "vsk_1");
    assert.equal(store.get("key"), "vsk_1");
    store.set("key", null);
    assert.equal(map.has("key"), false);
  });

  test("disabled storage (access throws) reads as empty and ignores writes", () => {
    const scope = {};
    Object.defineProperty(scope, "localStorage", {
      get() {
        throw new Error("SecurityError: storage is disabled");
      },
    });
    const store = storage("localStorage", scope);
    assert.equal(store.get("voice-consent"), null);
    assert.doesNotThrow(() => store.set("voice-consent", "granted"));
    assert.doesNotThrow(() => store.set("voice-consent", null));
  });
});
