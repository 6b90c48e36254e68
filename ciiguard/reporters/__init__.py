"""Built-in report formats (more come through the ``ciiguard_reporters`` hook)."""

from __future__ import annotations

from ciiguard.reporters.base import Reporter
from ciiguard.reporters.github import GithubReporter
from ciiguard.reporters.json_report import JsonReporter
from ciiguard.reporters.junit import JunitReporter
from ciiguard.reporters.markdown import MarkdownReporter
from ciiguard.reporters.sarif import SarifReporter
from ciiguard.reporters.text import TextReporter

BUILTIN_REPORTERS: tuple[Reporter, ...] = (
    TextReporter(),
    JsonReporter(),
    SarifReporter(),
    JunitReporter(),
    GithubReporter(),
    MarkdownReporter(),
)
