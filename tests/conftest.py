"""Shared test helpers: run the installed ``ciiguard`` command; slow suites only in CI or on request."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLES = ROOT / "examples"
REGION_ENV = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "ALIBABA_CLOUD_REGION",
    "ALICLOUD_REGION",
    "TENCENTCLOUD_REGION",
    "HW_REGION_NAME",
    "OS_REGION_NAME",
    "GOOGLE_REGION",
    "TF_WORKSPACE",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow") or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="slow: runs in CI (CI=true) or with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def ciiguard_exe() -> list[str]:
    exe = Path(sys.executable).with_name("ciiguard")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("ciiguard")
    if found:
        return [found]
    pytest.fail(
        "the ciiguard console script is not installed; install the project first (see README)"
    )


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        doc = json.loads(self.stdout)
        if isinstance(doc, dict) and doc.get("schema") == "ciiguard/report@1":
            _report_validator().validate(doc)  # every JSON report the suite reads
        return doc


@functools.lru_cache(maxsize=1)
def _report_validator() -> Any:
    import jsonschema

    from ciiguard.reporters.json_report import schema_text

    schema = json.loads(schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


_CACHE_DIR = tempfile.mkdtemp(prefix="ciiguard-test-cache-")
# the key that authenticates cache entries: never the developer's own (~/.config/ciiguard)
_KEY_FILE = str(Path(tempfile.mkdtemp(prefix="ciiguard-test-key-")) / "cache-key")
os.environ.setdefault("CIIGUARD_CACHE_KEY_FILE", _KEY_FILE)  # for in-process scans


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in REGION_ENV and not k.startswith("TF_VAR_")
    }
    env["CIIGUARD_CACHE_DIR"] = _CACHE_DIR  # never the developer's own cache
    env.setdefault("CIIGUARD_CACHE_KEY_FILE", _KEY_FILE)
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    env = env if env is not None else clean_env()
    proc = subprocess.run(
        [*ciiguard_exe(), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=300,
    )
    cache = env.get("CIIGUARD_CACHE_DIR")
    if cache:  # the command's cache writers outlive it: a test looks at what they wrote
        from ciiguard.cache.store import settle

        assert settle(Path(cache), timeout=120), "cache writers still at work after 120 s"
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli() -> Any:
    return run_cli
