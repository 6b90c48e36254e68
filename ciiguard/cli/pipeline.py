"""The pipeline-gate part of the command line: config, output formats, the gate stage, exit code.

Kept out of ``cli.py`` so the argument parser stays a list of options and this stays testable.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ciiguard.catalogue import Catalogue
from ciiguard.errors import UsageError
from ciiguard.escaping import terminal
from ciiguard.gate import baseline as baseline_file
from ciiguard.gate.config import (
    DEFAULT_EXEMPTION_MAX_DAYS,
    Config,
    ConfigError,
    check_against,
    display_path,
    load,
    locate,
)
from ciiguard.gate.config_files import checkout_of, find_all
from ciiguard.gate.stage import APPROVABLE, GateOptions, gate, how_to_approve, how_to_suppress
from ciiguard.gate.trust import Combined, Relaxation, combine
from ciiguard.model import Enforcement, ScanResult, ViolationStatus, Waiver
from ciiguard.policies.base import Policy
from ciiguard.reporters.base import Report, Reporter
from ciiguard.settings import Settings

STDOUT = "-"
POLICY_CONFIG_ENV = "CIIGUARD_POLICY_CONFIG"


@dataclass(frozen=True)
class Output:
    reporter: str
    destination: str  # a file path, or "-" for stdout


@dataclass(frozen=True)
class Configs:
    """The pipeline's own config (``--policy-config``), and the config files of the scanned
    tree: under ``--policy-config`` every one of them, each of which can only tighten it;
    without, the nearest one (or ``--config``), applied as written."""

    trusted: Config | None
    repository: tuple[Config, ...]

    @property
    def plugins(self) -> tuple[str, ...]:
        """Modules to import: only the pipeline's config names them (never a file in the tree)."""
        return self.trusted.plugins if self.trusted is not None else ()

    @property
    def disabled(self) -> tuple[str, ...]:
        """Plugins not to load: the pipeline's; without it, the tree's file may turn some off."""
        if self.trusted is not None:
            return self.trusted.disable_plugins
        return tuple(d for c in self.repository for d in c.disable_plugins)

    @property
    def files(self) -> list[Path]:
        """Every config file read (a replayed run checks their content)."""
        every = [self.trusted, *self.repository] if self.trusted else list(self.repository)
        return [c.path for c in every if c is not None and c.path is not None]

    def resolve(self, policies: Sequence[Policy], catalogue: Catalogue) -> Combined:
        """Each file checked against the loaded policies and catalogue, then combined."""
        ids = [p.id for p in policies]
        trusted = check_against(self.trusted, ids, catalogue) if self.trusted else None
        repository = [check_against(c, ids, catalogue) for c in self.repository]
        return combine(trusted, repository, {p.id: p.enforcement for p in policies})


def load_config(args: argparse.Namespace) -> Configs:
    paths = list(getattr(args, "paths", None) or [])
    no_config = getattr(args, "no_config", False)
    explicit = getattr(args, "config", None)
    given = getattr(args, "policy_config", None)
    if given is not None and not given.strip():  # "$VAR" of a variable the job does not set
        raise UsageError("--policy-config: empty file name (is the variable naming it set?)")
    policy = given or os.environ.get(POLICY_CONFIG_ENV) or None
    if policy is None:
        found = locate(explicit, paths, no_config)
        return Configs(None, (found,) if found.path is not None else ())
    trusted = _load_policy_config(Path(policy), paths)
    if no_config:
        return Configs(trusted, ())
    repository: list[Config] = []
    if explicit is not None and Path(explicit).resolve() != trusted.path:
        repository.append(locate(explicit, paths))
    if paths:
        from ciiguard.cache.results import SKIP_DIRS

        seen = {c.path.resolve() for c in repository if c.path is not None}
        for found_path in find_all([Path(p) for p in paths], SKIP_DIRS):
            if found_path.resolve() not in seen and found_path.resolve() != trusted.path:
                repository.append(load(found_path))
    return Configs(trusted, tuple(repository))


def _load_policy_config(path: Path, paths: Sequence[str]) -> Config:
    """The pipeline's config: a file outside every scanned tree (and its repository)."""
    shown = display_path(path)
    if not path.is_file():
        raise ConfigError(shown, None, "no such policy config file (--policy-config)")
    real = path.resolve()
    for scanned in paths:
        home = checkout_of(Path(scanned))
        if real == home or home in real.parents:
            raise ConfigError(
                shown,
                None,
                f"the policy config lies inside the scanned tree ({display_path(home)}), where "
                "the change under review could rewrite it; keep it outside the checkout (for "
                "example written by the CI job, or taken from the base branch)",
            )
    return dataclasses.replace(load(path, trusted=True), path=real)


def parse_formats(
    values: Sequence[str] | None, output: str | None, known: Sequence[str]
) -> list[Output]:
    """``--format NAME`` (to ``--output`` or stdout) and ``--format NAME:FILE`` (``-``: stdout).

    When every format names its own file, the text report still goes to the terminal.
    """
    specs = list(values or ["text"])
    out: list[Output] = []
    bare = 0
    for spec in specs:
        name, sep, dest = spec.partition(":")
        name = name.strip()
        if name not in known:
            raise UsageError(f"unknown --format {name!r} (known: {', '.join(sorted(known))})")
        if sep:
            if not dest:
                raise UsageError(
                    f"--format {spec!r}: give a file after the colon (or - for stdout)"
                )
            out.append(Output(name, dest))
        else:
            bare += 1
            out.append(Output(name, output or STDOUT))
    if output and bare > 1:
        raise UsageError("--output takes one format; write the others with --format NAME:FILE")
    if output and bare == 0:
        raise UsageError("--output needs a --format without a file (or use --format NAME:FILE)")
    files = [o.destination for o in out if o.destination != STDOUT]
    dupes = sorted({f for f in files if files.count(f) > 1})
    if dupes:
        raise UsageError(f"two formats write to the same file: {', '.join(dupes)}")
    if bare == 0 and all(o.destination != STDOUT for o in out):
        out.append(Output("text", STDOUT))
    return out


def effective_enforcement(policies: Sequence[Policy], settings: Settings) -> dict[str, Enforcement]:
    levels = {e.value: e for e in Enforcement}
    return {p.id: levels.get(settings.enforcement.get(p.id, ""), p.enforcement) for p in policies}


@dataclass(frozen=True)
class GateRun:
    result: ScanResult
    baseline: str | None  # the baseline in use, as shown
    fail_on: str
    soft_fail: bool
    note: str | None = None  # a line for stderr (e.g. "wrote baseline ...")
    waivers: tuple[Waiver, ...] = ()  # suppressions and approvals found in the tree


def gate_stage(
    result: ScanResult,
    settings: Settings,
    config: Config,
    args: argparse.Namespace,
    policy_ids: frozenset[str],
    tool_version: str,
    today: dt.date | None = None,
    relaxations: Sequence[Relaxation] = (),
) -> GateRun:
    """Approvals, suppressions, exemptions and the baseline; writes ``--create-baseline``.

    ``relaxations``: what the tree's config files attempted (blocking when ``config.trusted``)."""
    fail_on = args.fail_on or config.fail_on or "mandatory"
    soft_fail = bool(args.soft_fail or config.soft_fail)
    create = Path(args.create_baseline) if args.create_baseline else None
    use: Path | None = None
    if create is None:
        use = Path(args.baseline) if args.baseline else config.baseline
        if use is not None and not args.baseline and config.path is not None and not config.trusted:
            _contained(use, config, getattr(args, "allow_outside_root", False))
    elif args.baseline:
        raise UsageError("use either --baseline or --create-baseline, not both")
    anchor_file = create or use
    anchor = (anchor_file.parent if anchor_file is not None else Path.cwd()).resolve()
    loaded = baseline_file.read(use, display_path(use)) if use is not None else None
    options = GateOptions(
        today=today or dt.date.today(),
        fail_on=fail_on,
        exemptions=config.exemptions,
        baseline=loaded,
        anchor=anchor,
        policy_ids=policy_ids,
        relaxations=relaxations,
        trusted=config.trusted,
        suppressions=config.suppressions or "require-reason",
        approval_pattern=config.approval_reference_pattern,
        approval_max_days=config.approval_max_valid_days,
        exemption_max_days=(config.exemption_max_days or DEFAULT_EXEMPTION_MAX_DAYS)
        if config.trusted
        else None,
    )
    outcome = gate(result, settings, options)
    gated = outcome.result
    note = None
    shown = display_path(use) if use is not None else None
    if create is not None:
        if gated.errors:
            raise UsageError(
                f"not writing the baseline {display_path(create)}: the scan is incomplete "
                "(fix the errors first)"
            )
        current = [v for v in gated.violations if v.status is ViolationStatus.VIOLATION]
        try:
            n = baseline_file.write(create, current, tool_version, options.anchor)
        except OSError as exc:
            raise UsageError(
                f"cannot write {display_path(create)}: {exc.strerror or exc}"
            ) from None
        shown = display_path(create)
        note = f"ciiguard: wrote {n} finding{'' if n == 1 else 's'} to the baseline {shown}"
        loaded = baseline_file.read(create, shown)
        outcome = gate(result, settings, _replace_baseline(options, loaded))
        gated = outcome.result
    return GateRun(gated, shown, fail_on, soft_fail, note, outcome.waivers)


def _replace_baseline(options: GateOptions, loaded: baseline_file.Baseline) -> GateOptions:
    import dataclasses

    return dataclasses.replace(options, baseline=loaded)


def write_reports(
    outputs: Sequence[Output],
    reporters: Mapping[str, Reporter],
    report: Report,
    stdout: TextIO,
) -> None:
    """Render each format once and write it; a file that cannot be written is a UsageError."""
    for o in outputs:
        reporter = reporters[o.reporter]
        # a built-in format that streams (json) is written as it is rendered, never held whole;
        # any other is rendered before its file is opened (a crash leaves no truncated file)
        writer = reporter.writer() if hasattr(reporter, "writer") else None
        text = reporter.render(report) if writer is None else ""
        if o.destination == STDOUT:
            _emit(stdout, report, writer, text)
            continue
        try:
            with open(o.destination, "w", encoding="utf-8") as fh:
                _emit(fh, report, writer, text)
        except OSError as exc:
            raise UsageError(f"cannot write {o.destination}: {exc.strerror or exc}") from None


def _emit(
    stream: TextIO,
    report: Report,
    writer: Callable[[Report, TextIO], None] | None,
    text: str,
) -> None:
    if writer is not None:
        writer(report, stream)
    else:
        stream.write(text)


def _contained(path: Path, config: Config, allowed: bool) -> None:
    """A file a config file names (its baseline) must lie in the config file's directory tree:
    a repository's config cannot pull in a file from elsewhere unless --allow-outside-root."""
    assert config.path is not None
    home = config.path.parent.resolve()
    real = path.resolve()
    if not allowed and real != home and home not in real.parents:
        raise UsageError(
            f"{display_path(config.path)}: baseline {os.path.relpath(real, home)} is outside the "
            "config file's directory (use --allow-outside-root to read it)"
        )


def exit_code(run: GateRun) -> int:
    code = run.result.exit_code
    return 0 if code == 1 and run.soft_fail else code


def explain_policy(policy: Policy, level: Enforcement, settings: Settings) -> str:
    """``ciiguard explain ID``: the rule, its legal basis, how to fix, approve or suppress it."""
    lines = [f"{policy.id}  {policy.name}"]
    lines.append(f"  severity:     {policy.severity.value}")
    default = "" if level is policy.enforcement else f" (default {policy.enforcement.value})"
    lines.append(f"  enforcement:  {level.value}{default}")
    lines.append(f"  plugin:       {policy.plugin or 'builtin'}")
    lines += ["", policy.description]
    if policy.help:
        lines += ["", policy.help]
    if policy.legal_basis:
        lines += ["", f"Legal basis: {policy.legal_basis}"]
    if policy.fix:
        lines += ["", f"How to fix: {policy.fix}"]
    if policy.id in APPROVABLE:
        lines += ["", f"How to approve: {how_to_approve(settings)}"]
    lines += ["", f"How to suppress: {how_to_suppress(policy.id)}"]
    import textwrap  # (only --explain-policy wraps text)

    head, body = lines[:4], lines[4:]
    wrapped = [
        textwrap.fill(par, width=100, break_on_hyphens=False, break_long_words=False)
        if par
        else par
        for par in body
    ]
    return "\n".join(head + wrapped) + "\n"


def print_error(message: str) -> None:
    """One line on stderr; what came from the scanned tree in it cannot act on the terminal."""
    print(terminal(f"ciiguard: error: {message}"), file=sys.stderr)
