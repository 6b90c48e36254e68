"""Progress on stderr for long scans on a terminal; silent in CI and when stderr is not a TTY.

A one-line status (phase and elapsed seconds) rewritten in place, shown only once a scan has run
for ``delay`` seconds so quick scans print nothing, and erased when the scan ends.
"""

from __future__ import annotations

import os
import threading
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
    """Call with a phase description; ``done()`` erases the line.

    A daemon thread redraws the line every ``tick`` seconds, so a long phase (parsing a large
    tree) still shows time passing and a phase that starts inside ``delay`` still appears.
    """

    def __init__(
        self,
        stream: TextIO,
        enabled: bool,
        delay: float = 0.5,
        interval: float = 0.1,
        tick: float | None = 0.25,
    ) -> None:
        self.stream = stream
        self.enabled = enabled
        self.delay = delay
        self.interval = interval
        self.start = time.monotonic()
        self.last = 0.0
        self.width = 0
        self.phase = ""
        self.shown = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if enabled and tick:
            self._ticker = threading.Thread(target=self._tick, args=(tick,), daemon=True)
            self._ticker.start()

    def __call__(self, phase: str) -> None:
        if not self.enabled:
            return
        self.phase = phase
        self._draw(force=False)

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            self._draw(force=True)

    def _draw(self, force: bool) -> None:
        with self._lock:
            now = time.monotonic()
            if self._stop.is_set() or not self.phase or now - self.start < self.delay:
                return
            if not force and now - self.last < self.interval:
                return
            self.last = now
            text = f"ciiguard: {self.phase} ({now - self.start:.0f}s)"
            if text == self.shown:
                return
            self.shown = text
            pad = max(0, self.width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            self.width = len(text)

    def done(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self.enabled and self.width:
                self.stream.write("\r" + " " * self.width + "\r")
                self.stream.flush()
                self.width = 0


def for_terminal(stream: TextIO) -> Progress:
    return Progress(stream, wanted(stream, os.environ))
