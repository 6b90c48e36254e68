"""Built-in report formats (more come through the ``ciiguard_reporters`` hook)."""

from __future__ import annotations

import importlib

from ciiguard.reporters.base import Report, Reporter


class LazyReporter:
    """A built-in format whose module is imported when a report is rendered in it (a run
    renders one or two of the six; junit's XML machinery alone costs more than the rest)."""

    def __init__(self, name: str, module: str, cls: str) -> None:
        self.name = name
        self.module = module
        self.cls = cls
        self._real: Reporter | None = None

    @property
    def real(self) -> Reporter:
        if self._real is None:
            self._real = getattr(importlib.import_module(self.module), self.cls)()
        return self._real

    @property
    def description(self) -> str:
        return self.real.description

    def render(self, report: Report) -> str:
        return self.real.render(report)


BUILTIN_REPORTERS: tuple[Reporter, ...] = (
    LazyReporter("text", "ciiguard.reporters.text", "TextReporter"),
    LazyReporter("json", "ciiguard.reporters.json_report", "JsonReporter"),
    LazyReporter("sarif", "ciiguard.reporters.sarif", "SarifReporter"),
    LazyReporter("junit", "ciiguard.reporters.junit", "JunitReporter"),
    LazyReporter("github", "ciiguard.reporters.github", "GithubReporter"),
    LazyReporter("markdown", "ciiguard.reporters.markdown", "MarkdownReporter"),
)
