"""Progress on stderr for long scans on a terminal; silent in CI and when stderr is not a TTY.

A one-line status (phase and elapsed seconds) rewritten in place, shown only once a scan has run
for ``delay`` seconds so quick scans print nothing, and erased when the scan ends.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TextIO

# Environment variables CI systems set; any of them non-empty means "not an interactive terminal".
CI_VARIABLES = (
    "CI",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "BUILDKITE",
    "CIRCLECI",
    "TF_BUILD",
    "JENKINS_URL",
    "TEAMCITY_VERSION",
    "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_BUILD_ID",
    "DRONE",
    "PRE_COMMIT",
)


def wanted(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Progress only for a person watching a terminal."""
    if any(
        environ.get(name, "").strip().lower() not in ("", "0", "false") for name in CI_VARIABLES
    ):
        return False
    if environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """Call with a phase description; ``done()`` erases the line."""

    def __init__(
        self, stream: TextIO, enabled: bool, delay: float = 0.5, interval: float = 0.1
    ) -> None:
        self.stream = stream
        self.enabled = enabled
        self.delay = delay
        self.interval = interval
        self.start = time.monotonic()
        self.last = 0.0
        self.width = 0
        self.phase = ""

    def __call__(self, phase: str) -> None:
        if not self.enabled:
            return
        self.phase = phase
        now = time.monotonic()
        if now - self.start < self.delay or now - self.last < self.interval:
            return
        self.last = now
        text = f"ciiguard: {phase} ({now - self.start:.0f}s)"
        pad = max(0, self.width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self.width = len(text)

    def done(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def for_terminal(stream: TextIO) -> Progress:
    return Progress(stream, wanted(stream, os.environ))
