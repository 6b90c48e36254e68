"""A release anyone can install: the wheel and sdist build, pass twine's checks, and install and
run in a fresh virtual environment. Slow (it builds and installs)."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from ciiguard import __version__
from tests.conftest import EXAMPLES, ROOT


def test_one_version_source_and_a_changelog() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert re.search(r'version = \{ attr = "ciiguard.__version__" \}', pyproject)
    assert (ROOT / "CHANGELOG.md").read_text().startswith("# Changelog")
    assert f"## {__version__}" in (ROOT / "CHANGELOG.md").read_text()


@pytest.mark.slow
def test_build_twine_check_install_and_run(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == len(sdists) == 1
    assert f"ciiguard-{__version__}" in wheels[0].name
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheels[0])],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    version = subprocess.run(
        [str(bin_dir / "ciiguard"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.stdout.startswith(f"ciiguard {__version__} (Python ")
    scan = subprocess.run(
        [str(bin_dir / "ciiguard"), "scan", str(EXAMPLES / "terraform" / "cross-border-replication")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert scan.returncode == 1 and "CII002 [BLOCKING]" in scan.stdout
    schema = subprocess.run(
        [str(bin_dir / "ciiguard"), "schema"], capture_output=True, text=True, timeout=60
    )
    assert '"ciiguard/report@1"' in schema.stdout  # package data made it into the wheel
