"""Cache writers outlive the command (``ciiguard.cache.store``): the command line returns once its
verdict and reports are out, the writers it forked finish on their own, and the next command line
waits for them (through the cache root's ``writers.lock``) before it reads a cache, so it sees
every entry the last run wrote (issue 24)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ciiguard.cache import store
from tests.conftest import clean_env

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "terraform" / "cross-border-replication"

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="writers are forked (no fork here)")


@pytest.fixture
def background(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The command line's setting (writers forked), with a cache of its own."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CIIGUARD_CACHE_DIR", str(cache))
    store.allow_background(True)
    try:
        yield cache
    finally:
        store.join_background()
        store.allow_background(False)


def _wait_for(path: Path, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_next_command_waits_for_the_writers_the_last_one_left(
    background: Path, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    disk = store.DiskCache("bg")
    disk.get("0" * 64)  # the first access (nothing to wait for yet)

    def write() -> None:
        _wait_for(go)  # held until the test says so
        disk.put("k" * 64, "written")

    store.in_background(write)
    store.release_background()  # the command's end: it does not wait
    assert store.DiskCache("bg").get("k" * 64) is None  # still being written
    store.allow_background(True)  # the next command line
    threading.Timer(0.3, go.touch).start()
    assert store.DiskCache("bg").get("k" * 64) == "written"  # its first access waited


def test_a_writer_still_at_work_after_the_limit_is_not_waited_for(
    background: Path, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    store.DiskCache("bg").get("0" * 64)
    store.in_background(lambda: (_wait_for(go), store.DiskCache("bg").put("k" * 64, 1)))
    store.allow_background(True)
    try:
        store.wait_for_writers(timeout=0.2)  # returns although the writer is not done
        assert store.DiskCache("bg").get("k" * 64) is None
    finally:
        go.touch()
    store.join_background()
    assert store.DiskCache("bg").get("k" * 64) == 1


def test_a_writer_never_waits_for_the_writers_itself(background: Path, tmp_path: Path) -> None:
    """A writer reads the cache too (a version index): it must not wait for its own lock."""
    done = tmp_path / "done"

    def write() -> None:
        store.allow_background(True)  # even where a command line starts in it
        store.wait_for_writers(timeout=60)
        done.write_text(str(os.getpid()))

    store.in_background(write)
    _wait_for(done, limit=30)
    assert done.exists()  # long before the 60 s a wait for itself would take


def test_writers_let_go_of_the_command_output(tmp_path: Path) -> None:
    """Whoever reads the command's output until it closes (a pipe, a CI step) is not held up by
    a writer still at work."""
    go = tmp_path / "go"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from ciiguard.cache import store
        store.allow_background(True)
        def write():
            go = Path({str(go)!r})
            deadline = time.monotonic() + 60
            while not go.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        store.in_background(write)
        store.release_background()
        print("verdict out")
    """)
    env = clean_env(CIIGUARD_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        out, err = proc.communicate(timeout=30)  # the writer waits 60 s for ``go``
    finally:
        go.touch()
    assert proc.returncode == 0, err
    assert out == "verdict out\n"


SLOW_WRITERS = """
import sys, time
from ciiguard.cache import versions
add = versions.Versions.add
def slow(self, *args):
    time.sleep(1.0)  # a slow disk: the command has long returned when this is written
    return add(self, *args)
versions.Versions.add = slow
from ciiguard.cli.app import main
code = main(sys.argv[1:])
parsed = "ciiguard.parsers.terraform.parser" in sys.modules
print("PARSED" if parsed else "REPLAYED", file=sys.stderr)
sys.exit(code)
"""


def test_a_run_right_after_one_with_slow_writers_is_replayed(tmp_path: Path) -> None:
    """End to end, two command lines: the second starts while the first one's writers are still
    at work, waits for them, and replays the stored run (it parses nothing)."""
    env = clean_env(CIIGUARD_CACHE_DIR=str(tmp_path / "cache"))
    argv = ["scan", str(EXAMPLE), "--no-config"]
    command = [sys.executable, "-c", SLOW_WRITERS, *argv]
    runs = [
        subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        for _ in range(2)
    ]
    assert [r.stderr.splitlines()[-1] for r in runs] == ["PARSED", "REPLAYED"]
    assert runs[0].returncode == runs[1].returncode == 1
    assert runs[0].stdout == runs[1].stdout


def test_a_lock_file_that_is_not_ours_alone_is_never_used(background: Path) -> None:
    """A link in its place is not followed (nor its target created); writers still write."""
    background.mkdir(mode=0o700)
    elsewhere = background.parent / "elsewhere"
    (background / "writers.lock").symlink_to(elsewhere)
    store.wait_for_writers()
    store.in_background(lambda: store.DiskCache("bg").put("k" * 64, 2))
    store.join_background()
    assert store.DiskCache("bg").get("k" * 64) == 2
    assert not elsewhere.exists()


def test_settle_tells_whether_writers_are_still_at_work(background: Path, tmp_path: Path) -> None:
    """``settle`` (for whoever reads or copies a cache directory after a command: a test, a CI
    step saving it) waits for the writers, or says they are not done."""
    go = tmp_path / "go"
    assert store.settle(background, timeout=0)  # no cache yet: nothing to wait for
    store.DiskCache("bg").get("0" * 64)
    store.in_background(lambda: (_wait_for(go), store.DiskCache("bg").put("k" * 64, 3)))
    try:
        assert not store.settle(background, timeout=0.2)
    finally:
        go.touch()
    assert store.settle(background, timeout=30)
    assert store.DiskCache("bg").get("k" * 64) == 3


def test_writes_inside_one_writer_run_as_one_job_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """A parse queues its cache writes and hands them to one background job at its end (one
    forked child for a root module calling hundreds of modules, not one per module): nothing
    runs before, all run after, in order, and one that fails does not stop the others."""
    from ciiguard.cache import store

    ran: list[str] = []
    jobs: list[object] = []
    real = store.in_background

    def counting(work: Any) -> None:
        jobs.append(work)
        real(work)

    store.allow_background(False)  # (the job runs here, at the end of the block)
    monkeypatch.setattr(store, "in_background", counting)

    def fails() -> None:
        raise OSError("disk full")

    with store.one_writer():
        store.in_background(lambda: ran.append("a"))
        store.in_background(fails)
        with store.one_writer():  # nested: the outer block keeps them
            store.in_background(lambda: ran.append("b"))
        assert ran == []
    assert ran == ["a", "b"] and len(jobs) == 4  # three queued, then the one job
    with store.one_writer():
        pass
    assert len(jobs) == 4  # nothing queued: no job
