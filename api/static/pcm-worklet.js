/*
 * Microphone capture for the /v1/voice protocol, in the audio rendering thread.
 *
 * Takes whatever rate the AudioContext runs at (44.1 or 48 kHz, usually), mixes to mono,
 * low-passes below the new Nyquist frequency, downsamples to 16 kHz and posts frames of
 * PCM16 little-endian (40 ms: 640 samples, 1,280 bytes) to the main thread as
 * transferable ArrayBuffers.
 */
"use strict";

class PcmDownsampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    this.outRate = opts.targetRate || 16000;
    const frameMs = opts.frameMs || 40;
    this.frameSamples = Math.round((this.outRate * frameMs) / 1000);
    // `sampleRate` is the AudioContext's rate, a global of the worklet scope.
    this.ratio = sampleRate / this.outRate;
    this.remaining = this.ratio; // input samples still to take into the current output sample
    this.acc = 0;
    this.count = 0;
    this.frame = new DataView(new ArrayBuffer(this.frameSamples * 2));
    this.filled = 0;
    this.active = true;
    this.setupFilter(Math.min(0.45 * this.outRate, 0.45 * sampleRate));
    this.port.onmessage = (event) => {
      if (event.data === "stop") this.active = false;
    };
  }

  /* Two cascaded RBJ low-pass biquads (Butterworth Q): an anti-aliasing filter. */
  setupFilter(cutoff) {
    this.filter = this.ratio > 1;
    if (!this.filter) return;
    const w0 = (2 * Math.PI * cutoff) / sampleRate;
    const alpha = Math.sin(w0) / (2 * Math.SQRT1_2);
    const cos = Math.cos(w0);
    const a0 = 1 + alpha;
    this.b0 = (1 - cos) / 2 / a0;
    this.b1 = (1 - cos) / a0;
    this.b2 = this.b0;
    this.a1 = (-2 * cos) / a0;
    this.a2 = (1 - alpha) / a0;
    this.state = new Float64Array(8); // x1, x2, y1, y2 for each of the two stages
  }

  lowpass(x) {
    const s = this.state;
    for (let stage = 0; stage < 2; stage++) {
      const o = stage * 4;
      const y = this.b0 * x + this.b1 * s[o] + this.b2 * s[o + 1] - this.a1 * s[o + 2] - this.a2 * s[o + 3];
      s[o + 1] = s[o];
      s[o] = x;
      s[o + 3] = s[o + 2];
      s[o + 2] = y;
      x = y;
    }
    return x;
  }

  emit(value) {
    const clipped = Math.max(-1, Math.min(1, value));
    this.frame.setInt16(this.filled * 2, clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff, true);
    this.filled += 1;
    if (this.filled === this.frameSamples) {
      const buffer = this.frame.buffer;
      this.port.postMessage(buffer, [buffer]);
      this.frame = new DataView(new ArrayBuffer(this.frameSamples * 2));
      this.filled = 0;
    }
  }

  process(inputs) {
    if (!this.active) return false;
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const channels = input.length;
    const length = input[0].length;
    for (let i = 0; i < length; i++) {
      let x = 0;
      for (let c = 0; c < channels; c++) x += input[c][i];
      x /= channels;
      if (this.filter) x = this.lowpass(x);
      this.acc += x;
      this.count += 1;
      this.remaining -= 1;
      // Average the input samples that fall in each output sample's span (a box filter).
      while (this.remaining <= 0) {
        this.emit(this.acc / this.count);
        this.remaining += this.ratio;
        if (this.remaining > 0) {
          this.acc = 0;
          this.count = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor("pcm-downsampler", PcmDownsampler);
