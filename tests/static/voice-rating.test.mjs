// The review page's voice-rating summary line (the control itself: tests/learning's browser test).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ratingSummary } from "../../api/static/review-voice.js";

test("a voice nobody rated says so", () => {
  assert.equal(ratingSummary([], "friendly"), "No rating of the friendly voice yet.");
  const other = [{ voice: "technical", score: 2, reviewer: "rita" }];
  assert.equal(ratingSummary(other, "friendly"), "No rating of the friendly voice yet.");
});

test("the mean of the voice's ratings, one decimal, with the count", () => {
  const ratings = [
    { voice: "friendly", score: 4, reviewer: "rita" },
    { voice: "friendly", score: 5, reviewer: "sam" },
    { voice: "technical", score: 1, reviewer: "sam" },
  ];
  assert.equal(ratingSummary(ratings, "friendly"), "2 reviewers rated the friendly voice: mean 4.5 of 5.");
  assert.equal(ratingSummary(ratings, "technical"), "1 reviewer rated the technical voice: mean 1.0 of 5.");
});
