import stat
from pathlib import Path

import pytest

from core.folders import DataFolderError, data_folder
from core.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def settings_at(path: Path) -> Settings:
    return Settings(data_dir=path, _env_file=None)  # type: ignore[call-arg]


def test_a_missing_data_folder_is_made_private_with_the_folders_under_it(tmp_path: Path) -> None:
    root = tmp_path / "deploy" / "var"
    spool = data_folder(settings_at(root), "spool", "inner")
    assert spool == root / "spool" / "inner" and spool.is_dir()
    assert mode(root) == mode(root / "spool") == mode(spool) == 0o700


def test_folders_an_older_version_made_0755_are_tightened_but_not_the_operators(
    tmp_path: Path,
) -> None:
    root = tmp_path / "var"
    root.mkdir(mode=0o755)
    (root / "spool").mkdir(mode=0o755)
    data_folder(settings_at(root), "spool")
    assert mode(root / "spool") == 0o700
    assert mode(root) == 0o755  # it existed before: it may be a shared folder of the operator's


def test_a_file_in_the_way_is_one_clear_error(tmp_path: Path) -> None:
    in_the_way = tmp_path / "var"
    in_the_way.write_text("not a folder")
    with pytest.raises(DataFolderError, match=r"var \(VOICE_DATA_DIR\): a file is in the way"):
        data_folder(settings_at(in_the_way))
    with pytest.raises(DataFolderError, match="a file is in the way"):
        data_folder(settings_at(tmp_path / "var" / "below"))
