"""Work split across processes gives exactly the serial answer."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ciiguard.cli import app as cli
from ciiguard.parsers.terraform import parser as terraform
from ciiguard.parsers.terraform.hcl import loader as hcl_loader
from tests.conftest import EXAMPLES, FIXTURES


def test_the_worker_pool_parses_like_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted((EXAMPLES / "terraform").rglob("*.tf"))

    def load(jobs: int) -> list[object]:
        loader = hcl_loader.HclLoader(lambda p, s: p.read_bytes(), str, use_cache=False, jobs=jobs)
        loader.preload(files)
        return [loader.done[f] for f in files]

    monkeypatch.setattr(hcl_loader, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(hcl_loader, "PARALLEL_MIN_JOBS", 2)
    assert load(4) == load(1)


# -- parsing and evaluating a tree in two processes ---------------------------------------------
ROOT = Path(__file__).resolve().parent.parent
TREES = [
    FIXTURES / "resolution",
    FIXTURES / "modules",
    FIXTURES / "adversarial",
    FIXTURES / "clouds",
    FIXTURES / "gate",
    ROOT / "examples" / "terraform",
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    tree = tmp_path_factory.mktemp("generated")
    generate(tree, 600)
    return tree


def _run(capsys: pytest.CaptureFixture[str], tree: Path, jobs: str) -> tuple[int, str, str]:
    code = cli.main(
        ["scan", str(tree), "--format", "json", "--no-cache", "--no-config", "--jobs", jobs,
         "--allow-outside-root"]
    )  # fmt: skip
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.fixture
def splits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Split every tree of two directories or more, and count the splits."""
    calls: list[int] = []
    real_split = terraform._split

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real_split(*args, **kwargs)

    monkeypatch.setattr(terraform, "SPLIT_DIRS", 2)
    monkeypatch.setattr(terraform, "_split", counting)
    return calls


@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.name)
def test_two_processes_give_the_serial_answer(
    capsys: pytest.CaptureFixture[str], splits: list[int], tree: Path
) -> None:
    serial = _run(capsys, tree, "1")
    assert not splits
    assert _run(capsys, tree, "2") == serial
    assert splits, "the tree was not split"


def test_two_processes_on_a_generated_monorepo(
    capsys: pytest.CaptureFixture[str], splits: list[int], generated: Path
) -> None:
    serial = _run(capsys, generated, "1")
    assert serial[0] == 1 and serial[1].count('"address"') > 500
    assert _run(capsys, generated, "2") == serial and splits


@pytest.mark.parametrize("where", ["calls", "output"])
def test_a_child_that_fails_is_done_here(
    capsys: pytest.CaptureFixture[str],
    splits: list[int],
    generated: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    serial = _run(capsys, generated, "1")
    parent = os.getpid()
    real_send = terraform._send
    sent: list[int] = []

    def failing(stream, value):  # type: ignore[no-untyped-def]
        if os.getpid() != parent:
            sent.append(1)
            if where == "calls" or len(sent) == 2:
                os._exit(3)  # the child dies before (or while) sending
        return real_send(stream, value)

    monkeypatch.setattr(terraform, "_send", failing)
    assert _run(capsys, generated, "2") == serial and splits
