"""Greedy Whisper decoding with a ``transformers`` model: the dev WER during training.

The same rules as faster-whisper without timestamps (beam 1, temperature 0): the forced
prompt, ``suppress_tokens`` at every step, ``begin_suppress_tokens`` at the first, no
timestamp tokens.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from learning.finetune.data import Tokens

MAX_NEW_TOKENS = 120


def extractor_for(model: Any) -> Any:
    """faster-whisper's feature extractor for the model's mel bins (what inference uses)."""
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor(feature_size=model.config.num_mel_bins)


def features(extractor: Any, audio: list[np.ndarray]) -> Any:
    """Log-mel features (batch, mels, 3000) exactly as faster-whisper computes them.

    Its mel of the clip without the last frame, padded with zeros to 30 s: not the mel of
    zero-padded audio that transformers' extractor makes. Training on the features inference
    sees keeps a fine-tune's gains, and greedy decoding then matches faster-whisper's.
    """
    import torch
    from faster_whisper.audio import pad_or_trim

    batch = []
    for clip in audio:
        mel = extractor(clip)
        batch.append(pad_or_trim(mel[:, : mel.shape[-1] - 1]))
    return torch.from_numpy(np.stack(batch).astype(np.float32))


def greedy(model: Any, encoder_states: Any, tokens: Tokens) -> list[str]:
    """Transcripts of a batch whose encoder outputs are ``encoder_states``.

    The suppressed tokens come from the model's generation config (its ``config`` as well
    in older checkpoints).
    """
    import torch

    generation, config = model.generation_config, model.config

    batch = encoder_states.shape[0]
    prefix = torch.tensor([tokens.prefix] * batch)
    generated = prefix
    done = torch.zeros(batch, dtype=torch.bool)
    suppress = list(_setting(generation, config, "suppress_tokens"))
    begin = list(_setting(generation, config, "begin_suppress_tokens"))
    timestamps = slice(tokens.no_timestamps + 1, None)
    limit = min(MAX_NEW_TOKENS, config.max_target_positions - len(tokens.prefix))
    with torch.no_grad():
        for step in range(limit):
            hidden = model.model.decoder(
                input_ids=generated, encoder_hidden_states=encoder_states
            ).last_hidden_state[:, -1]
            logits = model.proj_out(hidden)
            logits[:, suppress] = -np.inf
            logits[:, tokens.no_timestamps] = -np.inf
            logits[:, timestamps] = -np.inf
            if step == 0:
                logits[:, begin] = -np.inf
            following = logits.argmax(dim=-1)
            following[done] = tokens.eot
            generated = torch.cat([generated, following[:, None]], dim=1)
            done |= following == tokens.eot
            if bool(done.all()):
                break
    return [tokens.decode(row[len(tokens.prefix) :].tolist()) for row in generated]


def transcribe(
    model: Any, extractor: Any, tokens: Tokens, audio: list[np.ndarray], batch: int = 8
) -> list[str]:
    """Transcripts of clips of at most 30 s each."""
    import torch

    texts: list[str] = []
    for start in range(0, len(audio), batch):
        with torch.no_grad():
            states = model.model.encoder(features(extractor, audio[start : start + batch]))
        texts += greedy(model, states.last_hidden_state, tokens)
    return texts


def _setting(generation: Any, config: Any, name: str) -> list[int]:
    value = getattr(generation, name, None) or getattr(config, name, None) or []
    return [int(v) for v in value]
