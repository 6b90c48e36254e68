"""The fail-closed matrix: every way ciiguard can fail to understand its input blocks the gate.

Each row is one way of not understanding (a parse error, an unknown provider or region id, an
unresolved variable, an expression only known after apply, a remote module, an unknown plan
value, an unknown Pulumi output, a program that was not run, a crashing plugin...). The outcome is
either exit 2 with an error naming the file, or a blocking finding on the affected address, and
never exit 0. Fixtures are under ``fixtures/fail-closed/<case>/``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ciiguard import hookimpl
from ciiguard.model import ParseOutput
from ciiguard.parsers.base import ParseContext
from ciiguard.testing import Scanner, claimed_by, scan_path
from tests.conftest import FIXTURES, run_cli

FC = FIXTURES / "fail-closed"
B = "aws_s3_bucket.records"
PULUMI_BUCKET = "urn:pulumi:stack::records::aws:s3/bucketV2:BucketV2::records"


@dataclass(frozen=True)
class Row:
    case: str
    way: str  # the way of not understanding
    finding: tuple[str, str] | None = None  # (policy, address) of the blocking finding
    error: tuple[str, int | None] | None = None  # exit 2: (file, line) of the error
    needs: str | None = None  # a file some registered parser must claim, or the row skips


MATRIX = [
    Row("hcl-syntax-error", "parse error (HCL)", error=("main.tf", 11)),
    Row("json-syntax-error", "parse error (JSON syntax)", error=("main.tf.json", 5)),
    Row("tfvars-syntax-error", "parse error (tfvars)", error=("terraform.tfvars", 1)),
    Row("unknown-provider", "provider without a region catalogue", finding=("CII003", B)),
    Row("unknown-region-id", "region id no cloud has", finding=("CII003", B)),
    Row("unresolved-variable", "variable without a value", finding=("CII003", B)),
    Row("unresolvable-expression", "data source read at plan time", finding=("CII003", B)),
    Row("file-function-not-read", "file() is never evaluated", finding=("CII003", B)),
    Row("unknown-count", "count known only at plan time", finding=("CII001", f'{B}["*"]')),
    Row("unknown-tags", "tags known only at plan time", finding=("CII001", B)),
    Row(
        "unknown-replica-destination",
        "replica region known only at plan time",
        finding=("CII003", "aws_dynamodb_table.orders"),
    ),
    Row("remote-module", "remote module not downloaded", finding=("CII003", "module.records")),
    Row("missing-local-module", "local module missing", error=("main.tf", 1)),
    Row("module-cycle", "module cycle", error=("b/main.tf", 1)),
    Row(
        "plan-unknown-provider-region",
        "unknown plan value (provider region)",
        finding=("CII003", B),
        needs="tfplan.json",
    ),
    Row(
        "plan-unknown-after-apply",
        "unknown plan value (after_unknown)",
        finding=("CII003", B),
        needs="tfplan.json",
    ),
    Row("plan-errored", "plan marked errored", error=("tfplan.json", None), needs="tfplan.json"),
    Row(
        "plan-unknown-format",
        "unsupported plan format_version",
        error=("tfplan.json", 1),
        needs="tfplan.json",
    ),
    Row(
        "pulumi-unknown-output",
        "unknown Pulumi output (invoke result)",
        finding=("CII003", PULUMI_BUCKET),
        needs="Pulumi.yaml",
    ),
    Row(
        "pulumi-unknown-resource-output",
        "unknown Pulumi output (another resource's arn as a replica region)",
        finding=("CII003", "urn:pulumi:stack::records::aws:dynamodb/table:Table::replicas"),
        needs="Pulumi.yaml",
    ),
    Row(
        "pulumi-unknown-region-config",
        "Pulumi stack without aws:region",
        finding=("CII003", PULUMI_BUCKET),
        needs="Pulumi.yaml",
    ),
    Row(
        "pulumi-program-not-run",
        "Pulumi program not run without --run-programs",
        error=("Pulumi.yaml", 2),
        needs="Pulumi.yaml",
    ),
]


def _skip_unless_claimed(row: Row) -> None:
    if row.needs is not None:
        text = (FC / row.case / row.needs).read_text(encoding="utf-8")
        if claimed_by(row.needs, text) is None:
            pytest.skip(f"no registered parser claims {row.needs} yet")


def test_every_fixture_is_in_the_matrix() -> None:
    assert {r.case for r in MATRIX} == {p.name for p in FC.iterdir() if p.is_dir()}
    assert all((r.finding is None) != (r.error is None) for r in MATRIX)


@pytest.mark.parametrize("row", MATRIX, ids=[r.case for r in MATRIX])
def test_not_understanding_blocks(row: Row) -> None:
    _skip_unless_claimed(row)
    outcome = scan_path(FC / row.case, check=False)
    assert outcome.exit_code != 0
    if row.error is not None:
        assert outcome.exit_code == 2
        assert row.error in [(e.file, e.line) for e in outcome.issues], outcome.errors
        return
    assert outcome.errors == []
    assert row.finding in [(v.policy, v.resource) for v in outcome.violations if v.blocking]


def test_the_whole_matrix_through_the_installed_command() -> None:
    """One run over every row: exit 2 (some rows are errors), and every row's error or finding
    is in the JSON report, attributed by the row's directory."""
    rows = [
        r
        for r in MATRIX
        if r.needs is None or claimed_by(r.needs, (FC / r.case / r.needs).read_text()) is not None
    ]
    run = run_cli(
        "scan", *[r.case for r in rows], "--format", "json", "--no-cache", "--no-config", cwd=FC
    )
    assert run.code == 2
    assert "Traceback" not in run.stderr
    report = run.json
    for r in rows:
        if r.error is not None:
            file, line = r.error
            assert {"file": f"{r.case}/{file}", "line": line} in [
                {"file": e["file"], "line": e["line"]} for e in report["errors"]
            ], r.case
        else:
            assert any(
                v["file"].startswith(f"{r.case}/")
                and (v["policy"], v["resource"]) == r.finding
                and v["blocking"]
                for v in report["violations"]
            ), r.case


# -- plugins that crash ----------------------------------------------------------------------
class CrashingParser:
    """A third-party parser that claims *.crash files and then raises."""

    name = "crashing"

    def claims(self, path: Path) -> bool:
        return path.suffix == ".crash"

    def parse(self, files: list[Path], ctx: ParseContext) -> ParseOutput:
        raise RuntimeError("parser bug")


class ParserPlugin:
    @hookimpl
    def ciiguard_parsers(self) -> Sequence[Any]:
        return [CrashingParser()]


class PolicyPlugin:
    @hookimpl
    def ciiguard_policies(self) -> Sequence[Any]:
        from ciiguard.policies.base import Policy

        def validate(resource: Any, ctx: Any) -> Iterator[Any]:
            raise ValueError("policy bug")

        return [Policy(id="ACME001", name="crash", description="crashes", validate=validate)]


class ClassifyPlugin:
    @hookimpl
    def ciiguard_classify(self, resource: Any, settings: Any) -> Any:
        raise KeyError("classify bug")


@pytest.mark.parametrize(
    ("plugin", "extra"),
    [
        (ParserPlugin(), {"notes.crash": "anything\n"}),
        (PolicyPlugin(), {}),
        (ClassifyPlugin(), {}),
    ],
    ids=["parser", "policy", "classify"],
)
def test_a_crashing_plugin_makes_the_scan_incomplete(plugin: Any, extra: dict[str, str]) -> None:
    """The workload itself passes (mainland): only the crash can fail the gate, and it must."""
    main = 'provider "aws" {\n  region = "cn-north-1"\n}\n\nresource "aws_s3_bucket" "b" {\n  tags = {\n    data-classification = "personal"\n  }\n}\n'
    clean = Scanner().files({"main.tf": main, **extra}, check=False)
    assert clean.exit_code == 0 or extra  # without the plugin, *.crash is simply not an input
    outcome = Scanner([plugin]).files({"main.tf": main, **extra}, check=False)
    assert outcome.exit_code == 2
    assert any("bug" in e for e in outcome.errors), outcome.errors
