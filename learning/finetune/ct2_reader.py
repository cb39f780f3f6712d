"""Reads a CTranslate2 ``model.bin`` into numpy arrays (the format of ``ModelSpec._serialize``).

Layout (binary version >= 4): version, spec name, spec revision, then each variable as name,
rank, dimensions, dtype id, byte count, bytes; then aliases (name -> variable name).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from learning.errors import LearningError

# ctranslate2's DataType enum order (include/ctranslate2/types.h)
DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


def _read(stream: BinaryIO, fmt: str) -> int:
    size = struct.calcsize(fmt)
    data = stream.read(size)
    if len(data) != size:
        raise LearningError("model.bin ends early", code="bad_model")
    value: int = struct.unpack(fmt, data)[0]
    return value


def _string(stream: BinaryIO) -> str:
    length = _read(stream, "<H")
    return stream.read(length).rstrip(b"\0").decode("utf-8")


def read_model_bin(path: Path) -> tuple[str, dict[str, np.ndarray]]:
    """The spec name (``WhisperSpec``) and every variable, aliases resolved to their arrays."""
    variables: dict[str, np.ndarray] = {}
    with path.open("rb") as stream:
        version = _read(stream, "<I")
        if version < 4:
            raise LearningError(f"{path}: CTranslate2 binary version {version} is too old")
        spec = _string(stream)
        _read(stream, "<I")  # spec revision
        for _ in range(_read(stream, "<I")):
            name = _string(stream)
            rank = _read(stream, "<B")
            shape = tuple(_read(stream, "<I") for _ in range(rank))
            dtype = DTYPES[_read(stream, "<B")]
            raw = stream.read(_read(stream, "<I"))
            if dtype == "bfloat16":  # numpy has none: widen the upper half of float32
                wide = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
                variables[name] = wide.view(np.float32).reshape(shape)
            else:
                variables[name] = np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape)
        for _ in range(_read(stream, "<I")):
            alias, target = _string(stream), _string(stream)
            variables[alias] = variables[target]
    return spec, variables
