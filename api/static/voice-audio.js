/*
 * The voice page's sound: the microphone through an AudioWorklet (pcm-worklet.js: 16 kHz
 * PCM16, 40 ms frames), and the answer's PCM16 chunks played gaplessly, one AudioBuffer
 * scheduled after the other.
 */

const FRAME_MS = 40;
const TARGET_RATE = 16000;
const PLAYBACK_MARGIN_S = 0.08; // lead given to a chunk that would start in the past

let audioContext = null;
let workletLoaded = null;
let mic = null; // {stream, source, node, sink}
const playback = { sampleRate: 0, nextStartTime: 0, sources: new Set(), output: null };

/** The page's AudioContext, made (and resumed) in a click so that audio may play. */
export function ensureAudioContext() {
  if (!audioContext) {
    const Context = window.AudioContext || window.webkitAudioContext;
    audioContext = new Context({ latencyHint: "interactive" });
    playback.output = audioContext.createGain();
    playback.output.connect(audioContext.destination);
  }
  if (audioContext.state === "suspended") audioContext.resume();
  return audioContext;
}

/** Opens the microphone; ``onFrame(ArrayBuffer)`` gets each 40 ms frame of PCM16 at 16 kHz. */
export async function openMic(onFrame) {
  const ctx = ensureAudioContext();
  if (!workletLoaded) workletLoaded = ctx.audioWorklet.addModule("/static/pcm-worklet.js");
  await workletLoaded;
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: {
      // Echo cancellation keeps the answer's own sound from interrupting it. Noise
      // suppression and auto gain stay off: they squash quiet speech after a pause below
      // what the server's voice detection hears (JFK's "ask not" was lost with them on).
      echoCancellation: true,
      noiseSuppression: false,
      autoGainControl: false,
      channelCount: { ideal: 1 },
    },
  });
  const source = ctx.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(ctx, "pcm-downsampler", {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    outputChannelCount: [1],
    processorOptions: { targetRate: TARGET_RATE, frameMs: FRAME_MS },
  });
  // The worklet's output is silence; routing it through a muted gain keeps it pulled.
  const sink = ctx.createGain();
  sink.gain.value = 0;
  node.port.onmessage = (event) => onFrame(event.data);
  source.connect(node);
  node.connect(sink);
  sink.connect(ctx.destination);
  mic = { stream, source, node, sink };
}

export function closeMic() {
  if (!mic) return;
  mic.node.port.onmessage = null;
  mic.node.port.postMessage("stop");
  mic.source.disconnect();
  mic.node.disconnect();
  mic.sink.disconnect();
  mic.stream.getTracks().forEach((track) => track.stop());
  mic = null;
}

/** The sample rate of the chunks to come (the server's ``audio_start``). */
export function setPlaybackRate(sampleRate) {
  playback.sampleRate = sampleRate;
}

/** Schedules a chunk of PCM16 (little-endian) right after the previous one. */
export function playChunk(buffer) {
  if (!audioContext || !playback.sampleRate) return;
  const samples = buffer.byteLength >> 1;
  if (samples === 0) return;
  const view = new DataView(buffer);
  const audio = audioContext.createBuffer(1, samples, playback.sampleRate);
  const channel = audio.getChannelData(0);
  for (let i = 0; i < samples; i++) channel[i] = view.getInt16(i * 2, true) / 32768;
  const source = audioContext.createBufferSource();
  source.buffer = audio;
  source.connect(playback.output);
  const startAt = Math.max(playback.nextStartTime, audioContext.currentTime + PLAYBACK_MARGIN_S);
  source.start(startAt);
  playback.nextStartTime = startAt + audio.duration;
  playback.sources.add(source);
  source.onended = () => playback.sources.delete(source);
  window.voiceDebug.audioChunksPlayed += 1;
}

/** Stops what is playing and drops what is scheduled (an interruption). */
export function stopPlayback() {
  for (const source of playback.sources) {
    source.onended = null;
    try {
      source.stop();
    } catch (_) {
      /* not started yet in some engines */
    }
    source.disconnect();
  }
  playback.sources.clear();
  playback.nextStartTime = 0;
}
