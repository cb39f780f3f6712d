// The review page's offsets (api/static/review-offsets.js): code points on the API's side
// (Python's str indices, as review/decisions.py checks them), UTF-16 units on the DOM's.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  codePointLength,
  isValidSpan,
  locate,
  merged,
  spansFromServer,
  spansToServer,
  toCodePoints,
  toUnits,
  trimmed,
  unitSpans,
} from "../../api/static/review-offsets.js";

const PIZZA = "I love 🍕, my name is John Smith";
const TEXTS = [
  "",
  "plain ascii",
  "café au lait, José", // precomposed accents: one unit per code point
  "cafe\u0301 Jose\u0301", // combining accents: two code points, two units
  "🍕🍕 two pizzas",
  "👍🏽 skin tone, 👨‍👩‍👧 family, 🇫🇷 flag",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and 中文 and 𠀀",
  PIZZA,
];

/** Python's text[start:end] for code point offsets. */
function pySlice(text, start, end) {
  return [...text].slice(start, end).join("");
}

describe("code points and UTF-16 units", () => {
  test("codePointLength is Python's len()", () => {
    assert.equal(codePointLength(""), 0);
    assert.equal(codePointLength("abc"), 3);
    assert.equal(codePointLength("é"), 1);
    assert.equal(codePointLength("e\u0301"), 2);
    assert.equal(codePointLength("🍕"), 1);
    assert.equal("🍕".length, 2);
    assert.equal(codePointLength("👨‍👩‍👧"), 5); // three people and two zero-width joiners
    assert.equal(codePointLength("\ud83d"), 1); // a lone surrogate counts as one, as in Python
    for (const text of TEXTS) assert.equal(codePointLength(text), [...text].length, text);
  });

  test("every code point boundary converts both ways", () => {
    for (const text of TEXTS) {
      let unit = 0;
      [...text].forEach((char, point) => {
        assert.equal(toUnits(text, point), unit, `${text} @${point}`);
        assert.equal(toCodePoints(text, unit), point, `${text} @${unit}`);
        unit += char.length;
      });
      const length = codePointLength(text);
      assert.equal(toUnits(text, length), text.length);
      assert.equal(toCodePoints(text, text.length), length);
    }
  });

  test("an offset inside a surrogate pair never cuts the character", () => {
    const text = "a🍕b"; // units: a, high, low, b
    assert.equal(toCodePoints(text, 2), 1); // a start moves back to the pizza
    assert.equal(toCodePoints(text, 2, { end: true }), 2); // an end moves past it
    assert.equal(toCodePoints(text, 1, { end: true }), 1); // a boundary stays put
  });

  test("offsets beyond the text are clamped", () => {
    assert.equal(toCodePoints("a🍕", 99), 2);
    assert.equal(toCodePoints("a🍕", -3), 0);
    assert.equal(toUnits("a🍕", 99), 3);
  });
});

describe("spans from the API", () => {
  test("a span after an emoji marks the same words Python's slice does", () => {
    const start = [...PIZZA].indexOf("J");
    const span = { start, end: start + "John Smith".length, type: "PERSON" };
    assert.equal(pySlice(PIZZA, span.start, span.end), "John Smith");
    const [shown] = spansFromServer([span], PIZZA);
    assert.equal(PIZZA.slice(shown.start, shown.end), "John Smith");
    assert.equal(shown.type, "PERSON");
    // Read as UTF-16 offsets (what the page did before), the span is off by the emoji.
    assert.equal(PIZZA.slice(span.start, span.end), " John Smit");
  });

  test("spans that review/decisions.py would refuse are left out", () => {
    const text = "🍕ab"; // 3 code points, 4 units
    const spans = [
      { start: 0, end: 4 }, // fits the units, not the code points
      { start: -1, end: 2 },
      { start: 2, end: 2 },
      { start: 2, end: 1 },
      { start: 0.5, end: 2 },
      { start: "0", end: 2 },
      null,
      { start: 1, end: 3, type: "PERSON" },
    ];
    assert.deepEqual(unitSpans(spans, text), [{ start: 2, end: 4, type: "PERSON" }]);
    assert.deepEqual(spansFromServer(undefined, text), []);
  });

  test("shown spans are sorted and do not overlap; the longer of two starting together wins", () => {
    const text = "aaaa bbbb cccc";
    const spans = [
      { start: 10, end: 14, type: "C" },
      { start: 0, end: 4, type: "A" },
      { start: 0, end: 9, type: "AB" },
      { start: 5, end: 9, type: "B" },
    ];
    assert.deepEqual(
      spansFromServer(spans, text).map((s) => s.type),
      ["AB", "C"],
    );
  });
});

describe("spans to the API", () => {
  test("a selection after emoji becomes the code points of the same words", () => {
    for (const text of TEXTS) {
      for (const word of text.split(/\s+/).filter(Boolean)) {
        const start = text.indexOf(word);
        const [span] = spansToServer([{ start, end: start + word.length }], text);
        assert.equal(pySlice(text, span.start, span.end), word, `${word} in ${text}`);
        assert.ok(isValidSpan(span, text), `${word} in ${text}`);
      }
    }
  });

  test("a range that is exactly a flagged span keeps its type", () => {
    assert.equal(pySlice(PIZZA, 21, 31), "John Smith");
    const flagged = spansFromServer([{ start: 21, end: 31, type: "PERSON" }], PIZZA);
    const range = { start: flagged[0].start, end: flagged[0].end };
    assert.deepEqual(range, { start: 22, end: 32 }); // the pizza is two units
    assert.deepEqual(spansToServer([range], PIZZA, flagged), [{ start: 21, end: 31, type: "PERSON" }]);
    assert.deepEqual(spansToServer([{ start: range.start, end: range.end - 1 }], PIZZA, flagged), [
      { start: 21, end: 30 },
    ]);
    const odd = [{ ...range, type: "not a type" }];
    assert.deepEqual(spansToServer([range], PIZZA, odd), [{ start: 21, end: 31 }]);
  });
});

describe("isValidSpan mirrors review/decisions.py", () => {
  test("0 <= start < end <= len(text), whole numbers, an optional type of capitals", () => {
    const text = "🍕ab";
    assert.ok(isValidSpan({ start: 0, end: 3 }, text));
    assert.ok(isValidSpan({ start: 0, end: 1, type: "FOOD_ITEM" }, text));
    assert.ok(!isValidSpan({ start: 0, end: 4 }, text));
    assert.ok(!isValidSpan({ start: -1, end: 1 }, text));
    assert.ok(!isValidSpan({ start: 1, end: 1 }, text));
    assert.ok(!isValidSpan({ start: 0, end: 1.5 }, text));
    assert.ok(!isValidSpan({ start: 0, end: 1, type: "food" }, text));
    assert.ok(!isValidSpan({ start: 0, end: 1, type: "A".repeat(33) }, text));
    assert.ok(!isValidSpan(null, text));
  });
});

describe("ranges", () => {
  test("merged joins overlaps and neighbours, sorted, without changing its input", () => {
    const input = [
      { start: 8, end: 10 },
      { start: 0, end: 3 },
      { start: 3, end: 5 },
      { start: 9, end: 12 },
      { start: 20, end: 21 },
    ];
    const before = JSON.stringify(input);
    assert.deepEqual(merged(input), [
      { start: 0, end: 5 },
      { start: 8, end: 12 },
      { start: 20, end: 21 },
    ]);
    assert.equal(JSON.stringify(input), before);
    assert.deepEqual(merged([]), []);
  });

  test("trimmed drops edge whitespace, and answers null for nothing but whitespace", () => {
    const text = "say  John\u00a0 now";
    assert.deepEqual(trimmed(text, 3, 11), { start: 5, end: 9 });
    assert.deepEqual(trimmed(text, 3, 5), null);
    assert.deepEqual(trimmed("🍕 x", 0, 3), { start: 0, end: 2 });
  });

  test("locate finds offsets in a text split into nodes", () => {
    // "my name is " | "John Smith" | " ok": a boundary is the end of the first node.
    const lengths = [11, 10, 3];
    assert.deepEqual(locate(lengths, 11, 21), { start: [0, 11], end: [1, 10] });
    assert.deepEqual(locate(lengths, 12, 22), { start: [1, 1], end: [2, 1] });
    assert.deepEqual(locate(lengths, 0, 0), { start: [0, 0], end: [0, 0] });
    assert.deepEqual(locate(lengths, 24, 24), { start: [2, 3], end: [2, 3] });
    assert.equal(locate(lengths, 20, 25), null);
    assert.equal(locate([], 0, 0), null);
  });
});
