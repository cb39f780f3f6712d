/*
 * The review page's recording: fetched with the reviewer's key (so it cannot be a plain
 * <audio src>), played from a blob: URL, with seek, speed and loop.
 */

import { formatTime } from "./review-format.js";

export const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];

/** The speed one step ``direction`` (+1, -1) from ``speed``, within SPEEDS (1× if unknown). */
export function nextSpeed(speed, direction) {
  const now = SPEEDS.indexOf(speed);
  return SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, (now < 0 ? 2 : now) + direction))];
}

/**
 * The player over the page's elements (audio, play, seek, time, speed, loop, audioNote).
 * ``fetchAudio(url)`` answers a Blob or throws an ApiError; ``gone(err)`` tells a missing
 * recording from a failure; ``failed(err)`` reports one; ``say(text)`` shows a status line
 * and ``showError(text)`` an alert.
 */
export function createPlayer(els, { fetchAudio, gone, failed, say, showError }) {
  let url = null;

  function note(text) {
    els.audioNote.textContent = text || "";
    els.audioNote.hidden = !text;
  }

  function showPlayState() {
    const playing = !els.audio.paused && !els.audio.ended;
    els.play.textContent = playing ? "Pause" : "Play";
    els.play.classList.toggle("playing", playing);
  }

  function showTime() {
    const duration = Number.isFinite(els.audio.duration) ? els.audio.duration : 0;
    const position = els.audio.currentTime || 0;
    els.time.textContent = `${formatTime(position)} / ${formatTime(duration)}`;
    els.seek.max = String(duration);
    els.seek.value = String(Math.min(position, duration));
    els.seek.setAttribute("aria-valuetext", `${formatTime(position)} of ${formatTime(duration)}`);
  }

  function applySpeed() {
    const speed = Number(els.speed.value) || 1;
    els.audio.defaultPlaybackRate = speed;
    els.audio.playbackRate = speed;
  }

  function unload() {
    els.audio.pause();
    els.audio.removeAttribute("src");
    els.audio.load();
    if (url) URL.revokeObjectURL(url);
    url = null;
    els.play.disabled = true;
    els.seek.disabled = true;
    els.seek.max = "0";
    els.seek.value = "0";
    showPlayState();
    showTime();
    note("");
  }

  /** Loads an item's recording; ``isCurrent()`` false drops an answer for another item. */
  async function load(detail, isCurrent) {
    if (detail.status === "rejected") {
      note("Rejected: the recording was deleted.");
      return;
    }
    if (!detail.audio_url) {
      note("This item has no recording.");
      return;
    }
    note("Loading the recording…");
    let blob;
    try {
      blob = await fetchAudio(detail.audio_url);
    } catch (err) {
      if (!isCurrent()) return;
      if (gone(err)) note("The recording is gone.");
      else {
        note("The recording could not be loaded.");
        failed(err, "load the recording");
      }
      return;
    }
    if (!isCurrent()) return;
    url = URL.createObjectURL(blob);
    els.audio.src = url;
    applySpeed();
    els.audio.loop = els.loop.checked;
    els.play.disabled = false;
    els.seek.disabled = false;
    note("");
  }

  function togglePlay() {
    if (!url) return;
    if (els.audio.paused || els.audio.ended) {
      els.audio.play().catch((err) => {
        if (err && err.name === "AbortError") return; // another item was shown meanwhile
        showError(`The recording could not be played: ${(err && err.message) || err}.`);
      });
    } else {
      els.audio.pause();
    }
  }

  function stepSpeed(direction) {
    const next = nextSpeed(Number(els.speed.value), direction);
    els.speed.value = String(next);
    applySpeed();
    say(`Speed ${next}×`);
  }

  function toggleLoop() {
    els.loop.checked = !els.loop.checked;
    els.audio.loop = els.loop.checked;
    say(`Loop ${els.loop.checked ? "on" : "off"}.`);
  }

  els.play.addEventListener("click", togglePlay);
  els.audio.addEventListener("play", showPlayState);
  els.audio.addEventListener("pause", showPlayState);
  els.audio.addEventListener("ended", showPlayState);
  els.audio.addEventListener("timeupdate", showTime);
  els.audio.addEventListener("durationchange", showTime);
  els.audio.addEventListener("loadedmetadata", () => {
    applySpeed();
    showTime();
  });
  els.audio.addEventListener("error", () => {
    if (url) note("This browser could not decode the recording.");
  });
  els.seek.addEventListener("input", () => {
    const to = Number(els.seek.value);
    if (Number.isFinite(to)) els.audio.currentTime = to;
  });
  els.speed.addEventListener("change", applySpeed);
  els.loop.addEventListener("change", () => (els.audio.loop = els.loop.checked));

  return { load, unload, note, togglePlay, stepSpeed, toggleLoop };
}
