/*
 * "Rate this answer's voice": the item's answer spoken by the service's TTS in a chosen
 * voice (fetched with the key, played from a blob: URL) and the reviewer's 1-5 rating of it,
 * stored at once (POST /v1/admin/review/items/{id}/voice-rating) like a decision: versioned,
 * the latest per reviewer and voice counting. The report's human MOS is made of these.
 */

import { API } from "./review-api.js";

/** Rows of ``ratings`` (latest per reviewer and voice) for ``voice``: count and mean. */
export function ratingSummary(ratings, voice) {
  const scores = ratings.filter((r) => r.voice === voice).map((r) => r.score);
  if (scores.length === 0) return `No rating of the ${voice} voice yet.`;
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const who = scores.length === 1 ? "1 reviewer" : `${scores.length} reviewers`;
  return `${who} rated the ${voice} voice: mean ${mean.toFixed(1)} of 5.`;
}

/**
 * The control over the page's elements (voiceSection, ratingVoice, playAnswer, answerAudio,
 * ratingLine, scores). ``call(path, options)`` calls the API, ``fetchAudio(path)`` answers a
 * Blob, ``me()`` is the reviewer's name, ``failed(err, doing)`` and ``say(text)`` report.
 */
export function createVoiceRating(els, { call, fetchAudio, me, failed, say }) {
  let itemId = null;
  let isCurrent = () => false;
  let ratings = [];
  let url = null;

  function clearAudio() {
    els.answerAudio.pause();
    els.answerAudio.removeAttribute("src");
    if (url) URL.revokeObjectURL(url);
    url = null;
    els.playAnswer.textContent = "Hear the answer";
  }

  function show(list) {
    ratings = list;
    const voice = els.ratingVoice.value;
    const mine = ratings.find((r) => r.voice === voice && r.reviewer === me());
    els.scores.forEach((box) => (box.checked = mine !== undefined && Number(box.value) === mine.score));
    els.ratingLine.textContent = ratingSummary(ratings, voice);
  }

  function unload() {
    itemId = null;
    clearAudio();
    ratings = [];
    els.voiceSection.hidden = true;
    els.scores.forEach((box) => (box.checked = false));
    els.ratingLine.textContent = "";
  }

  async function load(detail, current) {
    unload();
    if (!detail || detail.status === "rejected" || !detail.response) return;
    itemId = detail.id;
    isCurrent = current;
    els.voiceSection.hidden = false;
    try {
      const data = await call(`${API}/review/items/${itemId}/voice-ratings`);
      if (isCurrent()) show(data.ratings);
    } catch (err) {
      if (isCurrent()) failed(err, "load the voice ratings");
    }
  }

  async function play() {
    if (itemId === null) return;
    if (url) {
      if (els.answerAudio.paused) {
        els.answerAudio.play().catch(() => {});
      } else {
        els.answerAudio.pause();
        els.answerAudio.currentTime = 0; // "Stop": the next listen starts from the beginning
      }
      return;
    }
    const id = itemId;
    const voice = els.ratingVoice.value;
    els.playAnswer.disabled = true;
    say(`Speaking the answer in the ${voice} voice…`);
    try {
      const blob = await fetchAudio(`${API}/review/items/${id}/answer-audio?voice=${voice}`);
      if (id !== itemId || voice !== els.ratingVoice.value) return;
      url = URL.createObjectURL(blob);
      els.answerAudio.src = url;
      await els.answerAudio.play();
      say(`Playing the answer in the ${voice} voice.`);
    } catch (err) {
      if (id === itemId) failed(err, "speak the answer");
    } finally {
      els.playAnswer.disabled = false;
    }
  }

  async function rate(score) {
    if (itemId === null) return;
    const id = itemId;
    const voice = els.ratingVoice.value;
    try {
      const data = await call(`${API}/review/items/${id}/voice-rating`, {
        method: "POST",
        body: { voice, score },
      });
      if (id !== itemId) return;
      show(data.ratings);
      say(`Rated the ${voice} voice ${score} of 5.`);
    } catch (err) {
      if (id === itemId) failed(err, "save the rating");
    }
  }

  els.ratingVoice.addEventListener("change", () => {
    clearAudio();
    show(ratings);
  });
  els.playAnswer.addEventListener("click", play);
  els.answerAudio.addEventListener("play", () => (els.playAnswer.textContent = "Stop the answer"));
  els.answerAudio.addEventListener("pause", () => (els.playAnswer.textContent = "Hear the answer"));
  els.answerAudio.addEventListener("ended", () => (els.playAnswer.textContent = "Hear the answer"));
  els.scores.forEach((box) => box.addEventListener("change", () => box.checked && rate(Number(box.value))));

  return { load, unload };
}
