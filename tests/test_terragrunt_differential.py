"""Terragrunt units against the real tools.

- ``terraform`` (on PATH here, offline): the ``TF_VAR_`` text terragrunt sets for each input, and
  the variables files around it, planned by terraform; ciiguard must give every variable the value
  terraform's plan gives it.
- ``terragrunt`` (when a binary is installed): ``terragrunt render --json`` of provider-less units
  must agree with ciiguard's reading of ``inputs``, ``locals``, ``terraform.source`` and
  ``generate``. No package registry reachable from this project ships the binary (PyPI's
  ``terragrunt-python`` is a pure-Python wrapper that needs it; ``tgenv`` and ``terraenv`` download
  it from GitHub releases; npm and Debian carry none), so that test skips unless ``terragrunt`` is
  on PATH or ``CIIGUARD_TERRAGRUNT`` names it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ciiguard.catalogue import Catalogue, load_builtin
from ciiguard.model import ParseOutput, Unknown
from ciiguard.parsers.base import ParseContext
from ciiguard.parsers.terraform.lang.evaluator import deep_unknown
from ciiguard.parsers.terragrunt.unit import Estate, env_text
from ciiguard.settings import Settings

TERRAFORM = shutil.which("terraform")
TERRAGRUNT = os.environ.get("CIIGUARD_TERRAGRUNT") or shutil.which("terragrunt")

MODULE = """
variable "s" {
  type = string
}
variable "n" {
  type = number
}
variable "b" {
  type = bool
}
variable "l" {
  type = list(string)
}
variable "m" {
  type = map(string)
}
variable "o" {
  type = object({ region = string, zones = list(string) })
}
variable "a" {
  type = any
}
variable "u" {}
variable "template" {
  type = list(string)
}
variable "plain_template" {
  type = string
}
variable "nothing" {
  default = "default"
}
variable "from_tfvars" {
  type = string
}
variable "from_env" {
  type = string
}
variable "big" {
  type = number
}
"""
INPUTS = """
inputs = {
  s              = "cn-north-1"
  n              = 42
  b              = true
  l              = ["cn-north-1", "cn-northwest-1"]
  m              = { primary = "cn-north-1", "with space" = "x" }
  o              = { region = "cn-northwest-1", zones = ["a", "b"] }
  a              = { nested = { region = "ap-east-1" }, list = [1, 2.5] }
  u              = { region = "cn-north-1" }
  template       = ["$${not_a_reference}", "literal ${"$"}{x}"]
  plain_template = "$${kept}"
  nothing        = null
  from_tfvars    = "from inputs"
  from_env       = "from inputs"
  big            = 12345678901234567
}
"""
NAMES = [
    "s", "n", "b", "l", "m", "o", "a", "u", "template", "plain_template", "nothing",
    "from_tfvars", "from_env", "big",
]  # fmt: skip
ENV = {"TF_VAR_from_env": "from the environment"}


def unit_tree(root: Path) -> Path:
    module = root / "module"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(
        MODULE + "".join(f'output "{n}" {{\n  value = var.{n}\n}}\n' for n in NAMES)
    )
    (module / "terraform.tfvars").write_text('from_tfvars = "from terraform.tfvars"\n')
    unit = root / "live" / "app"
    unit.mkdir(parents=True)
    (unit / "terragrunt.hcl").write_text('terraform {\n  source = "../../module"\n}\n' + INPUTS)
    return unit


def ciiguard_values(root: Path, unit: Path) -> dict[str, Any]:
    ctx = ParseContext(
        settings=Settings(environment=ENV, use_cache=False),
        catalogue=Catalogue(load_builtin()),
        roots=[root],
        cwd=root,
    )
    estate = Estate(ctx, ParseOutput())
    u = estate.unit(unit / "terragrunt.hcl")
    u.prepare()
    assert u.out.errors == [], u.out.errors
    assert u.instance is not None
    return {n: u.instance.vars[n].value for n in NAMES}


def terraform_values(root: Path, unit: Path) -> dict[str, Any]:
    """What terraform plans with the environment terragrunt would set (its TF_VAR_ text, a real
    TF_VAR_ left alone) and its null-inputs file, in a copy of the working directory."""
    assert TERRAFORM
    work = root / "work"
    shutil.copytree(root / "module", work)
    estate_values = ciiguard_inputs(root, unit)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_VAR_")}
    env.update(ENV)
    nulls = {}
    for name, (value, hcl_mode) in estate_values.items():
        if value is None:
            nulls[name] = None
            continue
        text = env_text(value, hcl_mode)
        assert isinstance(text, str), text
        env.setdefault(f"TF_VAR_{name}", text)
    (work / ".terragrunt-null-vars.auto.tfvars.json").write_text(json.dumps(nulls))
    env["TF_IN_AUTOMATION"] = "1"
    env["CHECKPOINT_DISABLE"] = "1"
    subprocess.run(
        [TERRAFORM, "plan", "-input=false", "-no-color", "-out=plan"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    shown = subprocess.run(
        [TERRAFORM, "show", "-json", "plan"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outputs = json.loads(shown.stdout)["planned_values"]["outputs"]
    return {n: outputs[n]["value"] for n in NAMES}


def ciiguard_inputs(root: Path, unit: Path) -> dict[str, tuple[Any, bool]]:
    """Each input's value and whether terraform parses its TF_VAR_ text as HCL (terragrunt's rule
    for escaping), as ciiguard's unit reader computed them."""
    from ciiguard.parsers.terragrunt.unit import _parsed_as_hcl

    ctx = ParseContext(
        settings=Settings(use_cache=False), catalogue=Catalogue(load_builtin()), roots=[root]
    )
    estate = Estate(ctx, ParseOutput())
    u = estate.unit(unit / "terragrunt.hcl")
    u.prepare()
    assert u.rendered is not None and u.instance is not None
    mod = u.instance.mod
    return {k: (a.value, _parsed_as_hcl(mod, k)) for k, a in u.rendered.inputs.items()}


def plain(value: Any) -> Any:
    """A value as terraform's JSON shows it (numbers as int/float, sets as lists)."""
    assert deep_unknown(value) is None, value
    return json.loads(json.dumps(value, default=list))


@pytest.mark.slow
@pytest.mark.skipif(TERRAFORM is None, reason="terraform is not on PATH")
def test_inputs_reach_each_variable_as_terraform_plans_them(tmp_path: Path) -> None:
    unit = unit_tree(tmp_path)
    ours = ciiguard_values(tmp_path, unit)
    theirs = terraform_values(tmp_path, unit)
    assert {n: plain(v) for n, v in ours.items()} == theirs
    # the cases the table is about, spelled out
    assert theirs["u"] == '{"region":"cn-north-1"}'  # untyped: the JSON text, verbatim
    assert theirs["template"] == ["${not_a_reference}", "literal ${x}"]
    assert theirs["plain_template"] == "${kept}"
    assert theirs["nothing"] is None
    assert theirs["from_tfvars"] == "from terraform.tfvars"
    assert theirs["from_env"] == "from the environment"
    assert theirs["big"] == 12345678901234568  # through a 64-bit float, as terragrunt passes it


# -- terragrunt render --json ------------------------------------------------------------------
RENDER_UNITS: dict[str, dict[str, str]] = {
    "include-and-locals": {
        "root.hcl": """
locals {
  region_vars = read_terragrunt_config(find_in_parent_folders("region.hcl"))
  region      = local.region_vars.locals.region
}
generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<EOF
provider "aws" {
  region = "${local.region}"
}
EOF
}
inputs = merge(local.region_vars.locals, { from_root = path_relative_to_include() })
""",
        "live/region.hcl": 'locals {\n  region = "cn-north-1"\n}\n',
        "live/app/terragrunt.hcl": """
include "root" {
  path   = find_in_parent_folders("root.hcl")
  expose = true
}
terraform {
  source = "../../module"
}
inputs = {
  name   = "app-${include.root.locals.region}"
  parent = basename(get_parent_terragrunt_dir())
}
""",
        "module/main.tf": 'variable "name" {}\n',
    },
    "deep-merge": {
        "common.hcl": 'inputs = {\n  tags = { owner = "platform" }\n  list = ["a"]\n}\n',
        "live/app/terragrunt.hcl": """
include "common" {
  path           = find_in_parent_folders("common.hcl")
  merge_strategy = "deep"
}
inputs = {
  tags = { team = "orders" }
  list = ["b"]
}
""",
        "live/app/main.tf": 'variable "tags" {}\n',
    },
}


@pytest.mark.slow
@pytest.mark.skipif(
    TERRAGRUNT is None,
    reason="no terragrunt binary: no package registry reachable here ships it (PyPI's "
    "terragrunt-python is a wrapper needing the binary, tgenv/terraenv download it from GitHub, "
    "npm and Debian carry none); put terragrunt on PATH or set CIIGUARD_TERRAGRUNT to run this",
)
@pytest.mark.parametrize("case", sorted(RENDER_UNITS))
def test_render_json_agrees_with_terragrunt(case: str, tmp_path: Path) -> None:
    assert TERRAGRUNT
    for name, text in RENDER_UNITS[case].items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    unit = tmp_path / "live" / "app"
    theirs = None
    for command in (["render", "--json"], ["render-json", "--terragrunt-json-out", "/dev/stdout"]):
        run = subprocess.run(
            [TERRAGRUNT, *command], cwd=unit, capture_output=True, text=True, timeout=300
        )
        if run.returncode == 0:
            theirs = json.loads(run.stdout)
            break
    assert theirs is not None, "terragrunt could not render the unit"
    ctx = ParseContext(
        settings=Settings(use_cache=False), catalogue=Catalogue(load_builtin()), roots=[tmp_path]
    )
    estate = Estate(ctx, ParseOutput())
    _, rendered = estate.reader.config(unit / "terragrunt.hcl")
    assert {k: plain(a.value) for k, a in rendered.inputs.items()} == theirs.get("inputs", {})
    source = rendered.source.value if rendered.source else None
    assert source == (theirs.get("terraform") or {}).get("source")
    gen_theirs = {k: v["contents"] for k, v in (theirs.get("generate") or {}).items()}
    gen_ours = {}
    for k, g in rendered.generate.items():
        assert isinstance(g.text, str) and not isinstance(g.text, Unknown)
        gen_ours[k] = g.text.split("\n", 1)[1] if g.text.startswith("# Generated") else g.text
    assert gen_ours == gen_theirs
    assert rendered.locals is not None
    assert {k: plain(v) for k, v in rendered.locals.items() if not isinstance(v, dict)} == {
        k: v for k, v in (theirs.get("locals") or {}).items() if not isinstance(v, dict)
    }
