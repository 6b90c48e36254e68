"""Differential tests: ciiguard's evaluator against the real ``terraform`` binary, offline.

Each corpus under ``tests/fixtures/differential/`` is a provider-free configuration (variables,
locals, outputs). Terraform plans it (``init``, ``plan -out``, ``show -json``) and ciiguard
evaluates the same outputs through its own loader and root module. The rule: ciiguard returns
the same value as Terraform or "unknown", never a different value; expressions Terraform
rejects must come out unknown. Skipped when no ``terraform`` binary is on PATH or when
``terraform init`` cannot run here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from ciiguard.catalogue import Catalogue, load_builtin
from ciiguard.model import ParseOutput, Unknown
from ciiguard.parsers.base import ParseContext
from ciiguard.parsers.terraform import numbers
from ciiguard.parsers.terraform.files import load_module, root_variable_values
from ciiguard.parsers.terraform.hcl.reader import parse_hcl
from ciiguard.parsers.terraform.lang.evaluator import convert_to_type, deep_unknown
from ciiguard.parsers.terraform.parser import ModuleInstance, RootEvaluation, TerraformParser
from ciiguard.settings import Settings
from tests.conftest import FIXTURES

CORPUS = FIXTURES / "differential"
TIMEOUT = 120
MIN_DECIDED = 0.9  # share of the expression corpus ciiguard must decide (not unknown)


# -- running terraform --------------------------------------------------------------------


@dataclass(frozen=True)
class TfNumber:
    """A JSON number exactly as Terraform wrote it (Python floats would round it)."""

    text: str


@dataclass
class Terraform:
    exe: str
    home: Path

    def env(self, workdir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
        """A clean environment: nothing from the caller's TF_* settings or home leaks in."""
        rc = self.home / "empty.tfrc"
        rc.touch()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "TF_CLI_ARGS": "",
            "TF_CLI_CONFIG_FILE": str(rc),
            "TF_DATA_DIR": str(workdir / ".tfdata"),
            "CHECKPOINT_DISABLE": "1",
            "LANG": "C.UTF-8",
        }
        env.update(extra or {})
        return env

    def run(
        self, workdir: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self.exe, *args, "-no-color"],
                cwd=workdir,
                env=self.env(workdir, env),
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"terraform {args[0]} timed out after {TIMEOUT}s in {workdir}")

    def init(self, workdir: Path) -> None:
        proc = self.run(workdir, "init", "-input=false", "-backend=false")
        if proc.returncode != 0:
            pytest.skip(f"terraform init does not work here: {proc.stderr.strip()[:300]}")

    def plan_json(
        self, workdir: Path, *args: str, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        plan = self.run(workdir, "plan", "-input=false", "-out=p.tfplan", *args, env=env)
        assert plan.returncode == 0, f"terraform plan failed:\n{plan.stderr}"
        show = self.run(workdir, "show", "-json", "p.tfplan", env=env)
        assert show.returncode == 0, show.stderr
        data: dict[str, Any] = json.loads(show.stdout, parse_float=TfNumber, parse_int=TfNumber)
        return data


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    exe = shutil.which("terraform")
    if exe is None:
        pytest.skip("no terraform binary on PATH")
    home = tmp_path_factory.mktemp("tf-home")
    return Terraform(exe, home)


def copy_corpus(name: str, dest: Path) -> Path:
    work = dest / name
    shutil.copytree(CORPUS / name, work)
    return work


# -- evaluating with ciiguard -----------------------------------------------------------


def _load(path: Path) -> Any:
    return parse_hcl(path.read_text(encoding="utf-8"), path.name)


def ciiguard_root(
    workdir: Path,
    env: dict[str, str] | None = None,
    var_inputs: tuple[tuple[str, str], ...] = (),
) -> tuple[ModuleInstance, dict[str, Any]]:
    """The root module instance ciiguard builds for a directory, as a scan would."""
    env = env or {}
    files = sorted(p for p in workdir.iterdir() if p.suffix == ".tf")
    mod = load_module(workdir, files, _load)
    assert not mod.errors, mod.errors
    ctx = ParseContext(
        settings=Settings(environment=env, var_inputs=var_inputs),
        catalogue=Catalogue(load_builtin()),
        roots=[workdir],
        cwd=workdir,
    )
    values, errors = root_variable_values(mod, env, var_inputs, ctx.display, workdir)
    assert not errors, errors

    def module(directory: Path) -> Any:  # the root, or a local module it calls
        if directory == workdir.resolve():
            return mod
        return load_module(directory, sorted(directory.glob("*.tf")), _load)

    root_eval = RootEvaluation(TerraformParser(), ctx, workdir, module, ParseOutput())
    root = ModuleInstance(root_eval, mod, "", values, {}, (workdir.resolve(),))
    return root, {name: vv.value for name, vv in values.items()}


# -- comparing --------------------------------------------------------------------------


class Mismatch(Exception):
    pass


def same(tf: Any, ours: Any, path: str = "") -> None:
    """Raise Mismatch unless ciiguard's known value equals Terraform's, type included."""
    where = path or "value"
    if isinstance(tf, TfNumber):
        if isinstance(ours, bool) or not isinstance(ours, (int, float)):
            raise Mismatch(f"{where}: terraform {tf.text}, ciiguard {ours!r}")
        try:
            text = numbers.number_text(ours)
        except numbers.NotDecided:
            if Fraction(tf.text) != numbers.exact(ours):
                raise Mismatch(f"{where}: terraform {tf.text}, ciiguard {ours!r}") from None
            return
        if text != tf.text:
            raise Mismatch(f"{where}: terraform {tf.text}, ciiguard {text}")
        return
    if tf is None or isinstance(tf, (bool, str)):
        if type(tf) is not type(ours) or tf != ours:
            raise Mismatch(f"{where}: terraform {tf!r}, ciiguard {ours!r}")
        return
    if isinstance(tf, list):
        if not isinstance(ours, list) or len(ours) != len(tf):
            raise Mismatch(f"{where}: terraform {_show(tf)}, ciiguard {ours!r}")
        for i, (a, b) in enumerate(zip(tf, ours, strict=True)):
            same(a, b, f"{where}[{i}]")
        return
    if isinstance(tf, dict):
        if not isinstance(ours, dict) or set(ours) != set(tf):
            raise Mismatch(f"{where}: terraform {_show(tf)}, ciiguard {ours!r}")
        for k in tf:
            same(tf[k], ours[k], f"{where}[{k!r}]")
        return
    raise Mismatch(f"{where}: unexpected terraform value {tf!r}")


def _show(v: Any) -> str:
    return json.dumps(v, default=lambda o: o.text if isinstance(o, TfNumber) else repr(o))


def _source(workdir: Path, attr_file: str, line: int) -> str:
    return (workdir / attr_file).read_text(encoding="utf-8").splitlines()[line - 1].strip()


# -- the expression corpus ----------------------------------------------------------------


@pytest.mark.slow
def test_expression_corpus_matches_terraform(terraform: Terraform, tmp_path: Path) -> None:
    work = copy_corpus("expressions", tmp_path)
    terraform.init(work)
    plan = terraform.plan_json(work)
    tf_outputs = plan["planned_values"]["outputs"]
    root, _ = ciiguard_root(work)
    assert set(root.mod.outputs) == set(tf_outputs)
    assert len(tf_outputs) >= 150

    mismatches: list[str] = []
    unknown: list[str] = []
    for name in sorted(root.mod.outputs):
        ours = root.output(name)
        located = root.mod.outputs[name]
        src = f"{located.file}:{located.attr.line} {_source(work, located.file, located.attr.line)}"
        if deep_unknown(ours) is not None:
            u = deep_unknown(ours)
            assert isinstance(u, Unknown)
            unknown.append(f"{name}: {u.reason}  [{src}]")
            continue
        try:
            same(tf_outputs[name]["value"], ours)
        except Mismatch as exc:
            mismatches.append(f"{name}: {exc}  [{src}]")

    decided = len(tf_outputs) - len(unknown)
    print(
        f"\ndifferential corpus: {len(tf_outputs)} expressions, {decided} decided, "
        f"{len(unknown)} unknown"
    )
    for line in unknown:
        print("  unknown:", line)
    assert not mismatches, "ciiguard differs from terraform:\n" + "\n".join(mismatches)
    assert decided >= MIN_DECIDED * len(tf_outputs), "too many unknowns:\n" + "\n".join(unknown)


# -- references to other resources' arguments ------------------------------------------------


@pytest.mark.slow
def test_references_are_known_exactly_when_the_plan_knows_them(
    terraform: Terraform, tmp_path: Path
) -> None:
    """``terraform_data`` resources reference each other (instances, splats, ``for`` over
    instances, locals holding a resource, functions over references): every output is known to
    ciiguard exactly when Terraform's plan knows it, with the same value; an unknown one still
    names the resources it comes from."""
    work = copy_corpus("references", tmp_path)
    terraform.init(work)
    plan = terraform.plan_json(work)
    changes = plan["output_changes"]
    root, _ = ciiguard_root(work)
    assert set(root.mod.outputs) == set(changes)
    problems = []
    for name in sorted(changes):
        tf_unknown = changes[name]["after_unknown"] is True
        assert tf_unknown is name.startswith("unknown_"), f"{name}: the corpus is mislabelled"
        ours = root.output(name)
        u = deep_unknown(ours)
        if tf_unknown:
            if u is None:
                problems.append(f"{name}: terraform does not know it, ciiguard says {ours!r}")
            elif not any(r.startswith("terraform_data.") for r in u.refs):
                problems.append(f"{name}: unknown without naming its resources ({u!r})")
            continue
        if u is not None:
            problems.append(f"{name}: terraform knows it, ciiguard does not ({u.reason})")
            continue
        try:
            same(changes[name]["after"], ours, name)
        except Mismatch as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)


# -- expressions terraform rejects ----------------------------------------------------------


def _error_cases() -> list[tuple[str, str]]:
    """(output name, the output block's source) for each case in errors/cases.tf."""
    text = (CORPUS / "errors" / "cases.tf").read_text(encoding="utf-8")
    parsed = parse_hcl(text, "cases.tf")
    lines = text.splitlines()
    return [
        (b.labels[0], "\n".join(lines[b.line - 1 : b.end_line]) + "\n")
        for b in parsed.body.blocks
        if b.type == "output"
    ]


@pytest.mark.slow
def test_rejected_expressions_stay_unknown(terraform: Terraform, tmp_path: Path) -> None:
    work = tmp_path / "errors"
    work.mkdir()
    shutil.copy(CORPUS / "errors" / "common.tf", work / "common.tf")
    terraform.init(work)
    cases = _error_cases()
    assert len(cases) >= 20
    problems: list[str] = []
    for name, block in cases:
        (work / "case.tf").write_text(block, encoding="utf-8")
        proc = terraform.run(work, "plan", "-input=false")
        if proc.returncode == 0:
            problems.append(f"{name}: terraform accepted it (move it to the expression corpus)")
            continue
        root, _ = ciiguard_root(work)
        ours = root.output(name)
        if deep_unknown(ours) is None:
            problems.append(f"{name}: terraform rejects it, ciiguard returned {ours!r}")
    assert not problems, "\n".join(problems)


# -- variable precedence --------------------------------------------------------------------


PRECEDENCE_ENV = {"TF_VAR_from_env": "env", "TF_VAR_env_vs_tfvars": "env", "TF_VAR_number": "7"}
PRECEDENCE_ARGS = (
    ("file", "extra/one.tfvars"),
    ("var", "cli_order=from-var"),
    ("file", "extra/two.tfvars.json"),
    ("var", "cli_last=from-var"),
    ("var", 'list=["x", "y"]'),
)


def _cli(args: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"-var-file={v}" if k == "file" else f"-var={v}" for k, v in args]


@pytest.mark.slow
def test_variable_precedence_matches_terraform(terraform: Terraform, tmp_path: Path) -> None:
    work = copy_corpus("precedence", tmp_path)
    terraform.init(work)
    plan = terraform.plan_json(work, *_cli(PRECEDENCE_ARGS), env=PRECEDENCE_ENV)
    root, ours = ciiguard_root(work, PRECEDENCE_ENV, PRECEDENCE_ARGS)
    tf_vars = {k: v["value"] for k, v in plan["variables"].items()}
    tf_outputs = {k: v["value"] for k, v in plan["planned_values"]["outputs"].items()}
    assert set(tf_vars) == set(ours) == set(tf_outputs)
    mismatches = []
    for name in sorted(tf_vars):
        if deep_unknown(ours[name]) is not None:
            mismatches.append(f"var.{name}: ciiguard has no value ({ours[name]!r})")
            continue
        typed = root.mod.variables[name].block.body.attr("type") is not None
        pairs = [("output", tf_outputs[name], root.output(name))]
        if not typed:  # the plan records typed inputs before conversion
            pairs.append(("variables", tf_vars[name], ours[name]))
        for where, theirs, mine in pairs:
            try:
                same(theirs, mine, f"var.{name} ({where})")
            except Mismatch as exc:
                mismatches.append(str(exc))
    assert not mismatches, "\n".join(mismatches)
    # every rung of the precedence ladder decides at least one variable
    assert {_text(v) for v in tf_outputs.values()} >= {
        "default",
        "env",
        "tfvars",
        "tfvars-json",
        "auto-a",
        "auto-b",
        "file-one",
        "file-two",
        "from-var",
    }


def _text(v: Any) -> str:
    return v if isinstance(v, str) else ""


@pytest.mark.slow
def test_typed_variables_are_converted_like_terraform(terraform: Terraform, tmp_path: Path) -> None:
    work = copy_corpus("typed-variables", tmp_path)
    terraform.init(work)
    plan = terraform.plan_json(work)
    root, _ = ciiguard_root(work)
    for name, v in plan["planned_values"]["outputs"].items():
        ours = root.output(name)
        assert deep_unknown(ours) is None, name
        same(v["value"], ours, f"output {name}")


# -- the comparison itself (fast: no terraform needed) --------------------------------------


@pytest.mark.parametrize(
    ("tf", "ours"),
    [
        (TfNumber("1"), "1"),
        (TfNumber("1"), True),
        (TfNumber("0.3"), 0.30000000000000004),
        (TfNumber("2"), 3),
        ("1", TfNumber("1")),
        (True, 1),
        (None, ""),
        (["a"], ["a", "b"]),
        (["a"], "a"),
        ({"a": TfNumber("1")}, {"a": TfNumber("1"), "b": 2}),
        ({"a": "x"}, {"a": "y"}),
        ([TfNumber("1")], [1.5]),
    ],
)
def test_comparison_rejects_different_values(tf: Any, ours: Any) -> None:
    with pytest.raises(Mismatch):
        same(tf, ours)


def test_comparison_accepts_equal_values() -> None:
    from ciiguard.parsers.terraform.numbers import parse_number

    same(TfNumber("0.3"), numbers.add(parse_number("0.1"), parse_number("0.2")))
    same({"a": [TfNumber("1"), None, True, "x"]}, {"a": [1, None, True, "x"]})
    same(TfNumber("2.5"), numbers.divide(5, 2))


# -- syntax both must reject ----------------------------------------------------------------

SYNTAX_ERRORS = {
    "invalid_escape": 'output "a" { value = "\\q" }\n',
    "hex_escape": 'output "a" { value = "a\\x41" }\n',
    "short_unicode_escape": 'output "a" { value = "\\u00" }\n',
    "unterminated_string": 'output "a" { value = "open }\n',
    "dangling_operator": 'output "a" { value = 1 + }\n',
    "unclosed_heredoc": 'output "a" {\n  value = <<EOT\nno end\n}\n',
    "unclosed_tuple": 'output "a" { value = [1, 2 }\n',
    "object_items_unseparated": 'output "a" { value = { a = 1 b = 2 } }\n',
    "object_items_inline_comment": 'output "a" { value = { a = 1 /* c */ b = 2 } }\n',
    "attribute_redefined": 'output "a" {\n  value = 1\n  value = 2\n}\n',
    "trailing_dot": 'output "a" { value = var.x. }\n',
    "open_interpolation": 'output "a" { value = "${" }\n',
    "for_without_condition": 'output "a" { value = [for x in [1] : x if] }\n',
    "exponent_without_digits": 'output "a" { value = 1e }\n',
}


@pytest.mark.slow
def test_syntax_errors_are_rejected_by_both(terraform: Terraform, tmp_path: Path) -> None:
    work = tmp_path / "syntax"
    work.mkdir()
    (work / "main.tf").write_text('variable "x" { default = 1 }\n', encoding="utf-8")
    terraform.init(work)
    problems = []
    for name, text in SYNTAX_ERRORS.items():
        (work / "case.tf").write_text(text, encoding="utf-8")
        if terraform.run(work, "plan", "-input=false").returncode == 0:
            problems.append(f"{name}: terraform accepted it")
        mod = load_module(work, [work / "case.tf"], _load)
        if not mod.errors:
            problems.append(f"{name}: ciiguard parsed it without an error")
        elif mod.errors[0].file != "case.tf" or not mod.errors[0].line:
            problems.append(f"{name}: the error does not name file and line: {mod.errors[0]}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_try_does_not_hide_undeclared_references(terraform: Terraform, tmp_path: Path) -> None:
    work = tmp_path / "undeclared"
    work.mkdir()
    (work / "main.tf").write_text(
        'output "a" { value = try(var.nope, "fallback") }\n'
        'output "b" { value = can(local.nope) }\n',
        encoding="utf-8",
    )
    terraform.init(work)
    assert terraform.run(work, "plan", "-input=false").returncode != 0
    root, _ = ciiguard_root(work)
    assert deep_unknown(root.output("a")) is not None
    assert deep_unknown(root.output("b")) is not None


@pytest.mark.slow
def test_convert_to_type_matches_terraform(terraform: Terraform, tmp_path: Path) -> None:
    """What root_variable_values should apply: evaluator.convert_to_type against Terraform."""
    work = copy_corpus("typed-variables", tmp_path)
    terraform.init(work)
    plan = terraform.plan_json(work)
    root, raw = ciiguard_root(work)
    problems = []
    decided = 0
    for name, v in plan["planned_values"]["outputs"].items():
        type_attr = root.mod.variables[name].block.body.attr("type")
        assert type_attr is not None
        ours = convert_to_type(raw[name], type_attr.expr)
        if deep_unknown(ours) is not None:
            continue
        decided += 1
        try:
            same(v["value"], ours, f"var.{name}")
        except Mismatch as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)
    assert decided == len(plan["planned_values"]["outputs"])


@pytest.mark.slow
def test_an_apply_time_value_inside_a_typed_argument_stays_where_it_is(
    terraform: Terraform, tmp_path: Path
) -> None:
    """An id known only after apply in one ``set(string)`` attribute of a ``map(object)``
    module argument: Terraform converts the rest and knows the map's keys and every other
    attribute (a ``for_each`` over it is decided); only the set is unknown."""
    work = copy_corpus("typed-unknowns", tmp_path)
    terraform.init(work)
    changes = terraform.plan_json(work)["output_changes"]
    root, _ = ciiguard_root(work)
    known = ("known_keys", "known_storage", "known_flattened_names")
    for name in (*known, "known_concat_names", "known_coalesce_names"):
        assert changes[name]["after_unknown"] is False
        same(changes[name]["after"], root.output(name), name)
    assert changes["unknown_identities"]["after_unknown"] == [True]
    assert changes["unknown_names_through_try"]["after_unknown"] is True
    for name in ("unknown_identities", "unknown_names_through_try"):
        u = deep_unknown(root.output(name))
        assert u is not None and "terraform_data.identity" in u.refs, name


@pytest.mark.slow
def test_collections_of_different_sizes_are_unequal_whatever_they_hold(
    terraform: Terraform, tmp_path: Path
) -> None:
    """``[x.id] != []``, ``length(toset([x.id]))``: known to Terraform, so a ``count`` built on
    them (claranet's diagnostics) is decided; they were unknown (fourth audit)."""
    _known_unknown_sound(terraform, tmp_path, "collection-sizes")


@pytest.mark.slow
def test_a_lookup_among_apply_time_values_is_known_where_terraform_knows_it(
    terraform: Terraform, tmp_path: Path
) -> None:
    """``lookup(var.settings, "region", null)`` where another setting is an apply-time id:
    Terraform knows a missing key gives the default and a present key its value; ciiguard left
    it unknown, so a region given so was CII003 (eighth audit)."""
    _known_unknown_sound(terraform, tmp_path, "lookup-unknowns")


@pytest.mark.slow
def test_functions_over_partly_unknown_lists_are_known_where_terraform_knows_them(
    terraform: Terraform, tmp_path: Path
) -> None:
    """``coalescelist(var.azs, <apply-time list>)``, ``element``/``index``/``contains`` of a
    known element, ``zipmap`` of known keys, ``alltrue``/``anytrue`` a known element settles:
    Terraform knows them; ciiguard left them unknown (tenth audit)."""
    _known_unknown_sound(terraform, tmp_path, "partly-unknown-lists")


def _known_unknown_sound(terraform: Terraform, tmp_path: Path, corpus: str) -> None:
    """Outputs named known_* are known to both and equal, unknown_* unknown to both, sound_*
    unknown to Terraform and decided by ciiguard, undecided_* known to Terraform and unknown to
    ciiguard (see each corpus's header)."""
    work = copy_corpus(corpus, tmp_path)
    terraform.init(work)
    changes = terraform.plan_json(work)["output_changes"]
    root, _ = ciiguard_root(work)
    assert set(changes) == set(root.mod.outputs)
    for name, change in changes.items():
        mine = root.output(name)
        if name.startswith("known_"):
            assert change["after_unknown"] is False, name
            same(change["after"], mine, name)
        elif name.startswith("unknown_"):
            assert change["after_unknown"] is True, name
            assert deep_unknown(mine) is not None, name
        elif name.startswith("undecided_"):  # Terraform knows it from a type ciiguard keeps not
            assert change["after_unknown"] is False, name
            assert deep_unknown(mine) is not None, name
        else:  # sound_: Terraform leaves it unknown; no set of one element is empty
            assert change["after_unknown"] is True, name
            assert mine is False, name


@pytest.mark.slow
@pytest.mark.parametrize(
    "corpus",
    [
        # a splat over a module with count reads each instance's outputs
        "module-splat",
        # a set(object(...)), set(map(...)), set(list(...)) variable (Cosmos DB geo_location lists
        # in Azure Verified Modules) iterates in cty's order: each element by the bytes cty
        # hashes it to; ciiguard gives the same order, so a dynamic block over one is decided
        "set-order",
        # maps and objects of different keys in a conditional's branches unify into a map
        "conditional-maps",
        # a null module output, and a module (with and without for_each) as a whole value
        "module-values",
    ],
)
def test_every_output_matches_terraform(terraform: Terraform, tmp_path: Path, corpus: str) -> None:
    work = copy_corpus(corpus, tmp_path)
    terraform.init(work)
    outputs = terraform.plan_json(work)["planned_values"]["outputs"]
    root, _ = ciiguard_root(work)
    assert set(outputs) == set(root.mod.outputs)
    for name, v in outputs.items():
        same(v["value"], root.output(name), f"output {name}")
