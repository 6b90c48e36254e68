"""Replayed scans (``ciiguard.cache.replay``): byte-identical outputs, and a miss whenever anything
that decides them changed."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ciiguard.cache import replay
from ciiguard.cli import app as cli
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "terraform" / "cross-border-replication"

Outcome = tuple[int, str, str, dict[str, bytes]]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CIIGUARD_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("CI", "GITHUB_ACTIONS", "CIIGUARD_DEBUG", "CIIGUARD_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(replay, "_entry_point_plugins", lambda: False)
    return tmp_path


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the runs that really scanned (instead of replaying)."""
    calls: list[int] = []
    real = cli._scan

    def counting(*args: object, **kwargs: object) -> int:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "_scan", counting)
    return calls


def run(capsys: pytest.CaptureFixture[str], argv: list[str], files: list[Path] = ()) -> Outcome:  # type: ignore[assignment]
    for f in files:
        f.unlink(missing_ok=True)
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err, {str(f): f.read_bytes() for f in files if f.exists()}


def entries(env: Path) -> list[Path]:
    """The stored runs (the namespace also holds each key's index of stored versions), once the
    writers the last run left behind are done."""
    import pickle

    from ciiguard.cache.store import join_background

    join_background()

    def stored_run(path: Path) -> bool:
        try:
            return isinstance(pickle.loads(path.read_bytes().split(b"\n", 3)[3]), dict)
        except Exception:  # noqa: BLE001 - a truncated entry is a stored run too
            return True

    return sorted(p for p in (env / "cache" / "replay").rglob("*.pickle") if stored_run(p))


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--format", "json"],
        ["--format", "sarif:{tmp}/r.sarif", "--format", "junit:{tmp}/r.xml"],
        ["--format", "markdown", "--output", "{tmp}/r.md"],
        ["--format", "github", "--fail-on", "advisory"],
        ["--soft-fail", "--cii-workload"],
    ],
)
def test_a_replay_is_byte_identical_to_a_fresh_scan(
    env: Path, scans: list[int], capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    argv = ["scan", str(EXAMPLE), *[a.replace("{tmp}", str(env)) for a in extra]]
    files = [
        Path(a if a.startswith(str(env)) else a.split(":", 1)[1]) for a in argv if str(env) in a
    ]
    fresh = run(capsys, [*argv, "--no-cache"], files)
    assert fresh[0] in (0, 1) and not entries(env)
    first = run(capsys, argv, files)
    assert len(entries(env)) == 1 and len(scans) == 2
    again = run(capsys, argv, files)
    assert len(scans) == 2, "the third run scanned instead of replaying"
    assert again == first == fresh


def _copy(env: Path) -> Path:
    tree = env / "tree"
    shutil.copytree(EXAMPLE, tree)
    return tree


CHANGES: dict[str, Callable[[Path, pytest.MonkeyPatch], None]] = {
    "an input file's content": lambda t, mp: (t / "main.tf").write_text(
        (t / "main.tf").read_text().replace("ap-east-1", "cn-northwest-1")
    ),
    "a new file": lambda t, mp: (t / "extra.tf").write_text('variable "x" {}\n'),
    "a new config file": lambda t, mp: (t / "ciiguard.toml").write_text("cii_workload = true\n"),
    "a variable in the environment": lambda t, mp: mp.setenv("TF_VAR_anything", "1"),
    "the day (approvals expire)": lambda t, mp: mp.setattr(
        replay, "_today", lambda: dt.date.today() + dt.timedelta(days=1)
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_that_decides_the_outputs_is_a_miss(
    env: Path,
    scans: list[int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:
    tree = _copy(env)
    argv = ["scan", str(tree), "--format", "json"]
    run(capsys, argv)
    run(capsys, argv)
    assert len(scans) == 1
    CHANGES[change](tree, monkeypatch)
    changed = run(capsys, argv)
    assert len(scans) == 2, f"replayed after {change} changed"
    monkeypatch.setattr(cli, "_scan", lambda *a, **k: pytest.fail("should replay"))
    assert run(capsys, argv) == changed  # and the new outputs are stored in turn


def test_a_changed_baseline_is_a_miss(
    env: Path, scans: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _copy(env)
    base = env / "baseline.json"
    assert run(capsys, ["scan", str(tree), "--create-baseline", str(base)])[0] == 0
    argv = ["scan", str(tree), "--baseline", str(base)]
    quiet = run(capsys, argv)
    assert quiet[0] == 0 and run(capsys, argv) == quiet and len(scans) == 2
    base.write_text(base.read_text().replace('"fingerprint": "', '"fingerprint": "x'))
    loud = run(capsys, argv)
    assert loud[0] == 1 and len(scans) == 3


@pytest.mark.parametrize(
    "extra",
    [
        ["--no-cache"],
        ["--explain", "aws_s3_bucket.source"],
        ["-p", "healthy"],
    ],
)
def test_runs_that_are_not_replayed(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, extra: list[str]
) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES / "plugins"))
    run(capsys, ["scan", str(EXAMPLE), *extra])
    run(capsys, ["scan", str(EXAMPLE), *extra])
    assert not entries(env)


def test_errors_are_never_stored(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = env / "bad"
    bad.mkdir()
    (bad / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = \n}\n')
    assert run(capsys, ["scan", str(bad)])[0] == 2
    assert not entries(env)


def test_plugins_from_entry_points_turn_replay_off(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay, "_entry_point_plugins", lambda: True)
    run(capsys, ["scan", str(EXAMPLE)])
    assert not entries(env)


def test_a_corrupt_entry_is_ignored_and_rewritten(
    env: Path, scans: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scan", str(EXAMPLE), "--format", "json"]
    first = run(capsys, argv)
    (entry,) = entries(env)
    entry.write_bytes(entry.read_bytes()[:100])
    assert run(capsys, argv) == first and len(scans) == 2
    assert run(capsys, argv) == first and len(scans) == 2  # replayed from the rewritten entry


def test_the_replay_path_imports_no_parser(env: Path) -> None:
    import os
    import subprocess
    import sys

    argv = [sys.executable, "-c", "import sys; from ciiguard.cli.app import main; code = main(); "
            "print(sorted(m for m in sys.modules if m.startswith('ciiguard.parsers')), "
            "file=sys.stderr); raise SystemExit(code)", "scan", str(EXAMPLE)]  # fmt: skip
    environ = {**os.environ, "CIIGUARD_CACHE_DIR": str(env / "cache")}
    for _ in range(2):
        done = subprocess.run(argv, env=environ, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "CII002" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    "entry_points",
    [
        "[console_scripts]\nacme = acme:main\n",
        "[console_scripts]\nacme = acme:main\n\n[ciiguard]\nacme = acme.plugin\n",
        "[ciiguard]\n# none yet\n\n[pytest11]\nacme = acme.testing\n",
        "[ ciiguard ]\n  acme = acme.plugin\n",
    ],
)
def test_entry_point_plugins_are_seen_as_importlib_metadata_sees_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry_points: str
) -> None:
    from importlib.metadata import entry_points as metadata_entry_points

    dist = tmp_path / "acme_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(entry_points)
    monkeypatch.setattr("sys.path", [str(tmp_path)])
    monkeypatch.delenv("CIIGUARD_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    assert replay._entry_point_plugins() is bool(list(metadata_entry_points(group="ciiguard")))
