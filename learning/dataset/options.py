"""What an export is asked to do, and its errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.errors import VoiceServiceError

SPLITS = ("train", "dev", "test")
SYNTHETIC = "synthetic"
# stage, done, total: called as work goes (the CLI draws a progress bar from it)
Progress = Callable[[str, int, int], None]


class DatasetError(VoiceServiceError):
    """The export cannot run as asked (a bad path or option); nothing was written."""

    code = "bad_dataset_request"


class ExportOptions(BaseModel):
    """The arguments of ``voice-service dataset export`` (and of the Celery task)."""

    model_config = ConfigDict(extra="forbid")

    out: Path
    since: date | None = None  # turns recorded on or after this day (UTC)
    until: date | None = None  # turns recorded on or before this day (UTC)
    min_reviewed: bool = False  # only turns a reviewer approved, corrected or redacted
    augment: int = Field(0, ge=0, le=20)  # augmented copies per train clip
    format: Literal["hf", "nemo"] = "hf"
    overwrite: bool = False
    synthetic: bool = False  # add the synthetic science-term split
    task_id: str | None = None  # the Celery task that runs it (a redelivery finds its output)

    def window(self) -> tuple[datetime | None, datetime | None]:
        """``since`` and ``until`` as UTC times: [since 00:00, the day after until 00:00)."""
        start = datetime.combine(self.since, time(), UTC) if self.since else None
        end = datetime.combine(self.until + timedelta(days=1), time(), UTC) if self.until else None
        if start and end and end <= start:
            raise DatasetError(f"--until {self.until} is before --since {self.since}")
        return start, end


def no_progress(stage: str, done: int, total: int) -> None:
    """The default: report nothing."""
