"""A trainable ``transformers`` Whisper checkpoint, offline.

Either a local Hugging Face folder (``--base``, e.g. medium.en on a GPU) or, by default, the
bundled CTranslate2 tiny.en converted: its float16 variables map one to one onto
``WhisperForConditionalGeneration`` (fused q/k/v split again; Whisper's k projection has no
bias, CTranslate2 stores zeros there). The tokenizer comes from the CT2 folder's
``tokenizer.json``; the feature extractor is Whisper's, configured here. Nothing is downloaded.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from learning.errors import LearningError
from learning.finetune.ct2_reader import read_model_bin

SPECIAL = ("<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>")


def _linear(out: dict[str, np.ndarray], v: dict[str, np.ndarray], src: str, dst: str) -> None:
    out[f"{dst}.weight"] = v[f"{src}/weight"]
    if f"{src}/bias" in v:
        out[f"{dst}.bias"] = v[f"{src}/bias"]


def _norm(out: dict[str, np.ndarray], v: dict[str, np.ndarray], src: str, dst: str) -> None:
    out[f"{dst}.weight"], out[f"{dst}.bias"] = v[f"{src}/gamma"], v[f"{src}/beta"]


def _split(out: dict[str, np.ndarray], v: dict[str, np.ndarray], src: str, dsts: list[str]) -> None:
    """A fused CT2 projection back into ``dsts`` (``None``-free names, equal row blocks)."""
    weights = np.split(v[f"{src}/weight"], len(dsts))
    biases = np.split(v[f"{src}/bias"], len(dsts))
    for dst, weight, bias in zip(dsts, weights, biases, strict=True):
        out[f"{dst}.weight"] = weight
        if not dst.endswith("k_proj"):  # Whisper's key projections have no bias
            out[f"{dst}.bias"] = bias


def state_dict_from_ct2(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """HF parameter names -> arrays, from CT2 WhisperSpec variables."""
    out: dict[str, np.ndarray] = {}
    for part in ("encoder", "decoder"):
        hf = f"model.{part}"
        out[f"{hf}.embed_positions.weight"] = v[f"{part}/position_encodings/encodings"]
        _norm(out, v, f"{part}/layer_norm", f"{hf}.layer_norm")
        for i in range(_layers(v, part)):
            src, dst = f"{part}/layer_{i}", f"{hf}.layers.{i}"
            qkv = [f"{dst}.self_attn.{p}_proj" for p in "qkv"]
            _split(out, v, f"{src}/self_attention/linear_0", qkv)
            _linear(out, v, f"{src}/self_attention/linear_1", f"{dst}.self_attn.out_proj")
            _norm(out, v, f"{src}/self_attention/layer_norm", f"{dst}.self_attn_layer_norm")
            if part == "decoder":
                _linear(out, v, f"{src}/attention/linear_0", f"{dst}.encoder_attn.q_proj")
                kv = [f"{dst}.encoder_attn.{p}_proj" for p in "kv"]
                _split(out, v, f"{src}/attention/linear_1", kv)
                _linear(out, v, f"{src}/attention/linear_2", f"{dst}.encoder_attn.out_proj")
                _norm(out, v, f"{src}/attention/layer_norm", f"{dst}.encoder_attn_layer_norm")
            _linear(out, v, f"{src}/ffn/linear_0", f"{dst}.fc1")
            _linear(out, v, f"{src}/ffn/linear_1", f"{dst}.fc2")
            _norm(out, v, f"{src}/ffn/layer_norm", f"{dst}.final_layer_norm")
    for conv in ("conv1", "conv2"):
        _linear(out, v, f"encoder/{conv}", f"model.encoder.{conv}")
    out["model.decoder.embed_tokens.weight"] = v["decoder/embeddings/weight"]
    out["proj_out.weight"] = v.get("decoder/projection/weight", v["decoder/embeddings/weight"])
    return out


def _layers(v: dict[str, np.ndarray], part: str) -> int:
    pattern = re.compile(rf"^{part}/layer_(\d+)/")
    return 1 + max(int(m.group(1)) for name in v if (m := pattern.match(name)))


def _heads(v: dict[str, np.ndarray], part: str, d_model: int) -> int:
    if f"{part}/num_heads" in v:
        return int(v[f"{part}/num_heads"])
    return max(1, d_model // 64)  # every Whisper size has 64-wide heads


def whisper_config(v: dict[str, np.ndarray], ids: dict[str, int]) -> Any:
    """A ``WhisperConfig`` whose sizes come from the weights themselves."""
    from transformers import WhisperConfig

    d_model, n_mels = v["encoder/conv1/weight"].shape[:2]
    vocab = v["decoder/embeddings/weight"].shape[0]
    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    return WhisperConfig(
        vocab_size=vocab,
        num_mel_bins=n_mels,
        d_model=d_model,
        encoder_layers=_layers(v, "encoder"),
        decoder_layers=_layers(v, "decoder"),
        encoder_attention_heads=_heads(v, "encoder", d_model),
        decoder_attention_heads=_heads(v, "decoder", d_model),
        encoder_ffn_dim=v["encoder/layer_0/ffn/linear_0/weight"].shape[0],
        decoder_ffn_dim=v["decoder/layer_0/ffn/linear_0/weight"].shape[0],
        max_source_positions=v["encoder/position_encodings/encodings"].shape[0],
        max_target_positions=v["decoder/position_encodings/encodings"].shape[0],
        decoder_start_token_id=sot,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        tie_word_embeddings=True,
    )


def token_ids(tokenizer_json: Path) -> dict[str, int]:
    """Ids of Whisper's special tokens, from ``tokenizer.json``'s added tokens."""
    data = json.loads(tokenizer_json.read_text())
    found = {t["content"]: int(t["id"]) for t in data.get("added_tokens", [])}
    missing = [token for token in SPECIAL if token not in found]
    if missing:
        raise LearningError(f"{tokenizer_json} lacks Whisper's tokens {missing}", code="bad_model")
    return found


def write_tokenizer_files(folder: Path, tokenizer_json: Path, n_mels: int) -> None:
    """tokenizer.json, its config, and the feature extractor's config, all local."""
    from transformers import WhisperFeatureExtractor

    if tokenizer_json.resolve() != (folder / "tokenizer.json").resolve():
        shutil.copyfile(tokenizer_json, folder / "tokenizer.json")
    eot = "<|endoftext|>"
    config = {
        "tokenizer_class": "WhisperTokenizer",
        "model_max_length": 1024,
        "bos_token": eot,
        "eos_token": eot,
        "unk_token": eot,
        "pad_token": eot,
        "add_prefix_space": False,
        "errors": "replace",
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    WhisperFeatureExtractor(feature_size=n_mels).save_pretrained(str(folder))


def convert_ct2_to_hf(ct2_dir: Path, out_dir: Path) -> Path:
    """Write a ``transformers`` Whisper checkpoint of the CT2 model in ``ct2_dir``."""
    import torch
    from transformers import GenerationConfig, WhisperForConditionalGeneration

    model_bin, tokenizer_json = ct2_dir / "model.bin", ct2_dir / "tokenizer.json"
    for needed in (model_bin, tokenizer_json):
        if not needed.is_file():
            raise LearningError(f"{ct2_dir} is not a CTranslate2 Whisper folder: no {needed.name}")
    spec, variables = read_model_bin(model_bin)
    if spec != "WhisperSpec":
        raise LearningError(f"{ct2_dir} holds a {spec}, not Whisper", code="not_whisper")
    ct2_config = json.loads((ct2_dir / "config.json").read_text())
    ids = token_ids(tokenizer_json)
    config = whisper_config(variables, ids)
    model = WhisperForConditionalGeneration(config)
    tensors = {
        name: torch.from_numpy(np.array(value, dtype=np.float32))
        for name, value in state_dict_from_ct2(variables).items()
    }
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [m for m in missing if m != "proj_out.weight"]  # tied to the embeddings
    if missing or unexpected:
        raise LearningError(
            f"weights do not fit Whisper: missing {missing[:3]}, extra {unexpected[:3]}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    generation = GenerationConfig(
        decoder_start_token_id=config.decoder_start_token_id,
        eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id,
        suppress_tokens=list(ct2_config.get("suppress_ids", [])),
        begin_suppress_tokens=list(
            ct2_config.get("suppress_ids_begin", [220, ids["<|endoftext|>"]])
        ),
        no_timestamps_token_id=ids["<|notimestamps|>"],
        alignment_heads=ct2_config.get("alignment_heads"),
        is_multilingual=bool(ct2_config.get("lang_ids")),
        max_length=config.max_target_positions,
    )
    model.generation_config = generation
    model.save_pretrained(str(out_dir))
    write_tokenizer_files(out_dir, tokenizer_json, config.num_mel_bins)
    return out_dir


def check_hf_whisper(folder: Path) -> None:
    """A ``--base`` folder must be a local Hugging Face Whisper model: one line if not."""
    config = folder / "config.json"
    if not config.is_file():
        raise LearningError(f"base model {folder} has no config.json", code="not_whisper")
    try:
        model_type = json.loads(config.read_text()).get("model_type")
    except (json.JSONDecodeError, AttributeError):
        model_type = None
    if model_type != "whisper":
        raise LearningError(
            f"base model {folder} is not Whisper (model_type {model_type!r})", code="not_whisper"
        )
    if not (folder / "tokenizer.json").is_file():
        raise LearningError(f"base model {folder} has no tokenizer.json", code="not_whisper")


def resolve_base(base: Path | None, ct2_default: Path, cache_dir: Path) -> Path:
    """The HF folder to train from: ``base`` (checked), or tiny.en converted once into a cache."""
    if base is not None:
        if (base / "model.bin").is_file():  # a CTranslate2 folder: convert it too
            return _cached_conversion(base, cache_dir)
        check_hf_whisper(base)
        return base
    return _cached_conversion(ct2_default, cache_dir)


def _cached_conversion(ct2_dir: Path, cache_dir: Path) -> Path:
    from learning.registry.artefacts import folder_digest

    target = cache_dir / f"hf-{folder_digest(ct2_dir, ['model.bin'])[:16]}"
    if (target / "config.json").is_file():
        return target
    staging = cache_dir / f".{target.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    convert_ct2_to_hf(ct2_dir, staging)
    staging.rename(target)  # only a complete conversion is ever found in the cache
    return target
