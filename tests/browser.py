"""A small W3C WebDriver client for Debian's chromium and chromium-driver (no Selenium needed).

The map's browser tests drive a real headless Chromium through ``chromedriver``: load a page,
run a script in it, resize the window, take a screenshot. Tests skip cleanly, saying why, when
either binary is missing (``apt-get install chromium chromium-driver``; ``.ci/run`` does it).
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium in PATH (apt-get install chromium)")


def find_driver() -> str:
    found = shutil.which("chromedriver")
    if not found:
        pytest.skip("no chromedriver in PATH (apt-get install chromium-driver)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Browser:
    """One headless Chromium session through chromedriver on a local port."""

    def __init__(self, width: int = 1400, height: int = 1000) -> None:
        browser, driver = find_browser(), find_driver()
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="ciiguard-chromium-")
        self.driver = subprocess.Popen(
            [driver, f"--port={self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if self._call("GET", "/status")["ready"]:
                    break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                self.driver.kill()
                pytest.fail("chromedriver did not start within 30 s")
            time.sleep(0.1)
        args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--window-size={width},{height}",
            f"--user-data-dir={self.profile}",
        ]
        caps = {"browserName": "chrome", "goog:chromeOptions": {"binary": browser, "args": args}}
        value = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        self.session = f"/session/{value['sessionId']}"
        self._call("POST", self.session + "/timeouts", {"script": 120_000, "pageLoad": 120_000})

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=180) as resp:
                return json.loads(resp.read())["value"]
        except urllib.error.HTTPError as exc:
            detail = json.loads(exc.read() or b"{}").get("value", {})
            raise RuntimeError(f"webdriver {method} {path}: {detail.get('message', exc)}") from None

    def get(self, url: str) -> None:
        self._call("POST", self.session + "/url", {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        """Run ``script`` (a function body; ``arguments`` holds ``args``) and return its value."""
        return self._call("POST", self.session + "/execute/sync", {"script": script, "args": args})

    def run_async(self, script: str, *args: Any) -> Any:
        """Run ``script``; it reports by calling ``arguments[arguments.length - 1](value)``."""
        return self._call("POST", self.session + "/execute/async", {"script": script, "args": args})

    def resize(self, width: int, height: int) -> None:
        self._call("POST", self.session + "/window/rect", {"width": width, "height": height})

    def screenshot(self, path: Path) -> Path:
        """The viewport as a PNG file."""
        path.write_bytes(base64.b64decode(self._call("GET", self.session + "/screenshot")))
        return path

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, AttributeError):
            self._call("DELETE", self.session)
        self.driver.terminate()
        try:
            self.driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.driver.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
