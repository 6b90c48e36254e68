"""Determinism: the same input gives byte-identical JSON and SARIF, whatever the order files were
created in, the state of the caches, the number of parse workers or the hash seed.

The tree is every adversarial fixture the gate can judge without options (dozens of roots:
Terraform HCL and JSON, modules, plan JSON, Pulumi YAML and JSON), rebuilt in one directory so
absolute paths in SARIF stay equal; more than enough ``.tf`` files for the parallel parser.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import FIXTURES, clean_env, run_cli

ADV = FIXTURES / "adversarial"
# cases that are refused (exit 2) keep the result cache from storing: leave them out
REFUSED = {
    "duplicate-attribute",
    "duplicate-provider",
    "duplicate-variable",
    "duplicate-local",
    "tfvars-duplicate-key",
    "tfvars-json-duplicate-key",
    "tf-json-duplicate-key",
    "pulumi-several-stacks",
}


def _files() -> dict[str, bytes]:
    out = {}
    for case in sorted(p for p in ADV.iterdir() if p.is_dir() and p.name not in REFUSED):
        for f in case.rglob("*"):
            if f.is_file():
                out[f.relative_to(ADV).as_posix()] = f.read_bytes()
    return out


def _build(root: Path, files: dict[str, bytes], order: list[str]) -> None:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for name in order:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[name])


def _scan(tree: Path, out: Path, cache: Path | None, *extra: str, seed: str) -> int:
    args = ["scan", "."]
    args += ["--format", f"json:{out}.json", "--format", f"sarif:{out}.sarif", "--no-config"]
    if cache is None:
        args.append("--no-cache")
    env = clean_env(PYTHONHASHSEED=seed)
    if cache is not None:
        env["CIIGUARD_CACHE_DIR"] = str(cache)
    run = run_cli(*args, *extra, env=env, cwd=tree)
    assert "Traceback" not in run.stderr and "error:" not in run.stderr, run.stderr
    return run.code


def test_reports_are_byte_identical_across_order_caches_workers_and_seeds(tmp_path: Path) -> None:
    files = _files()
    names = sorted(files)
    assert sum(n.endswith(".tf") for n in names) >= 48  # twice the parallel-parse threshold
    tree, out, cache = tmp_path / "tree", tmp_path / "out", tmp_path / "cache"
    out.mkdir()

    _build(tree, files, names)
    runs = {"cold-cache-1-worker": _scan(tree, out / "a", cache, "--jobs", "1", seed="0")}
    assert any((cache / "results").rglob("*.pickle")), "the cold run stored a result to hit"
    runs |= {
        "warm-cache": _scan(tree, out / "b", cache, "--jobs", "1", seed="0"),
        "no-cache-4-workers": _scan(tree, out / "c", None, "--jobs", "4", seed="123"),
    }
    _build(tree, files, list(reversed(names)))  # directory entries in the opposite order
    runs["reversed-fresh-cache-2-workers"] = _scan(
        tree, out / "d", tmp_path / "cache2", "--jobs", "2", seed="7"
    )
    runs["reversed-warm-cache"] = _scan(
        tree, out / "e", tmp_path / "cache2", "--jobs", "2", seed="99"
    )

    assert set(runs.values()) == {1}
    for ext in ("json", "sarif"):
        outputs = {p.stem: p.read_bytes() for p in sorted(out.glob(f"*.{ext}"))}
        assert len(outputs) == 5
        first = outputs["a"]
        assert first.count(b'"CII00') > 60  # a report with many findings of every policy
        for name, data in outputs.items():
            assert data == first, f"{ext} report {name} differs from a"


# -- the cache cannot be used to run code or to change a verdict --------------------------------
def _entries(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.pickle"))


def _rewrite(entry: Path, payload: bytes) -> None:
    data = entry.read_bytes()
    header = data[: data.index(b"\n", len(b"ciiguard-cache-1\n")) + 1]
    entry.write_bytes(header + payload)


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_cache_entry_cannot_run_code(tmp_path: Path) -> None:
    import pickle

    case = ADV / "s3-replication-foreign-alias"
    cache = tmp_path / "cache"
    first = run_cli(
        "scan",
        ".",
        "--format",
        "json",
        "--no-config",
        env=clean_env(CIIGUARD_CACHE_DIR=str(cache)),
        cwd=case,
    )
    marker = tmp_path / "pwned"
    for entry in _entries(cache):
        _rewrite(entry, pickle.dumps(_Exploit(marker)))
    again = run_cli(
        "scan",
        ".",
        "--format",
        "json",
        "--no-config",
        env=clean_env(CIIGUARD_CACHE_DIR=str(cache)),
        cwd=case,
    )
    assert not marker.exists(), "unpickling a cache entry ran code"
    assert (again.code, again.stdout) == (first.code, first.stdout)


def test_a_cache_others_can_write_is_not_trusted(tmp_path: Path) -> None:
    import pickle

    case = ADV / "s3-replication-foreign-alias"
    cache = tmp_path / "cache"
    env = clean_env(CIIGUARD_CACHE_DIR=str(cache))
    first = run_cli("scan", ".", "--format", "json", "--no-config", env=env, cwd=case)
    assert first.code == 1
    from ciiguard.cache.results import Entry

    (entry,) = [  # the stored result (the namespace also holds the index of stored versions)
        e
        for e in _entries(cache / "results")
        if isinstance(pickle.loads(e.read_bytes().split(b"\n", 3)[3]), Entry)
    ]
    magic, key, mac, payload = entry.read_bytes().split(b"\n", 3)
    stored = pickle.loads(payload)
    result = stored.result
    result.violations.clear()  # a forged "passed" verdict for the same tree
    forged_entry = Entry(stored.listing, stored.manifest, result)
    entry.write_bytes(b"\n".join([magic, key, mac, pickle.dumps(forged_entry)]))
    shutil.rmtree(cache / "replay")  # (or the stored outputs are replayed before the result)
    forged = run_cli("scan", ".", "--format", "json", "--no-config", env=env, cwd=case)
    assert forged.code == 1  # written without the key: its HMAC does not match (test_cache_trust)
    cache.chmod(0o777)  # ...and a directory others can write is not used
    (cache / "results").chmod(0o777)
    shared = run_cli("scan", ".", "--format", "json", "--no-config", env=env, cwd=case)
    assert (shared.code, shared.stdout) == (first.code, first.stdout)


def test_maps_are_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    """The residency map in every format, at the most detailed level, whatever the hash seed (the
    html page's verdict tables were once built from a set: their order changed with it)."""
    tree = FIXTURES / "gate"  # blocking, suppressed and passing verdicts
    outputs: dict[str, set[bytes]] = {}
    for seed in ("0", "1", "2"):
        for fmt in ("html", "svg", "mermaid", "dot"):
            out = tmp_path / f"{seed}.{fmt}"
            run = run_cli("map", str(tree), "--format", fmt, "--detail", "resources",
                          "--no-cache", "--no-config", "--output", str(out),
                          env=clean_env(PYTHONHASHSEED=seed))  # fmt: skip
            assert run.code == 0, run.stderr
            outputs.setdefault(fmt, set()).add(out.read_bytes())
    assert b'"suppressed"' in next(iter(outputs["html"]))  # verdicts beyond pass and blocking
    assert {fmt: len(found) for fmt, found in outputs.items()} == dict.fromkeys(outputs, 1)
