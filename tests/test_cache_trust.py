"""A cache entry this installation did not write never decides a verdict.

Each test plants a replay entry that says "exit 0, passed" for a tree whose real verdict is exit 1
(CII001), through the installed command: in a world-writable ``replay/<xx>/`` folder, owned by
another user, forged by a same-user writer without the key, behind a symbolic link. The run must
still exit 1, and must not write into a folder it does not trust.
"""

from __future__ import annotations

import os
import pickle
import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, clean_env, run_cli

OTHER_UID = 4242


def tree_and_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    tree = tmp_path / "tree"
    shutil.copytree(EXAMPLES / "terraform" / "foreign-region", tree)
    env = clean_env(
        CIIGUARD_CACHE_DIR=str(tmp_path / "cache"),
        CIIGUARD_CACHE_KEY_FILE=str(tmp_path / "config" / "cache-key"),
    )
    return tree, env


def scan(tree: Path, env: dict[str, str]):
    # --jobs 1: cache writes finish before the command exits (no forked writer still running
    # when a test changes the cache folder's permissions under a loaded machine)
    return run_cli("scan", str(tree), "--no-config", "--jobs", "1", env=env)


def the_entry(tmp_path: Path) -> Path:
    """The stored run (the replay namespace also holds the index of stored versions)."""
    (entry,) = [
        e
        for e in (tmp_path / "cache" / "replay").rglob("*.pickle")
        if isinstance(pickle.loads(e.read_bytes().split(b"\n", 3)[3]), dict)
    ]
    return entry


def forge(entry: Path) -> None:
    """Rewrite a genuine replay entry to say "passed, exit 0", keeping its header and HMAC (a
    same-user writer without the key cannot compute a new one)."""
    magic, key, mac, payload = entry.read_bytes().split(b"\n", 3)
    value = pickle.loads(payload)
    value.update(code=0, stdout="ciiguard passed: poisoned\n", stderr="")
    entry.write_bytes(b"\n".join([magic, key, mac, pickle.dumps(value)]))


def genuine_poison(tmp_path: Path, env: dict[str, str], tree: Path) -> Path:
    """A poisoned entry with a valid HMAC: written through ciiguard's own store with the
    installation's key, as an attacker who could reach the key would. Only the directory and
    ownership checks can then refuse it."""
    entry = the_entry(tmp_path)
    from ciiguard.cache import store

    key_name = entry.parent.name + entry.name.removesuffix(".pickle")
    os.environ[store.KEY_ENV], old = env["CIIGUARD_CACHE_KEY_FILE"], os.environ[store.KEY_ENV]
    store._SECRET.clear()
    try:
        disk = store.DiskCache("replay", root=tmp_path / "cache")
        value = disk.get(key_name)
        assert isinstance(value, dict) and value["code"] == 1
        value.update(code=0, stdout="ciiguard passed: poisoned\n", stderr="")
        disk.put(key_name, value)
        assert disk.get(key_name)["code"] == 0  # a valid entry, as far as its bytes go
    finally:
        os.environ[store.KEY_ENV] = old
        store._SECRET.clear()
    return entry


def test_a_genuine_run_is_replayed(tmp_path: Path) -> None:
    tree, env = tree_and_env(tmp_path)
    first = scan(tree, env)
    assert first.code == 1
    assert scan(tree, env).stdout == first.stdout
    key = tmp_path / "config" / "cache-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600  # created private, outside the cache dir
    assert tmp_path / "cache" not in key.parents


def test_a_poisoned_entry_in_a_world_writable_folder_is_ignored(tmp_path: Path) -> None:
    tree, env = tree_and_env(tmp_path)
    assert scan(tree, env).code == 1
    entry = genuine_poison(tmp_path, env, tree)
    os.chmod(entry.parent, 0o777)  # replay/<xx>/ now writable by anyone
    before = sorted(p.name for p in entry.parent.iterdir())
    run = scan(tree, env)
    assert run.code == 1 and "passed: poisoned" not in run.stdout
    assert sorted(p.name for p in entry.parent.iterdir()) == before  # nothing written there
    os.chmod(entry.parent, 0o700)
    assert scan(tree, env).code == 0  # the same bytes in a private folder: the check was the folder


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_an_entry_owned_by_another_user_is_ignored(tmp_path: Path) -> None:
    tree, env = tree_and_env(tmp_path)
    assert scan(tree, env).code == 1
    entry = genuine_poison(tmp_path, env, tree)
    os.chown(entry, OTHER_UID, OTHER_UID)
    run = scan(tree, env)
    assert run.code == 1 and "passed: poisoned" not in run.stdout
    os.chown(entry.parent, OTHER_UID, OTHER_UID)  # a folder of another user's: same
    os.chown(entry, 0, 0)
    assert scan(tree, env).code == 1


def test_an_entry_forged_without_the_key_is_ignored(tmp_path: Path) -> None:
    tree, env = tree_and_env(tmp_path)
    assert scan(tree, env).code == 1
    entry = the_entry(tmp_path)
    forge(entry)  # same user, same folder, no key: the HMAC no longer matches
    run = scan(tree, env)
    assert run.code == 1 and "passed: poisoned" not in run.stdout
    # a cache restored from another job (another key) is ignored too, and rewritten
    assert scan(tree, env).code == 1
    other = dict(env, CIIGUARD_CACHE_KEY_FILE=str(tmp_path / "other" / "cache-key"))
    run = scan(tree, other)
    assert run.code == 1


def test_an_entry_behind_a_symbolic_link_is_ignored(tmp_path: Path) -> None:
    tree, env = tree_and_env(tmp_path)
    assert scan(tree, env).code == 1
    entry = genuine_poison(tmp_path, env, tree)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    moved = elsewhere / entry.name
    entry.rename(moved)
    entry.symlink_to(moved)  # the entry itself a link
    assert scan(tree, env).code == 1
    entry.unlink()
    moved.rename(entry)
    folder = entry.parent
    target = tmp_path / "folder-elsewhere"
    folder.rename(target)
    folder.symlink_to(target, target_is_directory=True)  # a folder on the way a link
    assert scan(tree, env).code == 1


def test_a_key_kept_inside_the_cache_directory_disables_the_cache(tmp_path: Path) -> None:
    tree, env = tree_and_env(tmp_path)
    env["CIIGUARD_CACHE_KEY_FILE"] = str(tmp_path / "cache" / "key")
    assert scan(tree, env).code == 1
    assert scan(tree, env).code == 1
    assert not (tmp_path / "cache" / "key").exists()
    assert not list((tmp_path / "cache").rglob("*.pickle"))


def test_a_readable_key_is_not_used(tmp_path: Path) -> None:
    tree, env = tree_and_env(tmp_path)
    assert scan(tree, env).code == 1
    key = tmp_path / "config" / "cache-key"
    os.chmod(key, 0o644)
    entries = sorted((tmp_path / "cache").rglob("*.pickle"))
    run = scan(tree, env)
    assert run.code == 1
    assert sorted((tmp_path / "cache").rglob("*.pickle")) == entries  # nothing new written
