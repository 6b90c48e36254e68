"""``parsers.base.real`` and ``real_dir``: the memoised, component-wise resolves are exactly
``Path.resolve``."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from ciiguard.parsers.base import forget_real, real, real_dir

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


def _every_absolute_path(tree: Path, fn: object) -> None:
    """``fn`` (through ``Path``) against ``Path.resolve`` on every path of up to four parts below
    ``tree``, with one memo across all of them: its entries must never mislead a later path."""
    forget_real()
    checked = 0
    for n in range(1, 5):
        for combo in itertools.product(PARTS, repeat=n):
            path = tree.joinpath(*combo)
            assert _resolve(path, fn) == _resolve(path, Path.resolve), path
            checked += 1
    assert checked > 20000


def test_real_is_resolve_for_every_short_path(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _every_absolute_path(tree, real)
    monkeypatch.chdir(tree / "a")
    for combo in itertools.product(PARTS, repeat=2):
        path = Path(*combo)  # relative paths: from the working directory
        assert _resolve(path, real) == _resolve(path, Path.resolve), path
    forget_real()


def test_real_dir_is_resolve_for_every_short_path(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The string form discovery's directory names take: absolute and relative, with ``.``,
    ``..``, links (absolute, relative, upward, dangling, looping) anywhere, and a trailing or
    doubled separator."""
    _every_absolute_path(tree, lambda path: real_dir(os.fspath(path)))
    monkeypatch.chdir(tree / "a")
    for combo in itertools.product(PARTS, repeat=3):
        name = os.path.join(*combo)
        for written in (name, name + os.sep, name.replace(os.sep, os.sep * 2, 1)):
            expected = _resolve(Path(written), Path.resolve)
            assert _resolve(written, real_dir) == expected, written
    forget_real()
