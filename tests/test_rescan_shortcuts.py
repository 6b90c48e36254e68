"""The re-scan's shortcuts, each held to the slower definition it stands for.

- A file whose signature (device, inode, size, modification and change times) is the one an
  earlier run recorded with its hash is not hashed again (``cache.roots``); an edit that keeps
  the size and puts the modification time back is still seen (the change time moves), and a
  file changed just before it was hashed is never recorded ("racy").
- Discovery reads the directories the command line's listing walk read from that listing: the
  same files claimed and the same errors as from ``scandir``, over every kind of entry.
- ``terminal`` passes a printable ASCII line without ``##`` through as is: the escaping it
  skips would not have changed it.
- The baseline's directory-by-directory ``realpath`` is ``os.path.realpath``, and
  ``paths.absolute`` is ``os.path.abspath``.
"""

from __future__ import annotations

import itertools
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest

from ciiguard.cache import results
from ciiguard.cache import roots as roots_cache
from ciiguard.cache.store import allow_background


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CIIGUARD_CACHE_DIR", str(tmp_path / "cache"))
    allow_background(False)  # saved in this process: the next RootCache reads it
    return tmp_path / "cache"


def _run(path: Path, key: str = "k") -> tuple[str, dict[str, Any]]:
    """One run's fingerprint of ``path`` through the per-root cache, then its save."""
    cache = roots_cache.RootCache(key)
    found = cache.fingerprint(str(path))
    cache.dirs[str(path.parent)] = ({str(path): found}, [])  # something to save
    cache.save()
    return found, dict(cache.signed)


@pytest.mark.skipif(not results.SIGNATURES, reason="no inode change times on this system")
def test_a_same_size_edit_with_its_old_mtime_is_hashed_again(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "main.tf"
    f.write_text('region = "us-east-1"\n')
    first, signed = _run(f)
    assert signed == {}  # just written: racy, so not recorded
    monkeypatch.setattr(results, "RACY_NS", 0)
    assert _run(f)[0] == first and str(f) in _run(f)[1]  # recorded now
    reads: list[str] = []
    signed_fingerprint = roots_cache.signed_fingerprint

    def hashing(path: str) -> Any:
        reads.append(path)
        return signed_fingerprint(path)

    monkeypatch.setattr(roots_cache, "signed_fingerprint", hashing)
    assert _run(f)[0] == first and reads == []  # answered by the signature
    st = f.stat()
    f.write_text('region = "us-west-1"\n')  # the same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old modification time
    assert f.stat().st_size == st.st_size and f.stat().st_mtime_ns == st.st_mtime_ns
    second, _ = _run(f)
    assert reads == [str(f)] and second == results.fingerprint(f) != first
    os.unlink(f)
    f.write_text('region = "us-east-1"\n')  # a new file (inode) with the first content
    assert _run(f)[0] == first


@pytest.mark.skipif(not results.SIGNATURES, reason="no inode change times on this system")
def test_only_regular_files_read_at_rest_are_signed(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(results, "RACY_NS", 0)
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "f")
    assert results.signed_fingerprint(tmp_path / "d")[1] is None
    assert results.signed_fingerprint(tmp_path / "nowhere") == ("missing", None)
    assert results.signed_fingerprint(tmp_path / "f")[1] is not None
    target = results.signed_fingerprint(tmp_path / "f")
    assert results.signed_fingerprint(tmp_path / "link") == target  # the file it reaches
    monkeypatch.setattr(results, "RACY_NS", 10**18)  # everything changed "just now"
    assert results.signed_fingerprint(tmp_path / "f")[1] is None


def _tree(root: Path) -> Path:
    t = root / "t"
    for d in ("a/b", "c", ".terraform/modules", "node_modules/x", "skipme"):
        (t / d).mkdir(parents=True)
    for f in ("main.tf", "a/main.tf", "a/b/x.tf.json", "a/notes.txt", "c/terragrunt.hcl",
              ".terraform/modules/m.tf", "node_modules/x/y.tf", "skipme/z.tf", "c/vars.tfvars"):  # fmt: skip
        (t / f).write_text("")
    outside = root / "outside"
    outside.mkdir()
    (outside / "o.tf").write_text("")
    (t / "in-link").symlink_to(t / "a")  # a directory link inside the tree
    (t / "out-link").symlink_to(outside)  # and one out of it, holding inputs
    (t / "dangling.tf").symlink_to(t / "nowhere")
    (t / "file-link.tf").symlink_to(t / "main.tf")
    (t / "escape.tf").symlink_to(outside / "o.tf")
    if hasattr(os, "mkfifo"):
        os.mkfifo(t / "fifo.tf")
    return t


@pytest.mark.parametrize("skip", [(), ("skipme",), ("a/*",)])
def test_discovery_from_the_listing_is_discovery_from_scandir(
    tmp_path: Path, skip: tuple[str, ...]
) -> None:
    from ciiguard.parsers.base import ParseContext
    from ciiguard.plugins.manager import build
    from ciiguard.resolve.discover import discover
    from ciiguard.scan import gather
    from ciiguard.settings import Settings

    t = _tree(tmp_path)
    plugins = gather(build(autoload=False))
    settings = Settings(skip_paths=skip)

    def run() -> tuple[Any, ...]:
        ctx = ParseContext(settings=settings, catalogue=plugins.catalogue, roots=[t.resolve()])
        errors: list[Any] = []
        claimed = discover([t], plugins.parsers, ctx, errors)
        return claimed, errors

    fresh = run()
    try:
        results.remember_listings()
        results.listing([t])
        assert results.listed_entries(os.path.abspath(t)) is not None
        listed = run()
    finally:
        results.remember_listings(False)
    assert listed == fresh
    files = {os.path.relpath(f, t) for fs in fresh[0].values() for f in fs}
    assert "main.tf" in files and "file-link.tf" in files and "node_modules/x/y.tf" not in files
    assert {e.file.rsplit("/", 1)[-1] for e in fresh[1]} >= {"dangling.tf", "escape.tf", "out-link"}


def _terminal_as_before(line: object) -> str:
    from ciiguard.escaping import visible

    out = re.sub("#(?=#)", "#\\\\", visible(line))
    if out.lstrip().startswith("::"):
        out = out.replace("::", "\\::", 1)
    return out


def test_terminal_passes_a_plain_line_through_as_escaping_would() -> None:
    from ciiguard.escaping import terminal

    rng = random.Random(7)
    alphabet = "ab #:\t\x1b\x7f\x85é\u202e\u2028\ud800~"
    lines = ["", "##", "::warning::x", "  ::x", "a # b", "plain ascii line, with (punctuation)!"]
    lines += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(12))) for _ in range(3000)]
    for line in lines:
        assert terminal(line) == _terminal_as_before(line), repr(line)
    assert terminal(42) == "42"


def test_the_baseline_realpath_is_os_realpath(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ciiguard.paths import realpath as _realpath

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "abs").symlink_to(tmp_path / "a" / "b")
    (tmp_path / "rel").symlink_to("a/b")
    (tmp_path / "a" / "b" / "up").symlink_to("../..")
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "dangling").symlink_to("nowhere")
    parts = ["a", "b", "..", ".", "abs", "rel", "up", "loop", "dangling", "missing"]
    memo: dict[Any, str] = {}
    for n in range(1, 4):
        for combo in itertools.product(parts, repeat=n):
            path = os.path.join(tmp_path, *combo)
            assert _realpath(path, memo) == os.path.realpath(path), path
    monkeypatch.chdir(tmp_path)
    for combo in itertools.product(parts, repeat=2):
        path = os.path.join(*combo)
        assert _realpath(path, memo) == os.path.realpath(path), path


def test_absolute_is_abspath(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ciiguard.paths import absolute

    rng = random.Random(11)
    pieces = ["a", "b.tf", ".", "..", "", "/", "//", "x y", "é", ".hidden", "..a", "a.."]
    for cwd in (tmp_path, Path("/")):
        monkeypatch.chdir(cwd)
        for _ in range(5000):
            path = "/".join(rng.choice(pieces) for _ in range(rng.randrange(1, 6)))
            assert absolute(path, os.getcwd()) == os.path.abspath(path), (cwd, path)


def test_a_path_the_listing_shows_absent_is_missing_as_an_open_finds_it(tmp_path: Path) -> None:
    """Within one command line, a path below a listed directory that lacks the next name on the
    way is ``missing`` without an open (the probes for ``.terraform/modules/modules.json``)."""
    (tmp_path / "root" / "sub").mkdir(parents=True)
    (tmp_path / "root" / "main.tf").write_text("")
    (tmp_path / "root" / ".terraform").mkdir()  # skipped by the walk, so never listed itself
    (tmp_path / "root" / ".terraform" / "modules").mkdir()
    (tmp_path / "root" / ".terraform" / "modules" / "modules.json").write_text("{}")
    names = ["root/.terraform/modules/modules.json", "root/sub/.terraform/modules/modules.json",
             "root/main.tf/x", "root/nowhere", "root/sub/", "root/sub", "root//sub",
             "root/./main.tf", "root/sub/../main.tf", "root/main.tf"]  # fmt: skip
    before = {n: results.fingerprint(os.path.join(tmp_path, n)) for n in names}
    opened: list[str] = []
    real_open = os.open

    def counting(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    try:
        results.remember_listings()
        results.listing([tmp_path / "root"])
        os.open = counting  # type: ignore[assignment]
        for n in names:
            assert results.fingerprint(os.path.join(tmp_path, n)) == before[n], n
    finally:
        os.open = real_open  # type: ignore[assignment]
        results.remember_listings(False)
    assert os.path.join(tmp_path, "root/sub/.terraform/modules/modules.json") not in opened
    assert os.path.join(tmp_path, "root/nowhere") not in opened
    assert os.path.join(tmp_path, "root/.terraform/modules/modules.json") in opened
