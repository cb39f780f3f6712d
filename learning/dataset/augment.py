"""Augmented copies of train clips: speed, room reverb, additive noise; seeded, recorded.

Rooms are simulated offline with pyroomacoustics (image source method, shoebox rooms of
random size and reverberation time); their impulse responses are written beside the dataset
so that every recorded copy can be reproduced. Each copy's parameters come from a generator
seeded by (the export's seed, the turn id, the copy number), so the same export gives the
same copies in any order; the noise and reverb are applied by audiomentations.
"""

from __future__ import annotations

import json
import threading
import zlib
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
from scipy.signal import resample_poly

from core.audio import SAMPLE_RATE
from core.settings import Settings

_GLOBAL_RNG = threading.Lock()  # audiomentations draws its noise from numpy's global generator


@dataclass(frozen=True)
class Augmentation:
    """What was done to make one copy (stored with it in the dataset)."""

    copy: int
    seed: int
    speed: float
    snr_db: float
    room: str | None  # impulse response file under impulse_responses/, or no reverb

    def to_json(self) -> str:
        """The record as one JSON object."""
        return json.dumps(asdict(self), sort_keys=True)


def simulate_rooms(count: int, seed: int, folder: Path) -> list[Path]:
    """``count`` impulse responses of simulated rooms, as 16 kHz WAV files (and rooms.json)."""
    import pyroomacoustics as pra

    rng = np.random.default_rng([seed, 0x5EED])
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    rooms: list[dict[str, Any]] = []
    while len(paths) < count:
        size = rng.uniform([3.0, 3.0, 2.4], [10.0, 8.0, 4.0])
        rt60 = float(rng.uniform(0.2, 0.9))
        try:
            absorption, max_order = pra.inverse_sabine(rt60, size)
        except ValueError:  # a reverberation time this room cannot have
            continue
        room = pra.ShoeBox(
            size, fs=SAMPLE_RATE, materials=pra.Material(absorption), max_order=min(max_order, 17)
        )
        room.add_source(rng.uniform(0.5, size - 0.5))
        room.add_microphone(rng.uniform(0.5, size - 0.5))
        room.compute_rir()
        response = np.asarray(room.rir[0][0], dtype=np.float32)
        response /= max(1e-9, float(np.abs(response).max()))
        path = folder / f"room-{len(paths):02d}.wav"
        soundfile.write(path, response, SAMPLE_RATE, subtype="FLOAT")
        paths.append(path)
        rooms.append({"file": path.name, "size_m": size.round(2).tolist(), "rt60_s": rt60})
    (folder / "rooms.json").write_text(json.dumps(rooms, indent=2))
    return paths


def choose(settings: Settings, turn_id: str, copy: int, rooms: list[Path]) -> Augmentation:
    """The copy's parameters, from its own seeded generator."""
    rng = np.random.default_rng([settings.dataset_augment_seed, zlib.crc32(turn_id.encode()), copy])
    speed = float(rng.uniform(*settings.dataset_augment_speed))
    snr = float(rng.uniform(*settings.dataset_augment_snr_db))
    reverb = bool(rng.random() < settings.dataset_augment_reverb_probability)
    room = rooms[int(rng.integers(len(rooms)))].name if reverb and rooms else None
    return Augmentation(copy, int(rng.integers(2**31)), round(speed, 3), round(snr, 2), room)


def _speed(audio: np.ndarray, speed: float) -> np.ndarray:
    """Faster and higher (speed > 1) or slower and lower: resampling, as Kaldi's perturbation."""
    ratio = Fraction(round(speed * 1000), 1000)  # exactly the recorded speed
    return np.asarray(resample_poly(audio, ratio.denominator, ratio.numerator), dtype=np.float32)


def apply(samples: np.ndarray, augmentation: Augmentation, rooms_folder: Path) -> np.ndarray:
    """The augmented copy of int16 ``samples`` (int16, 16 kHz)."""
    from audiomentations import AddGaussianSNR, ApplyImpulseResponse

    audio = _speed(samples.astype(np.float32) / 32_768, augmentation.speed)
    with _GLOBAL_RNG:
        np.random.seed(augmentation.seed)
        if augmentation.room is not None:
            reverb: Any = ApplyImpulseResponse(
                ir_path=str(rooms_folder / augmentation.room), p=1.0, leave_length_unchanged=True
            )
            audio = reverb(audio, sample_rate=SAMPLE_RATE)
        noise = AddGaussianSNR(
            min_snr_db=augmentation.snr_db, max_snr_db=augmentation.snr_db, p=1.0
        )
        audio = noise(audio, sample_rate=SAMPLE_RATE)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > 0.99:  # reverb can add energy: scale down rather than clip
        audio = audio * (0.99 / peak)
    return (audio * 32_767).astype(np.int16)
