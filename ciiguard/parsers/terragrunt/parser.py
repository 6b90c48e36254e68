"""``TerragruntParser``: every unit of the scanned paths, as the root module Terragrunt runs.

Registered ahead of the Terraform reader: it records the directories units run
(``ParseContext.wrapped_roots``), so a unit's module is never also scanned as a plain root module.
"""

from __future__ import annotations

import os
from pathlib import Path

from ciiguard.errors import InputError
from ciiguard.model import Gap, ParseOutput, ScanIssue
from ciiguard.parsers.base import ParseContext, real
from ciiguard.parsers.terraform.lang.evaluator import Budget
from ciiguard.parsers.terraform.parser import TerraformParser
from ciiguard.parsers.terragrunt.config import FileConfig, UndecidedConfig
from ciiguard.parsers.terragrunt.files import STACK_FILE, UNIT_FILES
from ciiguard.parsers.terragrunt.functions import Place
from ciiguard.parsers.terragrunt.unit import Estate


class TerragruntParser:
    """Parser for Terragrunt units (``terragrunt.hcl``, ``terragrunt.hcl.json``) and stacks."""

    name = "terragrunt"

    def claims(self, path: Path) -> bool:
        return path.name in UNIT_FILES or path.name == STACK_FILE

    def parse(self, files: list[Path], ctx: ParseContext) -> ParseOutput:
        out = ParseOutput()
        estate = Estate(ctx, out)
        units: list[Path] = []
        for f in sorted(Path(os.path.abspath(p)) for p in files):
            shown = ctx.display(f)
            if f.name == STACK_FILE:
                out.gaps.append(
                    Gap(
                        address=ctx.display(f.parent),
                        message=f"{shown} is a Terragrunt stack, whose units ciiguard does not "
                        "generate; they were not checked",
                        fix="run 'terragrunt stack generate' and scan the .terragrunt-stack "
                        "directory it writes",
                        file=shown,
                        line=None,
                    )
                )
                continue
            if f.name == UNIT_FILES[1] and (f.parent / UNIT_FILES[0]).is_file():
                out.warnings.append(
                    ScanIssue(
                        shown,
                        None,
                        f"terragrunt runs {UNIT_FILES[0]} in this directory; this file is not read",
                    )
                )
                continue
            units.append(f)
        parents = _shared_parents(estate, units)
        for f in units:
            if f in parents:
                ctx.wrapped_roots.setdefault(real(f.parent), ctx.display(f))
                continue
            part = estate.unit(f).scan()
            out.resources.extend(part.resources)
        for unit in estate.units.values():
            out.errors.extend(unit.out.errors)
            out.warnings.extend(unit.out.warnings)
            out.gaps.extend(unit.out.gaps)
        return out


def _shared_parents(estate: Estate, units: list[Path]) -> set[Path]:
    """``terragrunt.hcl`` files that other units include and that have no Terraform files of their
    own: the older convention for the root configuration (now ``root.hcl``), read through the
    units that include it, never run on its own."""
    included: set[Path] = set()
    for f in units:
        included.update(_include_paths(estate, f))
    return {
        f
        for f in units
        if f in included and not any(TerraformParser.claims_name(p) for p in f.parent.iterdir())
    }


def _include_paths(estate: Estate, path: Path) -> list[Path]:
    """The files a configuration includes (nothing when its include blocks cannot be read: the
    unit itself reports that)."""
    try:
        hcl = estate.files.load(path)
        fc = FileConfig(
            estate.files,
            hcl,
            path,
            Place(path, path, hcl.path),
            dict(estate.ctx.settings.environment),
            lambda target, place: None,
            [],
            [],
            Budget(),
        )
    except (InputError, UndecidedConfig, RecursionError):
        return []
    return [r.path for r in fc.includes]
