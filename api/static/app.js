/*
 * The browser client of the voice service: speaks the /v1/voice protocol (docs/protocol.md).
 *
 * Microphone -> AudioWorklet (pcm-worklet.js: 16 kHz PCM16, 40 ms frames) -> WebSocket.
 * WebSocket -> JSON events (transcripts, answer text, latency) and binary audio, played
 * gaplessly by scheduling one AudioBuffer after the other (voice-audio.js does the sound).
 */
import { $, showStatus, storage } from "./common.js";
import { appendTurn, scrollToLast, showChoice } from "./voice-log.js";
import { closeMic, ensureAudioContext, openMic, playChunk, setPlaybackRate, stopPlayback } from "./voice-audio.js";

window.voiceDebug = { audioChunksPlayed: 0, lastTurnEnd: null };

const CONSENT_KEY = "voice-consent";
const USER_KEY = "voice-user";
const VOICE_KEY = "voice-choice";
const MAX_PENDING_FRAMES = 75; // 3 s of speech kept while the session opens
const { get: storageGet, set: storageSet } = storage("localStorage"); // off: this page only
const els = {
  start: $("start"),
  interrupt: $("interrupt"),
  voice: $("voice"),
  partial: $("partial"),
  log: $("transcript-log"),
  logEmpty: $("log-empty"),
  status: $("status"),
  dialog: $("consent-dialog"),
  allow: $("consent-allow"),
  deny: $("consent-deny"),
  toggle: $("consent-toggle"),
  toggleState: $("consent-state"),
  note: $("consent-note"),
  erase: $("erase-data"),
};

// ---- small helpers ------------------------------------------------------------------

/**
 * This browser's user identifier: random, made on the first visit and kept. Captures are
 * filed under a keyed hash of it, and it is the token that erases them (DELETE /v1/me/data).
 */
function userToken() {
  let token = storageGet(USER_KEY);
  if (!token || !/^[0-9a-f]{32}$/.test(token)) {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    token = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    storageSet(USER_KEY, token);
  }
  return token;
}

async function eraseMyData() {
  try {
    const response = await fetch("/v1/me/data", {
      method: "DELETE",
      headers: { Authorization: `Bearer ${userToken()}` },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return true;
  } catch (err) {
    showNote(`Your data could not be erased just now (${err.message}). Please try again.`);
    return false;
  }
}

function setStatus(text, state) {
  showStatus(els.status, text, state);
}

function socketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/v1/voice`;
}

// ---- consent --------------------------------------------------------------------------

/** true, false, or null when the user has not chosen yet. */
function consent() {
  const value = storageGet(CONSENT_KEY);
  if (value === "granted") return true;
  if (value === "denied") return false;
  return null;
}

function showConsent() {
  const granted = consent() === true;
  els.toggle.checked = granted;
  els.toggleState.textContent = granted ? "on" : "off";
}

function sessionLive() {
  return Boolean(session && session.started && session.ws.readyState === WebSocket.OPEN);
}

function setConsent(granted, announce) {
  const before = consent();
  storageSet(CONSENT_KEY, granted ? "granted" : "denied");
  showConsent();
  if (sessionLive()) {
    send(session, { type: "consent", granted }); // a withdrawal erases on the server
  } else if (!granted && before === true) {
    eraseMyData();
  }
  if (!announce) return;
  if (granted) {
    showNote("Data sharing is on. Thank you: your voice and transcripts from now on help improve the assistant.");
  } else if (before === true) {
    showNote("Data sharing is off. Your recordings and transcripts will be erased, and nothing more will be kept.");
  } else {
    showNote("Data sharing is off. Nothing from your conversations is kept.");
  }
}

function showNote(text) {
  els.note.textContent = text;
  els.note.hidden = false;
}

let consentWaiters = [];

function askConsent() {
  if (!els.dialog.open) {
    if (typeof els.dialog.showModal === "function") els.dialog.showModal();
    else els.dialog.setAttribute("open", "");
  }
  return new Promise((resolve) => consentWaiters.push(resolve));
}

function closeConsent(granted) {
  if (granted !== null) setConsent(granted, true);
  if (els.dialog.open) {
    if (typeof els.dialog.close === "function") els.dialog.close();
    else els.dialog.removeAttribute("open");
  }
  const waiters = consentWaiters;
  consentWaiters = [];
  waiters.forEach((resolve) => resolve(consent()));
}

els.erase.addEventListener("click", async () => {
  storageSet(CONSENT_KEY, "denied");
  showConsent();
  if (sessionLive()) send(session, { type: "consent", granted: false });
  if (await eraseMyData()) {
    showNote("Your recordings and transcripts are being erased. Data sharing is off.");
  }
});

els.allow.addEventListener("click", () => closeConsent(true));
els.deny.addEventListener("click", () => closeConsent(false));
els.dialog.addEventListener("close", () => closeConsent(null)); // Escape: undecided for now
els.toggle.addEventListener("change", () => setConsent(els.toggle.checked, true));

// ---- the session ----------------------------------------------------------------------

let session = null; // {ws, started, ready, pending, closing, lastError, id}
let running = false; // the user pressed Start and has not stopped
let currentTurn = null;
const turns = new Map();

function send(s, message) {
  if (s.ws.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify(message));
}

function sendAudio(frame) {
  const s = session;
  if (!s || s.closing) return;
  if (!s.ready) {
    s.pending.push(frame);
    if (s.pending.length > MAX_PENDING_FRAMES) s.pending.shift();
    return;
  }
  if (s.ws.readyState === WebSocket.OPEN) s.ws.send(frame);
}

function openSession() {
  const s = {
    ws: new WebSocket(socketUrl()),
    started: false,
    ready: false,
    pending: [],
    closing: false,
    lastError: null,
    id: null,
  };
  session = s;
  s.ws.binaryType = "arraybuffer";
  setStatus("Connecting…", "connecting");
  s.ws.addEventListener("open", () => {
    if (session !== s) return;
    send(s, {
      type: "start",
      voice: els.voice.value,
      consent: consent() === true,
      user: userToken(),
    });
    s.started = true;
  });
  s.ws.addEventListener("message", (event) => {
    if (session !== s) return;
    if (typeof event.data === "string") {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      onEvent(s, message);
    } else {
      playChunk(event.data);
    }
  });
  s.ws.addEventListener("close", (event) => onClose(s, event));
  return s;
}

function closeSession() {
  const s = session;
  if (!s) return;
  s.closing = true;
  session = null;
  if (s.ws.readyState === WebSocket.OPEN) {
    send(s, { type: "stop" });
    // The server closes with 1000 after stop; close from here if it does not.
    window.setTimeout(() => s.ws.close(1000), 2000);
  } else {
    s.ws.close();
  }
  els.interrupt.disabled = true;
}

function onClose(s, event) {
  if (session !== s) return; // a session we closed ourselves
  session = null;
  const why = {
    1000: "The session ended.",
    1001: "The server is shutting down.",
    1008: "The server refused the session.",
    1009: "An audio frame was too large.",
    1013: "The service is busy or still loading; try again shortly.",
  }[event.code] || `The connection was lost (code ${event.code}).`;
  const text = s.lastError ? `Error: ${s.lastError} — disconnected.` : `Disconnected. ${why}`;
  setStatus(text, s.lastError || event.code !== 1000 ? "error" : "idle");
  stopRunning(false);
}

async function startRunning() {
  ensureAudioContext(); // inside the click: audio may play
  if (consent() === null) {
    setStatus("Choose whether to share data to go on.", "idle");
    await askConsent();
  }
  running = true;
  setStartButton();
  els.partial.textContent = "";
  openSession();
  try {
    await openMic(sendAudio);
  } catch (error) {
    const denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
    closeSession();
    stopRunning(false);
    setStatus(
      denied
        ? "Error: microphone access was refused. Allow it in the browser's site settings and try again."
        : `Error: the microphone could not be opened (${(error && error.message) || error}).`,
      "error",
    );
    return;
  }
  if (!running) closeMic(); // stopped while the microphone was opening
}

function stopRunning(sendStop) {
  if (sendStop) {
    closeSession();
    setStatus("Stopped.", "idle");
  }
  running = false;
  closeMic();
  stopPlayback();
  els.partial.textContent = "";
  els.interrupt.disabled = true;
  currentTurn = null;
  setStartButton();
}

function setStartButton() {
  els.start.textContent = running ? "Stop" : "Start";
  els.start.setAttribute("aria-pressed", running ? "true" : "false");
  els.start.classList.toggle("recording", running);
}

els.start.addEventListener("click", () => {
  if (running) stopRunning(true);
  else startRunning();
});

els.interrupt.addEventListener("click", () => {
  if (session && session.ready) send(session, { type: "interrupt" });
  stopPlayback();
});

els.voice.addEventListener("change", () => {
  storageSet(VOICE_KEY, els.voice.value);
  if (running && session) {
    // The voice is chosen in `start`: reopen the session, keeping the microphone.
    closeSession();
    stopPlayback();
    currentTurn = null;
    openSession();
  } else {
    setStatus(`Voice set to ${els.voice.value}; it applies when you press Start.`, "idle");
  }
});

// ---- server events --------------------------------------------------------------------

function onEvent(s, event) {
  switch (event.type) {
    case "ready": {
      s.ready = true;
      s.id = event.session_id;
      els.interrupt.disabled = false;
      setStatus(`Listening (voice: ${event.voice}). Speak any time.`, "live");
      const pending = s.pending;
      s.pending = [];
      pending.forEach((frame) => s.ws.send(frame));
      break;
    }
    case "partial_transcript":
      els.partial.textContent = event.text;
      break;
    case "transcript":
      els.partial.textContent = "";
      currentTurn = addTurn(s, event.turn_id, event.text);
      setStatus("Answering…", "live");
      break;
    case "nlu":
      if (currentTurn) currentTurn.el.dataset.intent = event.intent || "";
      break;
    case "response_delta":
      if (currentTurn) {
        currentTurn.answer.textContent += event.text;
        scrollToEnd();
      }
      break;
    case "audio_start":
      setPlaybackRate(event.sample_rate);
      break;
    case "audio_end":
      break;
    case "turn_end": {
      window.voiceDebug.lastTurnEnd = event;
      const turn = turns.get(event.turn_id);
      if (turn) {
        if (event.response) turn.answer.textContent = event.response;
        const ms = event.latency && event.latency.first_audio_ms;
        if (typeof ms === "number") turn.meta.textContent = `First audio after ${Math.round(ms)} ms`;
      }
      if (currentTurn && currentTurn.id === event.turn_id) currentTurn = null;
      setStatus("Listening. Speak any time.", "live");
      break;
    }
    case "interrupted": {
      stopPlayback();
      const turn = turns.get(event.turn_id);
      if (turn) turn.el.classList.add("interrupted");
      if (turn && !turn.meta.textContent) turn.meta.textContent = "Interrupted";
      if (currentTurn && currentTurn.id === event.turn_id) currentTurn = null;
      setStatus("Interrupted. Listening.", "live");
      break;
    }
    case "error":
      s.lastError = event.message || event.code;
      setStatus(`Error: ${event.message || event.code}`, "error");
      break;
    default:
      break;
  }
}

// ---- the conversation log -------------------------------------------------------------

function addTurn(s, turnId, text) {
  els.logEmpty.hidden = true;
  const turn = appendTurn(els.log, { id: turnId, session: s, text, onFeedback: giveFeedback });
  turns.set(turnId, turn);
  return turn;
}

function giveFeedback(turn, value) {
  const s = turn.session;
  if (session !== s || s.ws.readyState !== WebSocket.OPEN) {
    setStatus("Feedback is taken only while the session of that answer is open.", "error");
    return;
  }
  send(s, { type: "feedback", turn_id: turn.id, value });
  showChoice(turn, value);
}

function scrollToEnd() {
  scrollToLast(els.log);
}

// ---- first load -----------------------------------------------------------------------

const savedVoice = storageGet(VOICE_KEY);
if (savedVoice && [...els.voice.options].some((o) => o.value === savedVoice)) {
  els.voice.value = savedVoice;
}
showConsent();
if (!window.isSecureContext || !navigator.mediaDevices || !window.AudioWorkletNode) {
  setStatus("Error: this browser cannot record here (it needs HTTPS or localhost, and AudioWorklet).", "error");
}
if (consent() === null) askConsent();
