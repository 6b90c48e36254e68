"""Parse and result caches: faster, never a different verdict; corrupt or stale entries are ignored."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from ciiguard.cache import results
from tests.conftest import EXAMPLES, ciiguard_exe, clean_env, run_cli


def scan(tree: Path, cache: Path, *extra: str) -> tuple[int, str]:
    run = run_cli(
        "scan",
        str(tree),
        "--format",
        "json",
        "--no-config",
        *extra,
        env=clean_env(CIIGUARD_CACHE_DIR=str(cache)),
    )
    assert run.code in (0, 1), run.stderr
    return run.code, run.stdout


def forget_scans(cache: Path) -> None:
    """Drop every cache above the parse cache (whole runs, results, root modules)."""
    for name in ("results", "replay", "roots"):
        shutil.rmtree(cache / name)


def copy_examples(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(
        EXAMPLES / "terraform", tree, ignore=shutil.ignore_patterns("*.png", "*.svg", "*.sh")
    )
    return tree


def test_cold_warm_and_uncached_runs_give_identical_json(tmp_path: Path) -> None:
    tree, cache = copy_examples(tmp_path), tmp_path / "cache"
    cold = scan(tree, cache)
    assert any((cache / "results").rglob("*.pickle"))
    # a directory's parse is kept the second time its content is parsed (admission)
    assert (cache / "parse" / "seen.txt").read_text().split() and not any(
        (cache / "parse").rglob("*.pickle")
    )
    warm = scan(tree, cache)
    forget_scans(cache)
    second = scan(tree, cache)
    assert any((cache / "parse").rglob("*.pickle"))
    forget_scans(cache)
    parse_warm = scan(tree, cache)
    uncached = scan(tree, tmp_path / "unused", "--no-cache")
    assert cold == warm == second == parse_warm == uncached
    assert not (tmp_path / "unused").exists()  # --no-cache writes nothing


def test_a_changed_file_or_variable_file_is_never_answered_from_the_cache(tmp_path: Path) -> None:
    tree, cache = copy_examples(tmp_path), tmp_path / "cache"
    code, _ = scan(tree / "compliant", cache)
    assert code == 0
    main = tree / "compliant" / "main.tf"
    main.write_text(main.read_text().replace('region = "cn-north-1"', 'region = "us-east-1"', 1))
    code, after = scan(tree / "compliant", cache)
    assert code == 1 and '"us-east-1"' in after
    # a new auto.tfvars file: the directory listing changed
    code, _ = scan(tree / "variable-driven", cache)
    assert code == 1
    (tree / "variable-driven" / "z.auto.tfvars").write_text('region = "cn-northwest-1"\n')
    code, _ = scan(tree / "variable-driven", cache)
    assert code == 0
    # the environment decides variables too
    env = clean_env(CIIGUARD_CACHE_DIR=str(cache), TF_VAR_region="eu-west-1")
    (tree / "variable-driven" / "z.auto.tfvars").unlink()
    (tree / "variable-driven" / "terraform.tfvars").unlink()
    assert run_cli("scan", str(tree / "variable-driven"), "--no-config", env=env).code == 1
    assert scan(tree / "variable-driven", cache)[0] == 0  # default cn-north-1 without TF_VAR_


def test_corrupt_and_truncated_entries_are_ignored_and_rewritten(tmp_path: Path) -> None:
    tree, cache = copy_examples(tmp_path), tmp_path / "cache"
    good = scan(tree, cache)
    entries = sorted(cache.rglob("*.pickle"))
    assert entries
    for n, entry in enumerate(entries):
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) // 2] if n % 2 else b"garbage" + data[7:])
    assert scan(tree, cache) == good
    assert scan(tree, cache) == good  # rewritten entries are valid again


def test_concurrent_runs_share_the_cache_safely(tmp_path: Path) -> None:
    tree, cache = copy_examples(tmp_path), tmp_path / "cache"
    expected = scan(tree, tmp_path / "other-cache")
    env = clean_env(CIIGUARD_CACHE_DIR=str(cache))
    cmd = [*ciiguard_exe(), "scan", str(tree), "--format", "json", "--no-config"]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == expected[0] for p in procs), [o[1] for o in outs]
    assert all(o[0] == expected[1] for o in outs)
    from ciiguard.cache.store import settle

    assert settle(cache, timeout=120)  # the writers the four runs left behind are done too
    assert not [p for p in cache.rglob(".tmp-*") if os.path.exists(p)]  # no torn temp files left


def test_background_writes_are_complete_when_the_command_returns(tmp_path: Path) -> None:
    import os

    from ciiguard.cache.store import DiskCache, allow_background, in_background, join_background

    disk = DiskCache("bg", root=tmp_path)
    parent = os.getpid()
    allow_background(True)
    try:
        in_background(lambda: disk.put("k" * 64, {"written by": os.getpid()}))
    finally:
        join_background()
        allow_background(False)
    entry = disk.get("k" * 64)
    assert isinstance(entry, dict)
    # forked where fork exists (and no other thread runs): written by another process
    if hasattr(os, "fork") and __import__("threading").active_count() == 1:
        assert entry["written by"] != parent


def test_library_callers_write_in_their_own_process(tmp_path: Path) -> None:
    import os

    from ciiguard.cache.store import DiskCache, in_background

    disk = DiskCache("bg", root=tmp_path)
    in_background(lambda: disk.put("k" * 64, os.getpid()))  # background not allowed: inline
    assert disk.get("k" * 64) == os.getpid()


def _cache_state(cache: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}


def test_going_back_to_an_earlier_tree_is_replayed_and_identical(tmp_path: Path) -> None:
    """Revert an edit (or switch back to a branch): the run for that tree is still stored, so it
    is replayed (nothing is written to the cache), byte for byte what --no-cache says."""
    tree, cache = copy_examples(tmp_path), tmp_path / "cache"
    main = tree / "compliant" / "main.tf"
    original = main.read_text()
    first = scan(tree, cache)
    main.write_text(original.replace('region = "cn-north-1"', 'region = "us-east-1"', 1))
    edited = scan(tree, cache)
    assert edited != first
    main.write_text(original)
    before = _cache_state(cache)
    again = scan(tree, cache)
    assert again == first == scan(tree, tmp_path / "unused", "--no-cache")
    assert _cache_state(cache) == before  # replayed: no entry written
    main.write_text(original.replace('region = "cn-north-1"', 'region = "us-east-1"', 1))
    assert scan(tree, cache) == edited


def test_versions_keep_the_newest_few_and_delete_the_rest(tmp_path: Path) -> None:
    from ciiguard.cache.store import DiskCache
    from ciiguard.cache.versions import LIMIT, Versions

    disk = DiskCache("v", root=tmp_path)
    versions = Versions(disk, "k" * 64)
    for n in range(LIMIT + 2):
        versions.add(f"listing{n}", {"f": f"fp{n}"}, {"n": n})
    payloads = sorted((tmp_path / "v").rglob("*.pickle"))
    assert len(payloads) == LIMIT + 1  # the index and LIMIT versions: older ones deleted
    assert versions.find(lambda listing, m: m == {"f": f"fp{LIMIT + 1}"}) == {"n": LIMIT + 1}
    assert versions.find(lambda listing, m: listing == "listing0") is None  # pushed out
    assert versions.find(lambda listing, m: listing == "listing2") == {"n": 2}
    versions.add("listing2", {"f": "fp2"}, {"n": "again"})  # the same tree state: replaced
    assert versions.find(lambda listing, m: listing == "listing2") == {"n": "again"}
    assert len(sorted((tmp_path / "v").rglob("*.pickle"))) == LIMIT + 1


def test_the_command_line_lists_the_tree_once_and_forgets_it(tmp_path: Path) -> None:
    """The replay check and the result cache share one listing per command line; after the
    command returns, a library caller in the same process lists the tree afresh."""
    from ciiguard.cache import results
    from ciiguard.cli.app import main

    tree = copy_examples(tmp_path) / "compliant"
    calls: list[int] = []
    real = results._listing

    def counting(paths: object) -> str:
        calls.append(1)
        return real(paths)  # type: ignore[arg-type]

    import pytest as _pytest

    with _pytest.MonkeyPatch.context() as mp:
        mp.setenv("CIIGUARD_CACHE_DIR", str(tmp_path / "cache"))
        mp.setattr(results, "_listing", counting)
        main(["scan", str(tree), "--no-config", "--format", "json", "--output",
              str(tmp_path / "out.json")])  # fmt: skip
        assert len(calls) == 1
        assert results._LISTINGS is None
        results.listing([tree])
        results.listing([tree])
        assert len(calls) == 3


def _fingerprint_as_before(path: Path | str) -> str:
    """The fingerprint as it was first written: a file object per file, a failed open per
    directory."""
    import hashlib

    from ciiguard.cache.store import digest

    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            return "file:" + hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        try:
            if os.path.isdir(name):
                return "dir:" + digest(*sorted(os.listdir(name)))
        except OSError:
            pass
        return "missing"


def test_fingerprints_are_what_they_were_for_every_kind_of_path(tmp_path: Path) -> None:
    """Files (empty, big, binary), directories (empty, full, through a link), links to each,
    dangling links, missing paths, unreadable files and directories: the same answer as the
    first fingerprint, so stored entries stay valid."""
    from ciiguard.cache.results import fingerprint

    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "big").write_bytes(os.urandom(300_000))
    (tmp_path / "text.tf").write_text('resource "a" "b" {}\n')
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_text("x")
    (tmp_path / "d" / "y").mkdir()
    for i in range(40):  # more than the file system's own order happens to sort
        (tmp_path / "d" / f"{(i * 7919) % 97:02d}-{os.urandom(3).hex()}").write_text(str(i))
    (tmp_path / "e").mkdir()
    (tmp_path / "to-file").symlink_to(tmp_path / "text.tf")
    (tmp_path / "to-dir").symlink_to(tmp_path / "d")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "locked").write_text("secret")
    (tmp_path / "locked").chmod(0)
    (tmp_path / "closed").mkdir()
    (tmp_path / "closed" / "z").write_text("z")
    (tmp_path / "closed").chmod(0)
    try:
        names = ["empty", "big", "text.tf", "d", "d/x", "d/y", "e", "to-file", "to-dir",
                 "dangling", "nowhere", "locked", "closed", "closed/z", "text.tf/x",
                 "nowhere/x", "d/y/.terraform/modules/modules.json"]  # fmt: skip
        for name in names:
            for path in (tmp_path / name, str(tmp_path / name)):
                assert fingerprint(path) == _fingerprint_as_before(path), name
        # the command line's listing walk answers for the directories it listed: the same
        try:
            results.remember_listings()
            results.listing([tmp_path])
            assert {str(tmp_path / d) for d in ("d", "d/y", "e")} <= set(results._LISTED or {})
            for name in names:
                for path in (tmp_path / name, str(tmp_path / name)):
                    assert fingerprint(path) == _fingerprint_as_before(path), name
        finally:
            results.remember_listings(False)
        assert results._LISTED is None
        assert fingerprint(tmp_path / "d").startswith("dir:")
        assert fingerprint(tmp_path / "big").startswith("file:")
        assert fingerprint(tmp_path / "nowhere") == "missing"
    finally:
        (tmp_path / "locked").chmod(0o600)
        (tmp_path / "closed").chmod(0o700)


def test_a_listed_directory_is_answered_from_the_run_s_listing(tmp_path: Path) -> None:
    """Within one command line, a directory the listing walk read is fingerprinted from that
    listing (taken once, before the scan): the per-root cache checks every module directory."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text("")
    before = results.fingerprint(str(tmp_path / "m"))
    try:
        results.remember_listings()
        results.listing([tmp_path])
        (tmp_path / "m" / "new.tf").write_text("")  # after the listing: the run's snapshot holds
        assert results.fingerprint(str(tmp_path / "m")) == before
        assert results.fingerprint(tmp_path / "m") == before
    finally:
        results.remember_listings(False)
    assert results.fingerprint(str(tmp_path / "m")) != before  # a new run lists it again


def test_the_code_digest_is_the_rglob_digest(tmp_path: Path) -> None:
    """``_tree_digest`` walks with ``scandir``; it gives the digest first defined over
    ``sorted(rglob("*"))``: compiled code, ``__pycache__`` and links to directories left out,
    links to files read, in the order of the paths' parts."""
    import hashlib

    def as_defined(package: Path) -> str:
        h = hashlib.sha256()
        for f in sorted(package.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts and f.suffix not in (".pyc", ".pyo"):
                h.update(str(f.relative_to(package)).encode() + b"\0" + f.read_bytes() + b"\0")
        return h.hexdigest()

    pkg = tmp_path / "pkg"
    for rel in ("a.py", "a-b.py", "a/b.py", "a.b/c.json", "ab/x.py", ".pyc", "x.pyc", "y.pyo",
                "__pycache__/a.cpython-311.pyc", "sub/__pycache__/k.py", "sub/deep/z.txt"):  # fmt: skip
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(rel)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.py").write_text("o")
    (pkg / "linked-dir").symlink_to(outside)
    (pkg / "linked-file.py").symlink_to(outside / "o.py")
    (pkg / "dangling.py").symlink_to(tmp_path / "nowhere")
    os.mkfifo(pkg / "fifo")
    assert results._tree_digest(pkg) == as_defined(pkg)
    assert results._tree_digest(results.CODE_ROOT) == as_defined(results.CODE_ROOT)


PLUGIN_READING_DATA = '''
import json, os
import ciiguard

@ciiguard.hookimpl
def ciiguard_catalogue():
    with open(os.environ["DATAPLUG_FILE"], encoding="utf-8") as f:
        return [json.load(f)]
'''

STORE_ABROAD = """
provider "aws" {
  region = "ap-east-1"
}
resource "aws_foo_store" "f" {
  tags = { data-classification = "personal" }
}
"""


def test_a_plugin_s_catalogue_data_is_part_of_the_key(tmp_path: Path) -> None:
    """A plugin may read its catalogue data from a file outside its package, whose hash the key
    holds: what it contributed is in the key too. A cached run answered with the verdict of the
    data it had before (fifteenth audit: a type the new data made data-bearing was not checked)."""
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "dataplug.py").write_text(PLUGIN_READING_DATA)
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "main.tf").write_text(STORE_ABROAD)
    data = tmp_path / "catalogue.json"
    env = clean_env(
        CIIGUARD_CACHE_DIR=str(tmp_path / "cache"),
        PYTHONPATH=str(tmp_path / "mod"),
        DATAPLUG_FILE=str(data),
    )

    def policies() -> list[str]:
        run = run_cli("scan", str(tmp_path / "tree"), "-p", "dataplug", "--format", "json",
                      "--no-config", env=env)  # fmt: skip
        assert run.code in (0, 1), run.stderr
        return [v["policy"] for v in json.loads(run.stdout)["violations"]]

    data.write_text(json.dumps({"provider": "aws", "source": "test", "data_bearing": []}))
    assert policies() == []
    bearing = {"type": "aws_foo_store", "family": "object-storage", "source": "test"}
    data.write_text(json.dumps({"provider": "aws", "source": "test", "data_bearing": [bearing]}))
    assert policies() == ["CII001"]
    assert policies() == ["CII001"]  # and cached as such
