"""Built-in report formats (more come through the ``ciiguard_reporters`` hook)."""

from __future__ import annotations

from ciiguard.reporters.base import Reporter
from ciiguard.reporters.json_report import JsonReporter
from ciiguard.reporters.text import TextReporter

BUILTIN_REPORTERS: tuple[Reporter, ...] = (TextReporter(), JsonReporter())
