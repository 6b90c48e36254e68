"""``parsers.base.real``: the memoised, component-wise resolve is exactly ``Path.resolve``."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from ciiguard.parsers.base import forget_real, real

PARTS = ["a", "b", "c", "..", ".", "abs", "rel", "up", "dangling", "missing", "f.tf", "loop"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    if not hasattr(os, "symlink"):
        pytest.skip("no symbolic links here")
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c" / "f.tf").write_text("x")
    os.symlink(tmp_path / "a" / "b", tmp_path / "abs")
    os.symlink("a/b/c", tmp_path / "rel")
    os.symlink("../..", tmp_path / "a" / "b" / "c" / "up")
    os.symlink("loop", tmp_path / "loop")
    os.symlink("nowhere", tmp_path / "dangling")
    return tmp_path


def _resolve(path: Path, fn: object) -> object:
    try:
        return fn(path)  # type: ignore[operator]
    except (OSError, RuntimeError) as exc:
        return type(exc)


def test_real_is_resolve_for_every_short_path(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forget_real()  # one memo across all paths: its entries must never mislead a later path
    checked = 0
    for n in range(1, 5):
        for combo in itertools.product(PARTS, repeat=n):
            path = tree.joinpath(*combo)
            assert _resolve(path, real) == _resolve(path, Path.resolve), path
            checked += 1
    monkeypatch.chdir(tree / "a")
    for combo in itertools.product(PARTS, repeat=2):
        path = Path(*combo)  # relative paths: from the working directory
        assert _resolve(path, real) == _resolve(path, Path.resolve), path
    forget_real()
    assert checked > 20000
