"""Command-line options of the pipeline gate (config, baselines, fail level), shared by subcommands.

Only argparse here: ``ciiguard --version`` builds the parser and must stay instant.
"""

from __future__ import annotations

import argparse

FAIL_ON = ("mandatory", "advisory")


def add_config_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="FILE",
        help="read settings from FILE (ciiguard.toml or pyproject.toml with [tool.ciiguard]); "
        "default: found upward from the first PATH (or the current directory)",
    )
    p.add_argument(
        "--no-config", action="store_true", help="ignore ciiguard.toml / [tool.ciiguard]"
    )
    p.add_argument(
        "--policy-config",
        metavar="FILE",
        help="the pipeline's own settings, kept outside the scanned tree (also "
        "CIIGUARD_POLICY_CONFIG): config files in the tree can then only make the gate stricter, "
        "and each attempt to relax it is a blocking CII004 finding",
    )


def add_gate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--baseline",
        metavar="FILE",
        help="findings recorded in FILE (see --create-baseline) are reported but do not fail",
    )
    p.add_argument(
        "--create-baseline",
        metavar="FILE",
        help="record every current finding in FILE so that later scans fail only on new ones",
    )
    p.add_argument(
        "--soft-fail",
        action="store_true",
        help="report blocking violations but exit 0 (an incomplete scan still exits 2)",
    )
    p.add_argument(
        "--policy",
        action="append",
        metavar="ID",
        dest="only_policies",
        help="run only this policy (repeatable, e.g. --policy CII001 --policy CII002)",
    )
    p.add_argument(
        "--skip-policy",
        action="append",
        metavar="ID",
        dest="skip_policies",
        help="do not run this policy (repeatable); the pipeline's choice, like enforcement "
        "= disabled in --policy-config",
    )
    p.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default=None,
        help="lowest enforcement that fails the gate: mandatory (default) or advisory",
    )
