"""Per-root-module caching (``ciiguard.cache.roots``): after an edit only the root modules that
read the edited file are evaluated again, and the answer is the one ``--no-cache`` gives.

Each step of an edit sequence (change, revert, rename, delete, add a module call, a new root,
a variables file, a parse error and its fix) is scanned twice: through the caches and with
``--no-cache``. The results must be equal, and the roots evaluated must be exactly those whose
inputs changed.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ciiguard.model import ScanResult
from ciiguard.parsers.terraform import parser as tf
from ciiguard.plugins.manager import build
from ciiguard.scan import scan
from ciiguard.settings import Settings
from tests.conftest import clean_env, run_cli

MODULE = """\
variable "name" {
  type = string
}

resource "aws_s3_bucket" "this" {
  bucket = var.name
  tags   = { "data-classification" = "personal" }
}
"""


def root(region: str, module: str = "../../modules/store") -> str:
    return f"""\
provider "aws" {{
  region = var.region
}}

variable "region" {{
  type    = string
  default = "{region}"
}}

resource "aws_dynamodb_table" "t" {{
  name = "t"
  tags = {{ "data-classification" = "personal" }}
}}

module "store" {{
  source = "{module}"
  name   = "b"
}}
"""


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CIIGUARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    t = tmp_path / "estate"
    (t / "modules" / "store").mkdir(parents=True)
    (t / "modules" / "store" / "main.tf").write_text(MODULE)
    for name, region in (("a", "cn-north-1"), ("b", "cn-northwest-1"), ("c", "cn-north-1")):
        (t / "roots" / name).mkdir(parents=True)
        (t / "roots" / name / "main.tf").write_text(root(region))
    return t


def add_other(tree: Path) -> None:
    (tree / "modules" / "other").mkdir(parents=True)
    (tree / "modules" / "other" / "main.tf").write_text(
        MODULE.replace("aws_s3_bucket", "aws_sqs_queue")
    )


@pytest.fixture
def evaluated(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The root modules evaluated (not answered from the cache), by directory name."""
    seen: list[str] = []
    run = tf.RootEvaluation.run

    def counting(self: tf.RootEvaluation) -> None:
        seen.append(self.root_dir.name)
        run(self)

    monkeypatch.setattr(tf.RootEvaluation, "run", counting)
    yield seen


def both(tree: Path, evaluated: list[str]) -> tuple[ScanResult, list[str]]:
    """Scan through the caches, then without them: equal answers; the roots evaluated."""
    evaluated.clear()
    cached = scan([tree], Settings(jobs=1), build(autoload=False))
    fresh_roots = sorted(evaluated)
    evaluated.clear()
    uncached = scan([tree], Settings(jobs=1, use_cache=False), build(autoload=False))
    assert cached == uncached
    return cached, fresh_roots


def regions(result: ScanResult) -> dict[tuple[str, str], str | None]:
    return {(r.root.rsplit("/", 1)[-1], r.address): r.region.region for r in result.resources}


def test_an_edit_sequence_evaluates_only_what_it_touches(tree: Path, evaluated: list[str]) -> None:
    result, fresh = both(tree, evaluated)
    assert fresh == ["a", "b", "c"] and not result.errors
    assert both(tree, evaluated)[1] == []  # nothing changed (answered by the result cache)

    # change one root: only it is evaluated again
    a = tree / "roots" / "a" / "main.tf"
    a.write_text(root("us-east-1"))
    result, fresh = both(tree, evaluated)
    assert fresh == ["a"]
    assert regions(result)[("a", "module.store.aws_s3_bucket.this")] == "us-east-1"
    assert {v.policy for v in result.violations} == {"CII001"}

    # revert it: the tree is as in the first scan, whose stored result answers
    a.write_text(root("cn-north-1"))
    result, fresh = both(tree, evaluated)
    assert fresh == [] and not result.violations
    # and once more changed: that version is stored too
    a.write_text(root("us-east-1"))
    assert both(tree, evaluated)[1] == []
    a.write_text(root("cn-north-1"))

    # a shared module: every root calling it
    store = tree / "modules" / "store" / "main.tf"
    store.write_text(MODULE.replace('"personal"', '"public"'))
    result, fresh = both(tree, evaluated)
    assert fresh == ["a", "b", "c"]

    # rename a file of one root: its listing changed
    (tree / "roots" / "b" / "main.tf").rename(tree / "roots" / "b" / "b.tf")
    result, fresh = both(tree, evaluated)
    assert fresh == ["b"]

    # a variables file appears in one root
    (tree / "roots" / "c" / "terraform.tfvars").write_text('region = "eu-west-1"\n')
    result, fresh = both(tree, evaluated)
    assert fresh == ["c"]
    assert regions(result)[("c", "aws_dynamodb_table.t")] == "eu-west-1"

    # add a module call to a new module: the caller's root only
    add_other(tree)
    (tree / "roots" / "a" / "extra.tf").write_text(
        'module "queue" {\n  source = "../../modules/other"\n  name = "q"\n}\n'
    )
    result, fresh = both(tree, evaluated)
    assert fresh == ["a"]
    assert ("a", "module.queue.aws_sqs_queue.this") in regions(result)

    assert "other" not in {k[0] for k in regions(result)}  # called: no root of its own

    # delete a root's file, and a whole root: "other" is a root again, its stored entry reused
    (tree / "roots" / "a" / "extra.tf").unlink()
    shutil.rmtree(tree / "roots" / "b")
    result, fresh = both(tree, evaluated)
    assert fresh == ["a", "other"]  # a root of its own again
    assert {k[0] for k in regions(result)} == {"a", "c", "other"}

    # a new root
    (tree / "roots" / "d").mkdir()
    (tree / "roots" / "d" / "main.tf").write_text(root("ap-southeast-1"))
    result, fresh = both(tree, evaluated)
    assert fresh == ["d"]


def test_saving_pickles_only_the_roots_that_changed(
    tree: Path, evaluated: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each root's entry is pickled on its own: after an edit the saved entry carries the other
    roots' bytes as they were read, and a root whose bytes are damaged is evaluated again."""
    import pickle

    from ciiguard.cache import roots as roots_cache

    pickled: list[str] = []
    dumps = pickle.dumps

    def counting(value: object, *args: Any, **kwargs: Any) -> bytes:
        if isinstance(value, roots_cache.RootEntry):  # its resources pickled on their own
            resolved = pickle.loads(value.resolved)
            pickled.append({r.root.rsplit("/", 1)[-1] for r in resolved}.pop())
        return dumps(value, *args, **kwargs)

    monkeypatch.setattr(roots_cache.pickle, "dumps", counting)
    both(tree, evaluated)
    assert sorted(pickled) == ["a", "b", "c"]
    for name, region in (("a", "us-east-1"), ("b", "us-west-2")):
        pickled.clear()
        (tree / "roots" / name / "main.tf").write_text(root(region))
        assert both(tree, evaluated)[1] == [name]
        assert pickled == [name]

    get = roots_cache.DiskCache.get

    def damaged(self: roots_cache.DiskCache, key: str) -> object:
        found = get(self, key)
        if self.namespace == "roots" and isinstance(found, dict):
            parts = dict(found["roots"])
            for directory in parts:
                if directory.endswith("c"):
                    parts[directory] = b"not a pickle"
            found = {**found, "roots": parts}
        return found

    monkeypatch.setattr(roots_cache.DiskCache, "get", damaged)
    (tree / "roots" / "a" / "main.tf").write_text(root("cn-north-1"))
    result, fresh = both(tree, evaluated)
    assert fresh == ["a", "c"] and not result.errors


def test_a_scan_answered_by_the_per_root_cache_stores_no_whole_result(
    tree: Path, evaluated: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole result is stored after a scan that evaluated every root, not after one the
    per-root cache answered (it answers that tree again just as well); what the result depends
    on is still worked out, for the replay cache."""
    from ciiguard.cache import versions

    added: list[str] = []
    add = versions.Versions.add

    def counting(self: versions.Versions, *args: Any) -> None:
        added.append(self.disk.namespace)
        add(self, *args)

    monkeypatch.setattr(versions.Versions, "add", counting)
    both(tree, evaluated)
    assert added == ["results"]
    added.clear()
    (tree / "roots" / "a" / "main.tf").write_text(root("us-east-1"))
    record: dict[str, object] = {}
    scan([tree], Settings(jobs=1), build(autoload=False), record=record)
    assert added == [] and evaluated[-1:] == ["a"]
    assert str(tree / "roots" / "a" / "main.tf") in record["manifest"]  # type: ignore[operator]


def test_a_scan_error_keeps_everything_else_cached(tree: Path, evaluated: list[str]) -> None:
    both(tree, evaluated)
    broken = tree / "roots" / "b" / "broken.tf"
    broken.write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
    result, fresh = both(tree, evaluated)
    assert fresh == ["b"] and [e.file for e in result.errors] == [
        os.path.relpath(broken).replace(os.sep, "/")
    ]
    # the error is reported again (never replayed as a pass), and only the broken root reruns
    result, fresh = both(tree, evaluated)
    assert fresh == ["b"] and len(result.errors) == 1
    broken.unlink()
    result, fresh = both(tree, evaluated)
    assert fresh == [] and not result.errors  # as before the error: the first result


def test_a_module_reached_through_a_symbolic_link_is_never_reused(
    tree: Path, evaluated: list[str]
) -> None:
    add_other(tree)
    link = tree / "modules" / "current"
    link.symlink_to(tree / "modules" / "store", target_is_directory=True)
    (tree / "roots" / "a" / "main.tf").write_text(root("cn-north-1", "../../modules/current"))
    both(tree, evaluated)
    link.unlink()
    link.symlink_to(tree / "modules" / "other", target_is_directory=True)  # no file changed
    result, fresh = both(tree, evaluated)
    assert "a" in fresh
    assert ("a", "module.store.aws_sqs_queue.this") in regions(result)


def test_the_command_line_gives_the_uncached_bytes_after_each_edit(tmp_path: Path) -> None:
    t = tmp_path / "estate"
    for name in ("a", "b"):
        (t / name).mkdir(parents=True)
        (t / name / "main.tf").write_text(root("cn-north-1", "../m"))
    (t / "m").mkdir()
    (t / "m" / "main.tf").write_text(MODULE)
    env = clean_env(CIIGUARD_CACHE_DIR=str(tmp_path / "cache"))

    def same() -> None:
        args = ("scan", str(t), "--format", "json", "--no-config")
        cached = run_cli(*args, env=env)
        uncached = run_cli(*args, "--no-cache", env=env)
        assert (cached.code, cached.stdout, cached.stderr) == (
            uncached.code,
            uncached.stdout,
            uncached.stderr,
        )

    same()
    (t / "a" / "main.tf").write_text(root("us-east-1", "../m"))
    same()
    (t / "b" / "vars.auto.tfvars").write_text('region = "eu-west-1"\n')
    same()
    (t / "m" / "main.tf").write_text(MODULE + "\n# an edit\n")
    same()


def test_a_tree_read_by_two_processes_caches_and_answers_the_same(tmp_path: Path) -> None:
    """64+ module directories: the command line splits reading and evaluation with a forked
    child; the roots the child evaluated are stored too, and later edits answer as --no-cache."""
    t = tmp_path / "estate"
    (t / "m").mkdir(parents=True)
    (t / "m" / "main.tf").write_text(MODULE)
    for n in range(70):
        (t / f"r{n:02d}").mkdir()
        (t / f"r{n:02d}" / "main.tf").write_text(root("cn-north-1", "../m"))
    env = clean_env(CIIGUARD_CACHE_DIR=str(tmp_path / "cache"))
    args = ("scan", str(t), "--format", "json", "--no-config", "--jobs", "2")

    def same() -> None:
        cached = run_cli(*args, env=env)
        uncached = run_cli(*args, "--no-cache", env=env)
        assert (cached.code, cached.stdout) == (uncached.code, uncached.stdout)

    same()
    assert any((tmp_path / "cache" / "roots").rglob("*.pickle"))
    for n in (3, 40, 69):  # roots on both sides of the split
        (t / f"r{n:02d}" / "main.tf").write_text(root("us-east-1", "../m"))
        same()
    (t / "m" / "main.tf").write_text(MODULE.replace('"personal"', '"public"'))
    same()


def test_built_in_findings_are_reused_per_root_and_plugin_policies_see_everything(
    tree: Path, evaluated: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The built-in policies judge a resource from within its root, so their findings on a
    reused root are reused; a plugin's policy may look anywhere, so it runs on every resource."""
    import ciiguard.scan as scan_module
    from ciiguard import Finding, Policy, hookimpl
    from ciiguard.policies.run import PerRoot, run_policies

    seen: list[PerRoot | None] = []

    def spying(*args: object) -> object:
        seen.append(args[3] if len(args) > 3 else None)  # type: ignore[arg-type]
        return run_policies(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(scan_module, "run_policies", spying)
    every = Policy(
        id="ORG001",
        name="every-resource",
        description="flags every resource (a plugin's policy)",
        validate=lambda r, ctx: [Finding(message=f"seen {r.address}")],
    )

    class Org:
        @hookimpl
        def ciiguard_policies(self) -> list[Policy]:
            return [every]

    plugin = Org()

    def run(use_cache: bool) -> ScanResult:
        host = build(autoload=False, objects=[("org", plugin)])
        return scan([tree], Settings(jobs=1, use_cache=use_cache), host)

    def check() -> tuple[ScanResult, PerRoot | None]:
        seen.clear()
        cached = run(True)
        per_root = seen[0] if seen else None
        assert cached == run(False)
        org = [v for v in cached.violations if v.policy == "ORG001"]
        assert len(org) == len(cached.resources)  # the plugin saw every resource, every time
        return cached, per_root

    check()
    check()  # the roots' resolved resources and findings are stored now
    (tree / "roots" / "a" / "main.tf").write_text(root("us-east-1"))
    result, per_root = check()
    assert per_root is not None
    assert sorted(k.rsplit("/", 1)[-1] for k in per_root.known) == ["b", "c"]
    assert sorted(k.rsplit("/", 1)[-1] for k in per_root.found) == ["a"]
    assert [v.resource for v in result.violations if v.policy == "CII001"] == [
        "module.store.aws_s3_bucket.this",  # in modules/store/main.tf, called by root a
        "aws_dynamodb_table.t",
    ]


# Random edit sequences: every step of a seeded walk through the kinds of edit a developer makes
# (a region in a root or a module, variables files, renames, deletions, new module calls and
# roots, a for_each, a syntax error, reverts), scanned through the caches and with --no-cache.
REGIONS = ("cn-north-1", "us-east-1", "cn-northwest-1", "ap-east-1")


def _random_edit(tree: Path, rng: random.Random, saved: list[tuple[Path, str | None]]) -> str:
    tfs = sorted(p for p in tree.rglob("*.tf") if p.is_file())
    roots = sorted(p for p in (tree / "roots").iterdir() if p.is_dir())
    kinds = "region region module tfvars rename delete call root for_each broken revert revert"
    kind = rng.choice(kinds.split())
    if kind == "region":  # in a .tf file or a variables file
        f = rng.choice([*tfs, *sorted(tree.rglob("*.tfvars"))])
        text = f.read_text()
        found = [r for r in REGIONS if f'"{r}"' in text]
        if found:
            saved.append((f, text))
            f.write_text(text.replace(f'"{rng.choice(found)}"', f'"{rng.choice(REGIONS)}"', 1))
            return f"region in {f.relative_to(tree)}"
    if kind == "module":
        f = tree / "modules" / "store" / "main.tf"
        saved.append((f, f.read_text()))
        f.write_text(f.read_text().replace('"personal"', f'"{rng.choice(["public", "personal"])}"'))
        return "the shared module"
    if kind == "tfvars" and roots:
        d = rng.choice(roots)
        vars_file = d / "terraform.tfvars"
        before = vars_file.read_text() if vars_file.exists() else None
        saved.append((vars_file, before))
        region = rng.choice([r for r in REGIONS if f'"{r}"' not in (before or "")])
        vars_file.write_text(f'region = "{region}"\n')
        return f"tfvars in {d.name}"
    if kind == "rename" and tfs:
        f = rng.choice(tfs)
        f.rename(f.with_name(f"{f.stem}_{rng.randrange(100)}.tf"))
        return f"rename {f.relative_to(tree)}"
    if kind == "delete" and tfs:
        f = rng.choice(tfs)
        saved.append((f, f.read_text()))
        f.unlink()
        return f"delete {f.relative_to(tree)}"
    if kind == "call" and roots:
        d = rng.choice(roots)
        f = d / f"call_{rng.randrange(100)}.tf"
        module = rng.choice(["store", "other"])
        saved.append((f, None))
        f.write_text(f'module "m{rng.randrange(100)}" {{\n  source = "../../modules/{module}"\n'
                     f'  name   = "x"\n}}\n')  # fmt: skip
        return f"call {module} from {d.name}"
    if kind == "root":
        d = tree / "roots" / f"r{rng.randrange(100)}"
        d.mkdir(exist_ok=True)
        (d / "main.tf").write_text(root(rng.choice(REGIONS)))
        return f"new root {d.name}"
    if kind == "for_each" and roots:
        d = rng.choice(roots)
        f = d / "each.tf"
        saved.append((f, f.read_text() if f.exists() else None))
        regions = ", ".join(f'"{r}"' for r in rng.sample(REGIONS, 2))
        f.write_text(f'module "each" {{\n  source   = "../../modules/store"\n'
                     f'  for_each = toset([{regions}])\n  name     = each.key\n}}\n')  # fmt: skip
        return f"for_each in {d.name}"
    if kind == "broken" and roots:
        f = rng.choice(roots) / "broken.tf"
        saved.append((f, None))
        f.write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
        return f"broken file in {f.parent.name}"
    if kind == "revert" and saved:
        f, text = saved.pop(rng.randrange(len(saved)))
        if text is None:
            f.unlink(missing_ok=True)
        elif f.parent.is_dir():
            f.write_text(text)
        return f"revert {f.relative_to(tree)}"
    return "nothing"


@pytest.mark.parametrize("seed", range(1, 7))
def test_random_edit_sequences_answer_as_no_cache(
    tree: Path, evaluated: list[str], seed: int
) -> None:
    add_other(tree)
    rng = random.Random(seed)
    saved: list[tuple[Path, str | None]] = []
    both(tree, evaluated)
    for _ in range(14):
        what = _random_edit(tree, rng, saved)
        assert both(tree, evaluated), what  # both() compares the cached and the fresh answer
