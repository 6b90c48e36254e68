"""Built-in report formats (more come through the ``ciiguard_reporters`` hook)."""

from __future__ import annotations

from ciiguard.lazy import Lazy
from ciiguard.reporters.base import Report, Reporter


class LazyReporter(Lazy[Reporter]):
    """A built-in format whose module is imported when a report is rendered in it (a run
    renders one or two of the six; junit's XML machinery alone costs more than the rest)."""

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
