"""Maps a setting value to a backend class that is imported only when selected."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.errors import BackendUnavailable

T = TypeVar("T")


@dataclass(frozen=True)
class _Entry:
    target: str  # "package.module:ClassName"
    extra: str | None  # the pip extra that provides the backend's optional packages


class Registry(Generic[T]):
    """Backends of one stage, by name. Importing a backend happens in ``load`` alone."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._entries: dict[str, _Entry] = {}

    def register(self, name: str, target: str, *, extra: str | None = None) -> None:
        """Declare backend ``name`` living at ``module:Class``."""
        self._entries[name] = _Entry(target, extra)

    @property
    def names(self) -> list[str]:
        """The backend names that can be selected."""
        return sorted(self._entries)

    def load(self, name: str) -> type[T]:
        """Import and return the backend class, or raise one clear line saying what is missing."""
        entry = self._entries.get(name)
        if entry is None:
            raise BackendUnavailable(
                f"unknown {self.stage} backend {name!r}; choose one of {', '.join(self.names)}"
            )
        module_name, _, class_name = entry.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if entry.extra is None or exc.name == module_name:
                raise
            raise BackendUnavailable(
                f"the {self.stage} backend {name!r} needs the '{entry.extra}' extra "
                f"(missing package {exc.name!r}): pip install 'voice-service[{entry.extra}]'"
            ) from exc
        backend: type[T] = getattr(module, class_name)
        return backend
