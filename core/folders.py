"""The data folder (``VOICE_DATA_DIR``) and the folders under it, private to the service's user.

Every command that keeps state there calls :func:`data_folder`, which makes what is missing
(mode 0700) and turns a failure into one line that says which folder and why.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from core.errors import VoiceServiceError
from core.settings import Settings


class DataFolderError(VoiceServiceError):
    """The data folder (or one under it) cannot be made or used."""

    code = "data_dir_unusable"


def data_folder(settings: Settings, *parts: str) -> Path:
    """``{data_dir}/{parts...}``: the folders under the data folder made, or tightened, to 0700.

    The data folder itself is made 0700 when missing, but an existing one keeps its mode: it
    may be a folder of the operator's that holds more than ours.
    """
    path = private_folder(settings.data_dir)
    for part in parts:
        path = _tighten(private_folder(path / part))
    return path


def private_folder(path: Path) -> Path:
    """``path`` as a folder, made (with missing parents) readable by this user only."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except (FileExistsError, NotADirectoryError):  # a file where a folder should be
        raise DataFolderError(
            f"cannot create the data folder {path} (VOICE_DATA_DIR): a file is in the way"
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DataFolderError(
            f"cannot create the data folder {path} (VOICE_DATA_DIR): {reason}"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise DataFolderError(f"the data folder {path} (VOICE_DATA_DIR) is not writable")
    return path


def _tighten(path: Path) -> Path:
    """Take group and other access away from a folder an older version made 0755."""
    info = path.stat()
    if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, 0o700)
    return path
