"""Built-in plugin objects whose module is imported the first time they are really used."""

from __future__ import annotations

import importlib
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """Stands for ``module.cls()``: ``name`` is known at once, the object itself on first use."""

    def __init__(self, name: str, module: str, cls: str) -> None:
        self.name = name
        self.module = module
        self.cls = cls
        self._real: T | None = None

    @property
    def real(self) -> T:
        if self._real is None:
            made: T = getattr(importlib.import_module(self.module), self.cls)()
            self._real = made
        return self._real
