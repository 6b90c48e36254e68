"""Terraform evaluation remembers what it worked out instead of working it out per reference, and
answers exactly what working it out each time answered (issue 24: evaluation that grew
quadratically).

Each remembered answer is checked against the scan made with it switched off (the code before
it: made afresh every time), on configurations chosen for the edge cases: instances that refer
to each other or to their own resource, a block that appends to an argument's list of its name
(the one place a value is changed in place), first declarations winning, paths through symbolic
links. Speed itself is measured in ``benchmarks/``, not here.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from ciiguard.parsers.base import ParseContext, _within, forget_real
from ciiguard.parsers.terraform import parser as tf
from ciiguard.parsers.terraform.lang import evaluator
from ciiguard.testing import Scanner


def _norm(x: Any) -> Any:
    """A scan result as plain data, in its own order (sets sorted: their order is the hash's)."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (
            type(x).__name__,
            [(f.name, _norm(getattr(x, f.name))) for f in dataclasses.fields(x)],
        )
    if isinstance(x, enum.Enum):
        return x.value
    if isinstance(x, Mapping):
        return (type(x).__name__, [(k, _norm(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_norm(v) for v in x])
    if isinstance(x, (set, frozenset)):
        return sorted(repr(_norm(v)) for v in x)
    return x


def _scan(files: Mapping[str, str]) -> Any:
    result = Scanner(check=False).files(files).result
    return _norm([result.resources, result.violations, result.errors, result.warnings])


class _Forgetful(dict[str, Any]):
    """A table that keeps nothing: every lookup works the answer out again."""

    def __setitem__(self, key: str, value: Any) -> None:
        pass


def _without_resource_values(monkeypatch: pytest.MonkeyPatch) -> None:
    init = tf.ModuleInstance.__init__

    def fresh(self: tf.ModuleInstance, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._values = _Forgetful()

    monkeypatch.setattr(tf.ModuleInstance, "__init__", fresh)


def _without_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    def work_it_out(
        self: evaluator.Budget,
        what: str,
        v: Any,
        other: Any,
        work: Callable[[], Any],
    ) -> Any:
        return work()

    monkeypatch.setattr(evaluator.Budget, "recall", work_it_out)


def _same_without(
    monkeypatch: pytest.MonkeyPatch, files: Mapping[str, str], *switch: Callable[..., None]
) -> Any:
    remembered = _scan(files)
    with monkeypatch.context() as m:
        for off in switch:
            off(m)
        afresh = _scan(files)
    assert remembered == afresh
    return remembered


PROVIDER = 'provider "aws" {\n  region = "cn-north-1"\n}\n'

# instances referring to each other, to their own resource, count and for_each, data sources,
# an empty count, whole resources as values
REFERENCES = (
    PROVIDER
    + """
resource "aws_security_group" "sg" {
  name = "x"
}
locals {
  keys = toset(["a", "b", "c"])
}
resource "aws_s3_bucket" "b" {
  for_each = local.keys
  bucket   = "b-${each.key}"
  note     = each.key == "a" ? "first" : aws_s3_bucket.b["a"].bucket
  note2    = each.key == "c" ? aws_s3_bucket.b["b"].note : "x"
  ids      = [aws_security_group.sg.id]
  tags     = { "data-classification" = length(local.keys) == 3 ? "personal" : "public" }
}
resource "aws_s3_bucket" "z" {
  count  = 0
  bucket = "z"
}
resource "aws_s3_bucket" "y" {
  bucket = "y"
  rule   = aws_s3_bucket.z
  rule {
    x = 1
  }
}
resource "aws_s3_bucket" "w" {
  bucket = "w"
  tags   = { "data-classification" = length(aws_s3_bucket.z) == 1 ? "personal" : "public" }
}
resource "aws_s3_bucket" "cnt" {
  count  = 3
  bucket = "cnt-${count.index}"
  region = count.index == 0 ? "us-east-1" : aws_s3_bucket.cnt[count.index - 1].region
}
resource "aws_s3_bucket_replication_configuration" "rep" {
  count  = 3
  bucket = aws_s3_bucket.cnt[count.index].id
  role   = "x"
  rule {
    status = "Enabled"
    destination {
      bucket = aws_s3_bucket.b[count.index == 0 ? "a" : "b"].arn
      region = aws_s3_bucket.cnt[count.index].region
    }
  }
}
data "aws_s3_bucket" "ds" {
  for_each = local.keys
  bucket   = "ds-${each.key}"
}
resource "aws_s3_bucket" "fromds" {
  for_each = local.keys
  bucket   = data.aws_s3_bucket.ds[each.key].bucket
  region   = data.aws_s3_bucket.ds[each.key].region
  tags     = { n = length(aws_s3_bucket.b), m = aws_s3_bucket.b[each.key].tags["data-classification"] }
}
output "o" {
  value = aws_s3_bucket.b
}
"""
)

# b's ``ids`` holds an unknown, so each reference to b used to get a new copy of the list; c's
# rule block appends to c's copy, which neither the local nor e sees
APPENDED_COPY = (
    PROVIDER
    + """
resource "aws_security_group" "sg" {
  name = "x"
}
resource "aws_s3_bucket" "b" {
  for_each = toset(["a", "b"])
  bucket   = "b-${each.key}"
  ids      = [aws_security_group.sg.id, "x"]
}
locals {
  r = aws_s3_bucket.b["a"].ids
}
resource "aws_s3_bucket" "first" {
  bucket = "f"
  tags   = { "data-classification" = try(local.r[2].x, "none") == 1 ? "personal" : "public" }
}
resource "aws_s3_bucket" "c" {
  bucket = "c"
  rule   = aws_s3_bucket.b["a"].ids
  rule {
    x = 1
  }
}
resource "aws_s3_bucket" "d" {
  bucket = "d"
  tags   = { "data-classification" = try(local.r[2].x, "none") == 1 ? "personal" : "public" }
}
resource "aws_s3_bucket" "e" {
  bucket = "e"
  tags = {
    "data-classification" = try(aws_s3_bucket.b["a"].ids[2].x, "none") == 1 ? "personal" : "public"
  }
}
"""
)


def _appended_in_place() -> str:
    items = ", ".join(f'"v{i}"' for i in range(20))
    cls = "\n".join(f'    k{i} = "personal"' for i in range(20))
    return (
        PROVIDER
        + f"""
resource "aws_security_group" "sg" {{
  name = "x"
}}
locals {{
  l = [{items}]
  m = {{
{cls}
  }}
  mu = merge(local.m, {{ k99 = aws_security_group.sg.id }})
}}
resource "aws_s3_bucket" "a" {{
  count  = 3
  bucket = element(local.l, count.index)
  tags   = {{ "data-classification" = length(local.l) == 20 ? "personal" : "public" }}
}}
resource "aws_s3_bucket" "m" {{
  bucket = "m"
  rule   = local.l
  rule {{
    x = lookup(local.m, "k1", "public")
  }}
  rule {{
    x = length(local.l)
    y = aws_security_group.sg.id
  }}
}}
resource "aws_s3_bucket" "n" {{
  count  = 3
  bucket = element(local.l, count.index)
  tags   = {{ "data-classification" = length(local.l) == 22 ? "personal" : "public" }}
}}
resource "aws_s3_bucket" "dyn" {{
  bucket = "dyn"
  rule   = local.m
  dynamic "rule" {{
    for_each = ["p", "q"]
    content {{
      y = length(local.l)
    }}
  }}
}}
resource "aws_s3_bucket" "u" {{
  for_each = local.m
  bucket   = lookup(local.mu, each.key, "x")
  region   = lookup(local.mu, "k99", "x")
  tags     = {{ "data-classification" = lookup(local.m, each.key, "public") }}
}}
resource "aws_s3_bucket" "t" {{
  count  = 2
  bucket = try(lookup(local.mu, "k1"), "fallback")
  region = coalesce(lookup(local.mu, "nope", null), "cn-north-1")
}}
"""
    )


def _module_arguments() -> dict[str, str]:
    cls = "\n".join(f'    k{i} = "{"personal" if i % 2 else "public"}"' for i in range(20))
    objs = "\n".join(f'    k{i} = {{ c = "x{i}" }}' for i in range(20))
    items = ", ".join(f'"v{i}"' for i in range(20))
    module = """
variable "name" {
  type = string
}
variable "all" {
  type = map(string)
}
variable "lst" {
  type = list(string)
}
variable "anyv" {
  type = any
}
variable "objs" {
  type = map(object({ c = string, extra = optional(string, "d") }))
}
variable "count" {
  default = "c"
}
resource "aws_security_group" "sg" {
  name = var.name
}
resource "aws_s3_bucket" "b" {
  bucket = var.name
  rule   = var.lst
  rule {
    x = aws_security_group.sg.id
  }
  tags = {
    "data-classification" = var.all[var.name]
    n                     = length(var.lst)
    m                     = length(var.anyv)
    o                     = var.objs[var.name].extra
    c                     = var.count
  }
}
resource "aws_s3_bucket" "c" {
  bucket = "${var.name}-c"
  tags   = { "data-classification" = try(length(var.lst) == 20 ? "personal" : "public", "internal") }
}
output "name" {
  value = var.name
}
"""
    root = (
        PROVIDER
        + f"""
locals {{
  cls = {{
{cls}
  }}
  objs = {{
{objs}
  }}
  lst = [{items}]
}}
module "m" {{
  source   = "./mod"
  for_each = local.cls
  name     = each.key
  all      = local.cls
  lst      = local.lst
  anyv     = local.lst
  objs     = local.objs
}}
module "n" {{
  source   = "./mod"
  for_each = local.cls
  name     = each.key
  all      = {{ for k, v in local.cls : k => v }}
  lst      = local.lst
  anyv     = local.cls
  objs     = local.objs
}}
resource "aws_s3_bucket" "x" {{
  bucket = module.m["k1"].name
}}
"""
    )
    return {"main.tf": root, "mod/main.tf": module}


def _classes(scanned: Any) -> dict[str, Any]:
    resources = scanned[1][0][1]
    out = {}
    for r in resources:
        fields = dict(r[1])
        out[fields["address"]] = fields["classification"]
    return out


def test_resource_values_are_what_making_them_per_reference_gave(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _same_without(monkeypatch, {"main.tf": REFERENCES}, _without_resource_values)


def test_a_block_appending_to_a_referenced_list_changes_only_its_own_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scanned = _same_without(monkeypatch, {"main.tf": APPENDED_COPY}, _without_resource_values)
    classes = _classes(scanned)
    assert classes["aws_s3_bucket.d"] == classes["aws_s3_bucket.e"] == "public"


def test_a_block_appending_to_an_argument_leaves_the_local_it_came_from_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """m's ``rule = local.l`` and its two ``rule`` blocks: m's rule list has 22 elements, and
    local.l keeps its 20 for every other expression, whichever is evaluated first (the blocks
    used to be appended to the local's own list, so n, evaluated after m, saw 22, one of them
    unknown). The memo of big values answers what working each out again answers."""
    scanned = _same_without(monkeypatch, {"main.tf": _appended_in_place()}, _without_memo)
    classes = _classes(scanned)
    assert classes["aws_s3_bucket.a[0]"] == "personal"  # length(local.l) == 20
    assert classes["aws_s3_bucket.n[0]"] == "public"  # length(local.l) == 22: no
    resources = {dict(r[1])["address"]: dict(r[1]) for r in scanned[1][0][1]}
    rule = dict(resources["aws_s3_bucket.m"]["attributes"][1])["rule"]
    assert len(rule[1]) == 22  # m's own list: the local's 20, then its two blocks


def test_a_counted_resource_holding_an_unknown_in_a_list_is_made_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """N volumes each refer to one of N instances whose security group ids are not known before
    apply: each instance is made once, not once per reference (N x N; 2,000 took 19 s). The
    result is what making it per reference gave."""
    n = 60
    files = {
        "main.tf": PROVIDER
        + 'resource "aws_security_group" "sg" {\n  name = "sg"\n}\n'
        + f'resource "aws_instance" "web" {{\n  count = {n}\n  ami = "ami-1"\n'
        + "  vpc_security_group_ids = [aws_security_group.sg.id]\n}\n"
        + "".join(
            f'resource "aws_ebs_volume" "v{i}" {{\n'
            f"  availability_zone = aws_instance.web[{i}].availability_zone\n"
            f"  tags = {{ x = aws_instance.web[{i}].vpc_security_group_ids[0] }}\n}}\n"
            for i in range(n)
        )
    }
    made: list[str] = []
    real = tf.ModuleInstance._instance_value

    def counting(self: tf.ModuleInstance, located: Any, base: str, *args: Any) -> Any:
        made.append(base)
        return real(self, located, base, *args)

    with monkeypatch.context() as m:
        m.setattr(tf.ModuleInstance, "_instance_value", counting)
        _scan(files)
    assert 0 < made.count("aws_instance.web") <= 2 * n  # (made per reference: n x n)
    _same_without(monkeypatch, files, _without_resource_values)


def test_module_arguments_converted_once_are_what_converting_each_gave(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = _module_arguments()
    _same_without(monkeypatch, files, _without_memo)
    _same_without(monkeypatch, files, _without_memo, _without_resource_values)


def test_remembered_values_follow_their_identity_not_their_equality() -> None:
    budget = evaluator.Budget()
    calls: list[int] = []

    def work(v: Any) -> Callable[[], Any]:
        return lambda: calls.append(1) or len(v)

    big = list(range(evaluator.MEMO_MIN))
    equal = list(big)
    assert budget.recall("n", big, None, work(big)) == evaluator.MEMO_MIN
    assert budget.recall("n", big, None, work(big)) == evaluator.MEMO_MIN
    assert budget.recall("n", equal, None, work(equal)) == evaluator.MEMO_MIN
    assert len(calls) == 2  # once per object
    assert budget.recall("n", big, "other", work(big)) == evaluator.MEMO_MIN
    assert len(calls) == 3  # and per other argument
    small = [1]
    assert budget.recall("n", small, None, work(small)) == 1
    assert budget.recall("n", small, None, work(small)) == 1
    assert len(calls) == 5  # small values are not remembered
    for i in range(evaluator.MEMO_SIZE * 2):  # at most MEMO_SIZE kept
        x = list(range(evaluator.MEMO_MIN + i))
        budget.recall("n", x, None, work(x))
    assert len(budget._memo) <= evaluator.MEMO_SIZE


def test_deep_unknown_remembered_is_deep_unknown() -> None:
    from ciiguard.model import Unknown

    rng = random.Random(7)
    budget = evaluator.Budget()
    for _ in range(200):
        n = rng.randrange(evaluator.MEMO_MIN - 2, evaluator.MEMO_MIN + 6)
        value: Any = [
            rng.choice(
                [
                    "s",
                    1,
                    None,
                    Unknown(f"u{i}", frozenset({f"r{i}"}), rng.random() < 0.3),
                    {"k": Unknown("in", frozenset({"x"}))},
                    [],
                ]
            )
            for i in range(n)
        ]
        if rng.random() < 0.5:
            value = {f"k{i}": v for i, v in enumerate(value)}
        for _ in range(2):
            assert budget.deep_unknown(value) == evaluator.deep_unknown(value)


def test_a_module_reference_finds_the_first_call_of_that_name(tmp_path: Path) -> None:
    from ciiguard.parsers.terraform.hcl.nodes import Block, Body
    from ciiguard.parsers.terraform.module_def import Located, ModuleDef

    def call(file: str, name: str) -> Located:
        return Located(file, Block("module", (name,), Body((), ()), 1, 2))

    mod = ModuleDef(tmp_path)
    mod.module_calls += [call("a.tf", "m"), call("b.tf", "m"), call("a.tf", "n")]
    for name in ("m", "n", "o"):
        linear = next((c for c in mod.module_calls if c.block.labels[0] == name), None)
        assert mod.module_call(name) is linear
    mod.module_calls.append(call("c.tf", "o"))  # added after a lookup
    assert mod.module_call("o") is mod.module_calls[3]


def test_a_module_calls_arguments_by_name_give_each_variable_its_value() -> None:
    variables = "".join(
        f'variable "v{i}" {{\n  type = string\n  default = "d{i}"\n}}\n' for i in range(30)
    )
    variables += 'variable "source" {\n  default = "own"\n}\n'
    tags = ", ".join(f'"t{i}" = var.v{i}' for i in range(30))
    module = variables + (
        f'resource "aws_s3_bucket" "b" {{\n  bucket = var.source\n  tags = {{ {tags} }}\n}}\n'
    )
    args = "".join(f'  v{i} = "a{i}"\n' for i in range(0, 30, 2))
    root = PROVIDER + f'module "m" {{\n  source = "./mod"\n{args}}}\n'
    result = Scanner().files({"main.tf": root, "mod/main.tf": module}).result
    (bucket,) = result.resources
    assert bucket.attributes["bucket"] == "own"  # a meta-argument is not the variable's value
    assert bucket.attributes["tags"] == {
        f"t{i}": (f"a{i}" if i % 2 == 0 else f"d{i}") for i in range(30)
    }


def test_scanned_roots_answer_what_asking_each_root_answered(tmp_path: Path) -> None:
    rng = random.Random(11)
    dirs = [tmp_path / p for p in ("a", "a/b", "a/b/c", "d", "d/e", "f", "ab")]
    for d in dirs:
        d.mkdir(parents=True)
    files = [d / "main.tf" for d in dirs]
    for f in files:
        f.write_text("")
    (tmp_path / "d" / "to_a").symlink_to(tmp_path / "a")
    (tmp_path / "f" / "to_main").symlink_to(tmp_path / "d" / "main.tf")
    candidates = [
        *dirs,
        *files,
        tmp_path,
        tmp_path / "d" / "to_a",
        tmp_path / "d" / "to_a" / "b",
        tmp_path / "f" / "to_main",
        tmp_path / "missing",
        tmp_path / "a" / ".." / "d",
    ]
    forget_real()
    for _ in range(150):
        roots = [rng.choice(candidates) for _ in range(rng.randrange(0, 5))]
        ctx = ParseContext(settings=None, catalogue=None, roots=roots)  # type: ignore[arg-type]
        for path in candidates:
            resolved = tf.real(path)
            expected = any(_within(resolved, r) for r in roots)
            assert ctx.inside(resolved) is expected, (roots, path)
            assert ctx.inside(path) is any(_within(path, r) for r in roots)


def test_scanned_roots_are_made_again_for_another_scan_or_other_roots(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    ctx = ParseContext(settings=None, catalogue=None, roots=[tmp_path / "a"])  # type: ignore[arg-type]
    assert not ctx.inside(tmp_path)
    first = ctx._root_dirs
    assert not ctx.inside(tmp_path / "b")
    assert ctx._root_dirs is first
    ctx.roots.append(tmp_path)
    assert ctx.inside(tmp_path)
    other = ParseContext(settings=None, catalogue=None, roots=[tmp_path / "a"])  # type: ignore[arg-type]
    assert not other.inside(tmp_path)
    assert other._root_dirs is not first


def test_many_scanned_paths_each_calling_a_shared_module(tmp_path: Path) -> None:
    module = 'variable "name" {\n  type = string\n}\nresource "aws_s3_bucket" "b" {\n  bucket = var.name\n}\n'
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text(module)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.tfvars").write_text('v = "z"\n')
    for i in range(6):
        d = tmp_path / f"r{i}"
        d.mkdir()
        (d / "main.tf").write_text(
            PROVIDER + f'variable "v" {{\n  default = "x"\n}}\n'
            f'module "m" {{\n  source = "../mod"\n  name = "b-{i}"\n}}\n'
        )
        if i % 2:
            (d / "terraform.tfvars").symlink_to(tmp_path / "other" / "x.tfvars")
    from ciiguard.scan import scan
    from ciiguard.testing import _host, _settings

    def run(paths: list[str]) -> Any:
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            result = scan([Path(p) for p in paths], _settings({}), _host((), [], False))
        finally:
            os.chdir(cwd)
        return _norm([result.resources, result.errors])

    roots = [f"r{i}" for i in range(6)]
    for paths in (roots, [*roots, "mod"], [*roots, "mod", "other"], ["r0/main.tf", "mod"]):
        tabled = run(paths)
        with pytest.MonkeyPatch.context() as m:
            m.setattr(
                ParseContext,
                "inside",
                lambda self, path: any(_within(path, r) for r in self.roots),
            )
            assert run(paths) == tabled
