"""LoRA fine-tuning of Whisper on the export's train split, early stopping on dev WER.

``scope="decoder"`` (the CPU default) puts adapters on the decoder's q/v projections only:
the encoder is frozen, so each clip's encoder output is computed once and every step runs
the small decoder alone. ``scope="all"`` adapts the encoder's q/v too (the GPU setting).
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from learning.errors import LearningError
from learning.evaluation.stt import wer
from learning.finetune import decode
from learning.finetune.data import Clip, Tokens

Progress = Callable[[dict[str, Any]], None]
CACHE_LIMIT = 2000  # clips whose encoder outputs are kept in memory (2.3 MB each for tiny)


@dataclass
class TrainSettings:
    """What a fine-tune is asked to do (recorded with the model it makes)."""

    rank: int = 32
    alpha: int | None = None  # None: twice the rank
    epochs: int = 3
    learning_rate: float = 1e-3
    batch_size: int = 8
    scope: Literal["decoder", "all"] = "decoder"
    targets: tuple[str, ...] = ("q_proj", "v_proj")
    dropout: float = 0.05
    patience: int = 2  # evaluations without a better dev WER before stopping
    eval_every: int = 0  # steps between dev evaluations; 0: once per epoch
    max_steps: int = 0  # 0: no limit beyond the epochs
    seed: int = 0
    device: str = "cpu"

    def check(self) -> None:
        """One line for a setting that cannot train."""
        if self.rank < 1:
            raise LearningError(f"rank must be at least 1 (got {self.rank})")
        if self.epochs < 1:
            raise LearningError(f"epochs must be at least 1 (got {self.epochs})")
        if self.batch_size < 1 or self.learning_rate <= 0:
            raise LearningError("batch size and learning rate must be positive")
        if self.scope not in ("decoder", "all"):
            raise LearningError(f"scope must be decoder or all (got {self.scope!r})")

    def as_record(self) -> dict[str, Any]:
        """JSON-able settings."""
        record = asdict(self)
        record["alpha"] = self.lora_alpha
        record["targets"] = list(self.targets)
        return record

    @property
    def lora_alpha(self) -> int:
        """LoRA's scaling numerator."""
        return self.alpha if self.alpha is not None else 2 * self.rank


@dataclass
class TrainResult:
    """The merged model and what the run saw."""

    model: Any
    steps: int
    seconds: float
    base_dev_wer: float | None
    best_dev_wer: float | None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def steps_per_s(self) -> float:
        """Training speed (optimizer steps per second, dev evaluations excluded)."""
        busy = sum(h.get("step_s", 0.0) for h in self.history)
        return self.steps / busy if busy else 0.0


def _target_modules(settings: TrainSettings) -> str:
    names = "|".join(settings.targets)
    where = r"decoder\.layers" if settings.scope == "decoder" else r"(encoder|decoder)\.layers"
    return rf".*{where}\.\d+\.(self_attn|encoder_attn)\.({names})"


def _batch(tokens: Tokens, texts: list[str]) -> tuple[Any, Any]:
    """Decoder inputs and targets (prompt tokens and padding masked with -100)."""
    import torch

    rows = [[*tokens.prefix, *tokens.encode(t), tokens.eot] for t in texts]
    width = max(len(r) for r in rows) - 1
    inputs = torch.full((len(rows), width), tokens.eot, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, row in enumerate(rows):
        inputs[i, : len(row) - 1] = torch.tensor(row[:-1])
        labels[i, : len(row) - 1] = torch.tensor(row[1:])
        labels[i, : len(tokens.prefix) - 1] = -100  # the forced prompt is not learnt
    return inputs, labels


def train(
    base_dir: Path,
    train_clips: list[Clip],
    dev_clips: list[Clip],
    settings: TrainSettings,
    progress: Progress,
) -> TrainResult:
    """Train adapters, keep the best by dev WER, and return the merged model."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import WhisperForConditionalGeneration

    settings.check()
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)  # noqa: S311 - shuffling, not secrets
    device = torch.device(settings.device)
    model = WhisperForConditionalGeneration.from_pretrained(str(base_dir)).to(device)
    extractor = decode.extractor_for(model)
    tokens = Tokens(base_dir, model.config.vocab_size)
    for text in (c.text for c in train_clips):
        if len(tokens.encode(text)) + len(tokens.prefix) + 1 > model.config.max_target_positions:
            raise LearningError(
                f"a label is longer than Whisper's {model.config.max_target_positions} tokens"
            )
    lora = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.dropout,
        target_modules=_target_modules(settings),
        bias="none",
    )
    peft_model = get_peft_model(model, lora)
    whisper = peft_model.get_base_model()  # the same modules, adapters inside

    def encode(clips: list[Clip], grad: bool = False) -> Any:
        feats = decode.features(extractor, [c.audio for c in clips]).to(device)
        with torch.set_grad_enabled(grad):
            return whisper.model.encoder(feats).last_hidden_state

    frozen = settings.scope == "decoder"  # the encoder's outputs never change
    cached: list[Any] | None = None
    if frozen and len(train_clips) <= CACHE_LIMIT:  # the encoder runs once per clip
        parts = [encode(train_clips[i : i + 8]) for i in range(0, len(train_clips), 8)]
        cached = list(torch.cat(parts))
    dev_cache: dict[int, Any] = {}

    def dev_wer() -> float | None:
        if not dev_clips:
            return None
        peft_model.eval()
        texts: list[str] = []
        for i in range(0, len(dev_clips), 8):
            states = dev_cache.get(i)
            if states is None:
                states = encode(dev_clips[i : i + 8])
                if frozen and len(dev_clips) <= CACHE_LIMIT:
                    dev_cache[i] = states
            texts += decode.greedy(whisper, states, tokens)
        peft_model.train()
        return wer([c.text for c in dev_clips], texts)

    params = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=0.0)
    per_epoch = math.ceil(len(train_clips) / settings.batch_size)
    total = per_epoch * settings.epochs
    if settings.max_steps:
        total = min(total, settings.max_steps)
    eval_every = settings.eval_every or per_epoch
    base_wer = best_wer = dev_wer()
    best_state = _adapter_state(peft_model)
    progress({"event": "start", "steps": total, "dev_wer": base_wer, "train": len(train_clips)})
    history: list[dict[str, Any]] = []
    step, stale, started = 0, 0, time.perf_counter()
    peft_model.train()
    perfect = best_wer == 0.0  # nothing left to learn on dev: stop
    while step < total and stale < settings.patience and not perfect:
        order = list(range(len(train_clips)))
        rng.shuffle(order)
        for first in range(0, len(order), settings.batch_size):
            if step >= total or stale >= settings.patience or perfect:
                break
            chosen = order[first : first + settings.batch_size]
            tick = time.perf_counter()
            if cached is not None:
                states = torch.stack([cached[i] for i in chosen])
            else:
                states = encode([train_clips[i] for i in chosen], grad=not frozen)
            inputs, labels = _batch(tokens, [train_clips[i].text for i in chosen])
            hidden = whisper.model.decoder(
                input_ids=inputs.to(device), encoder_hidden_states=states
            ).last_hidden_state
            logits = whisper.proj_out(hidden)
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]),
                labels.to(device).reshape(-1),
                ignore_index=-100,
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            record: dict[str, Any] = {
                "event": "step",
                "step": step,
                "epoch": 1 + (step - 1) // per_epoch,
                "loss": round(float(loss.detach()), 4),
                "step_s": round(time.perf_counter() - tick, 3),
            }
            if step % eval_every == 0 or step == total:
                current = dev_wer()
                record["dev_wer"] = current
                if current is not None and best_wer is not None and current < best_wer:
                    best_wer, stale, best_state = current, 0, _adapter_state(peft_model)
                    perfect = current == 0.0
                elif current is not None:
                    stale += 1
                else:
                    best_state = _adapter_state(peft_model)  # no dev split: the last is kept
            history.append(record)
            progress(record)
    _load_adapter_state(peft_model, best_state)
    merged = peft_model.merge_and_unload()
    merged.eval()
    seconds = time.perf_counter() - started
    progress(
        {"event": "done", "steps": step, "best_dev_wer": best_wer, "seconds": round(seconds, 1)}
    )
    return TrainResult(merged, step, seconds, base_wer, best_wer, history)


def _adapter_state(model: Any) -> dict[str, Any]:
    return {k: v.detach().clone() for k, v in model.state_dict().items() if "lora_" in k}


def _load_adapter_state(model: Any, state: dict[str, Any]) -> None:
    model.load_state_dict(copy.copy(state), strict=False)
