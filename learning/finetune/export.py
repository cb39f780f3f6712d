"""A merged ``transformers`` Whisper saved, then converted to a CTranslate2 folder.

The result loads in faster-whisper unchanged: ``model.bin`` (float16, like the bundled
model), CTranslate2's ``config.json`` and vocabulary, and the ``tokenizer.json`` and
``preprocessor_config.json`` faster-whisper reads from the folder (without them it would
try the Hub).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from learning.finetune.base_model import write_tokenizer_files

COPIED = ["tokenizer.json", "preprocessor_config.json"]


def save_hf(model: Any, base_dir: Path, out_dir: Path) -> Path:
    """The merged model as a Hugging Face folder, with the base's tokenizer and extractor."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    if (base_dir / "generation_config.json").is_file():
        shutil.copyfile(base_dir / "generation_config.json", out_dir / "generation_config.json")
    write_tokenizer_files(out_dir, base_dir / "tokenizer.json", model.config.num_mel_bins)
    return out_dir


def to_ctranslate2(hf_dir: Path, out_dir: Path, quantization: str = "float16") -> Path:
    """Convert with ctranslate2's ``TransformersConverter`` into ``out_dir`` (replaced)."""
    from ctranslate2.converters import TransformersConverter

    converter = TransformersConverter(str(hf_dir), copy_files=COPIED)
    converter.convert(str(out_dir), quantization=quantization, force=True)
    return out_dir
