"""Fuzzing every reader with hypothesis: no input produces a traceback.

Random bytes and mutations of the real fixtures (HCL, tfvars, Terraform JSON syntax, plan JSON,
Pulumi YAML and JSON, config files) go through ciiguard's parser entry points and through whole
scans. The outcome is always either a result or one-line errors naming the file, and exit code 2
whenever anything could not be read; a built-in parser never fails as a "plugin crash". Hostile
inputs (deep nesting, huge strings, invalid UTF-8, NUL bytes, duplicate keys, enormous numbers)
are checked explicitly for every format, in-process and through the installed command.

The default run uses a small, derandomized budget; ``@pytest.mark.slow`` runs (CI) use a larger
random one.
"""

from __future__ import annotations

import json
import string
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ciiguard.errors import CiiguardError, InputError
from ciiguard.model import Unknown
from ciiguard.parsers.terraform.hcl.loader import parse_source
from ciiguard.parsers.terraform.hcl.nodes import Body
from ciiguard.parsers.terraform.hcl.reader import parse_expression
from ciiguard.parsers.terraform.lang.builtins import FUNCTIONS
from ciiguard.parsers.terraform.lang.evaluator import Evaluator, Scope, render_value
from ciiguard.testing import claimed_by, scan_path
from tests.conftest import FIXTURES, clean_env, run_cli

FAST, SLOW = 25, 300
BUDGETS = [
    pytest.param(FAST, id="fast"),
    pytest.param(SLOW, id="slow", marks=pytest.mark.slow),
]


def fuzz(budget: int, strategy: st.SearchStrategy[Any], check: Callable[[Any], None]) -> None:
    """Run ``check`` on ``budget`` examples (derandomized for the default budget)."""

    @settings(
        max_examples=budget,
        deadline=None,
        derandomize=budget == FAST,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def run(value: Any) -> None:
        check(value)

    run()


# -- seeds and mutations ----------------------------------------------------------------------
def _seeds(*patterns: str) -> list[bytes]:
    out = []
    for pattern in patterns:
        out.extend(p.read_bytes() for p in sorted(FIXTURES.glob(pattern)) if p.is_file())
    assert out, patterns
    return out


TF_SEEDS = _seeds("adversarial/*/*.tf", "adversarial/*/modules/*/*.tf", "modules/*/*.tf")
TF_JSON_SEEDS = _seeds("adversarial/*/*.tf.json", "json-syntax/*.tf.json")
TFVARS_SEEDS = _seeds("adversarial/*/*.tfvars", "resolution/*/terraform.tfvars")
TFVARS_JSON_SEEDS = _seeds("adversarial/*/*.tfvars.json")
PLAN_SEEDS = _seeds("adversarial/plan-*/tfplan.json")
PULUMI_SEEDS = _seeds("adversarial/pulumi-*/Pulumi.yaml", "clouds/*/pulumi-*/Pulumi.yaml")
PULUMI_STACK_SEEDS = _seeds("adversarial/pulumi-*/Pulumi.*.yaml")
PULUMI_JSON_SEEDS = _seeds("adversarial/pulumi-stack-export/*.json")
CONFIG_SEEDS = [
    b"""cii_workload = true
fail_on = "mandatory"
soft_fail = false
allowed_regions = ["cn-north-1", "cn-northwest-1"]

[classification]
key = "data-classification"
in_scope = ["personal", "sensitive-personal", "important", "core"]
out_of_scope = ["public", "internal"]

[approval]
key = "cross-border-approval"
expiry_key = "cross-border-approval-expires"
warn_days = 60

[enforcement]
CII003 = "advisory"

[[exemptions]]
resource = "aws_s3_bucket.legacy_*"
policy = "CII001"
reason = "decommissioned in Q3, ticket OPS-9"
expires = "2030-01-01"
"""
]

TOKENS = [
    b"{",
    b"}",
    b"[",
    b"]",
    b"(",
    b")",
    b'"',
    b"${",
    b"%{",
    b"=",
    b":",
    b",",
    b"\n",
    b"\x00",
    b"\xff\xfe",
    b"\xc3(",
    b"<<EOT\n",
    b"\nEOT\n",
    b"#",
    b"/*",
    b"*/",
    b"\\",
    b"\\u",
    b"\\U0011ffff",
    b"9" * 5000,
    b"1e99999",
    b"-1e-99999",
    b"...",
    b"=>",
    b"?",
    b"count = 100000000\n",
    b"[" * 400,
    b"{" * 400,
    b"(" * 400,
    b"region",
    b"provider",
    b"module",
    b"var.region",
    b"local.x",
    b"aws.hk",
    b'"ap-east-1"',
    b"&a",
    b"*a",
    b"- ",
    b": ",
    b"!!python/object:os.system",
    b"\t",
    b"\r\n",
    b"\xef\xbb\xbf",
    b"x" * 100_000,
    b'"region": "us-east-1", "region": "x",',
    b"null",
    b"true",
    b"NaN",
    b"Infinity",
    b"<<",
    b"~",
    b"%%{",
    b"$${",
]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate", "byte"]))
        pos = draw(st.integers(0, len(data)))
        if op == "insert":
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 32))]
        elif op == "replace":
            data[pos : pos + draw(st.integers(1, 8))] = draw(st.sampled_from(TOKENS))
        elif op == "duplicate":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 128))]
        else:
            data[pos : pos + 1] = bytes([draw(st.integers(0, 255))])
    return bytes(data)


def inputs(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """Mutated real files, most of the time; otherwise random bytes or printable noise."""
    return st.one_of(
        mutated(seeds),
        mutated(seeds),
        mutated(seeds),
        st.binary(max_size=512),
        st.text(string.printable, max_size=512).map(lambda t: t.encode()),
    )


# -- checks -----------------------------------------------------------------------------------
def assert_one_line_error(exc: CiiguardError, name: str) -> None:
    text = str(exc)
    assert "\n" not in text.rstrip("\n"), text
    if isinstance(exc, InputError):
        assert exc.file == name, text


def evaluate_everything(body: Body) -> None:
    """Every attribute of every block evaluates to a value or Unknown, never an exception."""
    stack = [body]
    while stack:
        b = stack.pop()
        for a in b.attributes:
            value = Evaluator(Scope()).evaluate(a.expr)
            render_value(value)
        stack.extend(x.body for x in b.blocks)


def write_tree(root: Path, files: Mapping[str, bytes]) -> None:
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def assert_scan_is_clean(files: Mapping[str, bytes], **options: Any) -> None:
    """A whole in-process scan of ``files``: a result, or errors each naming a file, exit 2."""
    with tempfile.TemporaryDirectory(prefix="ciiguard-fuzz-") as tmp:
        root = Path(tmp)
        write_tree(root, files)
        outcome = scan_path(root, check=False, **options)
    assert outcome.exit_code in (0, 1, 2)
    for issue in outcome.issues:
        assert issue.file is not None and issue.file != "<scan>", issue.render()
        assert "\n" not in issue.message, issue.render()
        assert "failed in parser" not in issue.message, issue.render()  # a built-in parser crash
    if outcome.issues:
        assert outcome.exit_code == 2


def _claimed(name: str, data: bytes) -> bool:
    return claimed_by(name, data.decode("utf-8", "replace")) is not None


# -- parser entry points ----------------------------------------------------------------------
@pytest.mark.parametrize("budget", BUDGETS)
def test_hcl_parser_returns_a_tree_or_one_input_error(budget: int) -> None:
    def check(data: bytes) -> None:
        try:
            hcl = parse_source(data, "main.tf", json_syntax=False)
        except InputError as exc:
            assert_one_line_error(exc, "main.tf")
            return
        evaluate_everything(hcl.body)

    fuzz(budget, inputs(TF_SEEDS + TFVARS_SEEDS), check)


@pytest.mark.parametrize("budget", BUDGETS)
def test_terraform_json_parser_returns_a_tree_or_one_input_error(budget: int) -> None:
    def check(data: bytes) -> None:
        try:
            hcl = parse_source(data, "main.tf.json", json_syntax=True)
        except InputError as exc:
            assert_one_line_error(exc, "main.tf.json")
            return
        evaluate_everything(hcl.body)

    fuzz(budget, inputs(TF_JSON_SEEDS), check)


@pytest.mark.parametrize("budget", BUDGETS)
def test_config_reader_returns_a_config_or_one_config_error(budget: int, tmp_path: Path) -> None:
    config = pytest.importorskip("ciiguard.gate.config", reason="ciiguard.gate.config has not landed yet")

    def check(data: bytes) -> None:
        path = tmp_path / "ciiguard.toml"
        path.write_bytes(data)
        try:
            config.load(path)
        except CiiguardError as exc:
            assert "\n" not in str(exc).rstrip("\n"), str(exc)

    fuzz(budget, inputs(CONFIG_SEEDS), check)


IDENT = st.sampled_from(["a", "region", "x_1", "data-classification"])
LEAVES = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(
        [
            '"ap-east-1"',
            '"cn-north-1"',
            "true",
            "false",
            "null",
            "1.5",
            "1e308",
            "-0",
            "[]",
            "{}",
            '"\\u00e9"',
            '"${"x"}"',
            "var.x",
            "local.y",
            "each.key",
            "count.index",
            "path.module",
            "aws_s3_bucket.b.arn",
            "data.aws_region.current.name",
            "module.m.out",
            '"%{if true}x%{endif}"',
        ]
    ),
    st.text(string.ascii_letters + "-_ /*.+", max_size=8).map(json.dumps),
)
OPS = ["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"]


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(
            st.sampled_from([*sorted(FUNCTIONS), "try", "can", "nosuch"]),
            st.lists(children, max_size=3),
        ).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.lists(children, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(IDENT, children), max_size=3).map(
            lambda kv: "{" + ", ".join(f'"{k}" = {v}' for k, v in kv) + "}"
        ),
        st.tuples(children, st.sampled_from(OPS), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(children, children).map(lambda t: f"[for k, v in {t[0]} : {t[1]}]"),
        st.tuples(children, children).map(lambda t: f"{{for k, v in {t[0]} : k => {t[1]}...}}"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        children.map(lambda c: f'"pre-${{{c}}}-post"'),
        children.map(lambda c: f"({c})[*].a"),
        children.map(lambda c: f"!{c}"),
    )


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=24)


@pytest.mark.parametrize("budget", BUDGETS)
def test_evaluator_is_total_on_generated_expressions(budget: int) -> None:
    def check(text: str) -> None:
        try:
            expr = parse_expression(text, "expr.tf")
        except InputError:
            return
        value = Evaluator(Scope()).evaluate(expr)
        assert isinstance(value, (str, int, float, bool, list, dict, Unknown)) or value is None
        render_value(value)

    fuzz(budget * 4, EXPRESSIONS, check)


# -- whole scans ------------------------------------------------------------------------------
@pytest.mark.parametrize("budget", BUDGETS)
def test_terraform_module_scans_cleanly(budget: int) -> None:
    files = st.fixed_dictionaries(
        {
            "main.tf": inputs(TF_SEEDS),
            "variables.tf.json": inputs(TF_JSON_SEEDS),
            "terraform.tfvars": inputs(TFVARS_SEEDS),
            "terraform.tfvars.json": inputs(TFVARS_JSON_SEEDS),
        }
    )
    fuzz(budget, files, lambda f: assert_scan_is_clean(f, env={"TF_VAR_region": "x"}))


@pytest.mark.parametrize("budget", BUDGETS)
def test_plan_json_scans_cleanly(budget: int) -> None:
    if not _claimed("tfplan.json", PLAN_SEEDS[0]):
        pytest.skip("no registered parser claims plan JSON yet")
    fuzz(budget, inputs(PLAN_SEEDS), lambda data: assert_scan_is_clean({"tfplan.json": data}))


@pytest.mark.parametrize("budget", BUDGETS)
def test_pulumi_yaml_scans_cleanly(budget: int) -> None:
    if not _claimed("Pulumi.yaml", PULUMI_SEEDS[0]):
        pytest.skip("no registered parser claims Pulumi.yaml yet")
    files = st.fixed_dictionaries(
        {"Pulumi.yaml": inputs(PULUMI_SEEDS), "Pulumi.prod.yaml": inputs(PULUMI_STACK_SEEDS)}
    )
    fuzz(budget, files, assert_scan_is_clean)


@pytest.mark.parametrize("budget", BUDGETS)
def test_pulumi_json_scans_cleanly(budget: int) -> None:
    if not _claimed("stack.json", PULUMI_JSON_SEEDS[0]):
        pytest.skip("no registered parser claims Pulumi stack exports yet")
    fuzz(budget, inputs(PULUMI_JSON_SEEDS), lambda data: assert_scan_is_clean({"stack.json": data}))


# -- hostile inputs, for every format ----------------------------------------------------------
def _deep(open_: str, close: str, depth: int) -> str:
    return open_ * depth + close * depth


PROVIDER = 'provider "aws" {\n  region = "cn-north-1"\n}\n'
HOSTILE: dict[str, dict[str, bytes]] = {
    "hcl-deep-tuple": {"main.tf": f"locals {{\n  x = {_deep('[', ']', 20000)}\n}}\n".encode()},
    "hcl-deep-parens": {"main.tf": f"locals {{\n  x = {_deep('(', ')', 5000)}\n}}\n".encode()},
    "hcl-deep-blocks": {"main.tf": ("a {\n" * 3000 + "}\n" * 3000).encode()},
    "hcl-deep-expression": {"main.tf": ("locals {\n  x = " + "-" * 50000 + "1\n}\n").encode()},
    "hcl-huge-string": {
        "main.tf": (PROVIDER + 'locals {\n  x = "' + "x" * 8_000_000 + '"\n}\n').encode()
    },
    "hcl-invalid-utf8": {"main.tf": PROVIDER.encode() + b'locals {\n  x = "\xff\xfe\xc3("\n}\n'},
    "hcl-nul-byte": {"main.tf": PROVIDER.encode() + b'locals {\n  x = "a\x00b"\n}\n'},
    "hcl-duplicate-argument": {
        "main.tf": b'provider "aws" {\n  region = "cn-north-1"\n  region = "us-east-1"\n}\n'
    },
    "hcl-enormous-numbers": {
        "main.tf": (
            PROVIDER + "locals {\n  a = " + "9" * 100_000 + "\n  b = 1e999999999\n}\n"
            'resource "aws_s3_bucket" "b" {\n  count = 1' + "0" * 400 + "\n}\n"
        ).encode()
    },
    "hcl-huge-count": {
        "main.tf": (PROVIDER + 'resource "aws_s3_bucket" "b" {\n  count = 100000000\n}\n').encode()
    },
    "tfvars-deep": {
        "main.tf": b'variable "v" {}\n',
        "terraform.tfvars": f"v = {_deep('{a = ', '}', 3000)}\n".encode(),
    },
    "tfvars-json-deep": {
        "main.tf": b'variable "v" {}\n',
        "terraform.tfvars.json": ('{"v": ' + _deep("[", "]", 100_000) + "}").encode(),
    },
    "tfvars-json-numbers": {
        "main.tf": b'variable "v" {}\n',
        "terraform.tfvars.json": ('{"v": [' + "9" * 10_000 + ", 1e400, -1e400]}").encode(),
    },
    "tfvars-json-duplicate": {
        "main.tf": b'variable "v" {}\n',
        "terraform.tfvars.json": b'{"v": {"a": 1, "a": 2}}',
    },
    "tfvars-json-invalid-utf8": {
        "main.tf": b'variable "v" {}\n',
        "terraform.tfvars.json": b'{"v": "\xff"}',
    },
    "tf-json-deep": {
        "main.tf.json": ('{"locals": {"x": ' + _deep("[", "]", 100_000) + "}}").encode()
    },
    "tf-json-deep-folding": {
        "main.tf.json": ('{"locals": {"x": ' + _deep("[", "]", 900) + "}}").encode()
    },
    "tf-json-deep-template": {
        "main.tf.json": ('{"locals": {"x": "${' + _deep("(", ")", 3000) + '}"}}').encode()
    },
    "tf-json-numbers": {
        "main.tf.json": ('{"locals": {"x": ' + "9" * 10_000 + ', "y": 1e400}}').encode()
    },
    "tf-json-nul": {"main.tf.json": b'{"locals": {"x": "a\\u0000b"}}\x00'},
    "tf-json-duplicate": {"main.tf.json": b'{"locals": {"x": {"a": 1, "a": 2}}}'},
    "plan-deep": {
        "tfplan.json": (
            '{"format_version": "1.2", "terraform_version": "1.9.8", "planned_values": '
            + _deep("[", "]", 100_000)
            + "}"
        ).encode()
    },
    "plan-numbers": {
        "tfplan.json": (
            '{"format_version": "1.2", "terraform_version": "1.9.8", "variables": {"r": {"value": '
            + "9" * 10_000
            + '}}, "planned_values": {"root_module": {}}}'
        ).encode()
    },
    "plan-invalid-utf8": {
        "tfplan.json": b'{"format_version": "1.2", "terraform_version": "1.9.8", "planned_values": {"root_module": {"x": "\xff"}}}'
    },
    "pulumi-deep": {
        "Pulumi.yaml": (
            "name: p\nruntime: yaml\nvariables:\n  x: " + _deep("[", "]", 20000) + "\n"
        ).encode()
    },
    "pulumi-alias-bomb": {
        "Pulumi.yaml": (
            "name: bomb\nruntime: yaml\nvariables:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
            + "".join(
                f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9)
            )
            + "resources:\n  b:\n    type: aws:s3:BucketV2\n    properties:\n      tags:\n        x: ${a8}\n"
        ).encode()
    },
    "pulumi-duplicate-key": {"Pulumi.yaml": b"name: p\nruntime: yaml\nname: q\n"},
    "pulumi-invalid-utf8": {"Pulumi.yaml": b"name: p\nruntime: yaml\ndescription: \xff\n"},
    "pulumi-nul": {"Pulumi.yaml": b"name: p\nruntime: yaml\ndescription: a\x00b\n"},
    "pulumi-numbers": {
        "Pulumi.yaml": (
            "name: p\nruntime: yaml\nvariables:\n  n: " + "9" * 10_000 + "\n  f: 1e99999\n"
        ).encode()
    },
    "pulumi-python-tag": {
        "Pulumi.yaml": b"name: p\nruntime: yaml\nvariables:\n  x: !!python/object/apply:os.system ['true']\n"
    },
    "tf-json-surrogate": {
        "main.tf.json": b'{"provider": {"aws": {"region": "\\ud800"}}, "resource": {"aws_s3_bucket":'
        b' {"b": {"tags": {"data-classification": "personal", "\\udfff": "\\ud83d"}}}}}'
    },
    "tfvars-json-surrogate": {
        "main.tf": b'variable "region" {}\nprovider "aws" {\n  region = var.region\n}\n',
        "terraform.tfvars.json": b'{"region": "cn-north-1\\udc00"}',
    },
    "plan-surrogate": {
        "tfplan.json": b'{"format_version": "1.2", "terraform_version": "1.9.8", "variables": '
        b'{"r": {"value": "\\ud800"}}, "planned_values": {"root_module": {}}}'
    },
    "pulumi-surrogate": {
        "Pulumi.yaml": b"name: p\nruntime: yaml\nresources:\n  b:\n    type: aws:s3:BucketV2\n"
        b'    properties:\n      tags:\n        data-classification: "\\ud800"\n'
    },
    "pulumi-json-deep": {
        "stack.json": (
            '{"version": 3, "deployment": {"resources": ' + _deep("[", "]", 100_000) + "}}"
        ).encode()
    },
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_gives_a_result_or_errors_naming_the_file(case: str) -> None:
    files = HOSTILE[case]
    first = next(iter(files))
    if first.startswith("Pulumi") and not _claimed(first, files[first]):
        pytest.skip("no registered parser claims Pulumi.yaml yet")
    assert_scan_is_clean(files)


def test_expansion_cap_is_a_clear_finding_not_a_hang() -> None:
    files = {
        "main.tf": (
            PROVIDER + 'resource "aws_s3_bucket" "b" {\n  count = 100000000\n'
            '  tags = { data-classification = "personal" }\n}\n'
        ).encode()
    }
    with tempfile.TemporaryDirectory() as tmp:
        write_tree(Path(tmp), files)
        outcome = scan_path(Path(tmp), check=False)
    assert outcome.exit_code == 1
    (v,) = outcome.violations
    assert (v.policy, v.resource, v.line) == ("CII003", "aws_s3_bucket.b", 5)
    assert "100000000" in v.message and "limit" in v.message


# -- through the installed command ------------------------------------------------------------
E2E_CASES = [
    "hcl-deep-tuple",
    "hcl-invalid-utf8",
    "hcl-nul-byte",
    "hcl-enormous-numbers",
    "tfvars-json-deep",
    "tf-json-numbers",
    "tf-json-duplicate",
    "plan-deep",
    "pulumi-alias-bomb",
    "pulumi-python-tag",
    "tf-json-surrogate",
    "tfvars-json-surrogate",
    "plan-surrogate",
    "pulumi-surrogate",
]


def _assert_cli_is_clean(root: Path, names: list[str]) -> None:
    run = run_cli("scan", *names, "--no-cache", "--no-config", "--format", "json", cwd=root)
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert run.code in (0, 1, 2)
    report = run.json
    assert all(e["file"] and "\n" not in e["message"] for e in report["errors"]), report["errors"]
    assert (run.code == 2) == bool(report["errors"])
    for line in run.stderr.splitlines():
        assert line.startswith("error: ") and any(n in line for n in names), line


def test_hostile_inputs_through_the_installed_command(tmp_path: Path) -> None:
    for case in E2E_CASES:
        write_tree(tmp_path / case, HOSTILE[case])
    _assert_cli_is_clean(tmp_path, E2E_CASES)
    run = run_cli("scan", *E2E_CASES, "--no-cache", "--no-config", cwd=tmp_path, env=clean_env())
    assert run.code == 2


@pytest.mark.parametrize(
    "budget", [pytest.param(4, id="fast"), pytest.param(40, id="slow", marks=pytest.mark.slow)]
)
def test_mutated_modules_through_the_installed_command(budget: int) -> None:
    def check(files: dict[str, bytes]) -> None:
        with tempfile.TemporaryDirectory(prefix="ciiguard-fuzz-") as tmp:
            write_tree(Path(tmp) / "m", files)
            _assert_cli_is_clean(Path(tmp), ["m"])

    files = st.fixed_dictionaries(
        {
            "main.tf": inputs(TF_SEEDS),
            "terraform.tfvars.json": inputs(TFVARS_JSON_SEEDS),
            "tfplan.json": inputs(PLAN_SEEDS),
        }
    )
    fuzz(budget, files, check)


HOSTILE_CONFIG = {
    "deep": "x = " + _deep("[", "]", 100_000) + "\n",
    "huge-number": "cii_workload = " + "9" * 10_000 + "\n",
    "nul": "cii_workload = true\x00\n",
    "invalid-utf8": b"cii_workload = true\n# \xff\n",
    "duplicate-key": "cii_workload = true\ncii_workload = false\n",
    "surrogate": 'fail_on = "\\ud800"\n',
    "huge-string": 'fail_on = "' + "x" * 5_000_000 + '"\n',
    "wrong-types": "cii_workload = 1\nallowed_regions = 5\n[enforcement]\nCII001 = []\n",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CONFIG))
def test_hostile_config_is_one_config_error(case: str, tmp_path: Path) -> None:
    config = pytest.importorskip("ciiguard.gate.config", reason="ciiguard.gate.config has not landed yet")
    data = HOSTILE_CONFIG[case]
    path = tmp_path / "ciiguard.toml"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    with pytest.raises(CiiguardError) as info:
        config.load(path)
    assert str(info.value).startswith(str(path.name)) or "ciiguard.toml" in str(info.value)
    assert "\n" not in str(info.value)
    (tmp_path / "main.tf").write_text(PROVIDER)
    run = run_cli("scan", ".", "--no-cache", cwd=tmp_path)
    assert run.code == 2 and "Traceback" not in run.stderr and "internal error" not in run.stderr
    assert run.stderr.startswith("ciiguard: error: ciiguard.toml")
