"""Deferred root modules (``model.DeferredResult``): after an edit, the root modules answered by
the per-root cache are not read back unless something needs every resource.

The text report and the gate work from what each root's entry kept (counts, display names, the
resources the gate can look up there); every other consumer reads the list, and gets every
resource. Each test compares with ``--no-cache`` byte for byte, in the reused roots' hardest
cases for the gate: suppressions (comments and tags, well-formed and not), approvals on a
transfer's source, a replica's approval, and approval tags on a resource without a finding.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from ciiguard.cache import roots as roots_cache
from ciiguard.gate.stage import GateOptions, gate
from ciiguard.model import DeferredResult, ScanResult
from ciiguard.plugins.manager import build
from ciiguard.scan import scan
from ciiguard.settings import Settings
from tests.conftest import clean_env, run_cli
from tests.test_gate_replica_approval import CONFIG as REPLICATED

EXPIRES = (dt.date.today() + dt.timedelta(days=400)).isoformat()

APPROVED = (
    REPLICATED.format(  # an approved transfer, and the replica it creates
        approval=f'"cross-border-approval" = "CAC-2026-0042"\n    '
        f'"cross-border-approval-expires" = "{EXPIRES}"',
        replica_tags="",
    )
    + """
resource "aws_sqs_queue" "quiet" {
  name = "quiet"
}

resource "aws_s3_bucket" "paperwork" {
  bucket = "paperwork"
  tags = {
    "cross-border-approval" = "CAC-2026-0099"
  }
}
"""
)

SUPPRESSED = """\
provider "aws" {
  region = "us-east-1"
}

# ciiguard:ignore CII001 synthetic records only, no real person's data
resource "aws_s3_bucket" "by_comment" {
  bucket = "by-comment"
  tags   = { "data-classification" = "personal" }
}

resource "aws_s3_bucket" "by_tag" {
  bucket = "by-tag"
  tags = {
    "data-classification" = "personal"
    "ciiguard:ignore"     = "CII001 a load-test copy, deleted nightly"
  }
}

# ciiguard:ignore
resource "aws_s3_bucket" "malformed" {
  bucket = "malformed"
  tags   = { "data-classification" = "personal" }
}
"""


# a registry module ciiguard cannot read: a CII003 finding on the call, in no root module
REMOTE = """\
provider "aws" {
  region = "cn-north-1"
}

module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
  name   = "core"
}

resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}
"""


def plain(region: str) -> str:
    return f"""\
provider "aws" {{
  region = "{region}"
}}

resource "aws_dynamodb_table" "t" {{
  name = "t"
  tags = {{ "data-classification" = "personal" }}
}}
"""


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CIIGUARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    t = tmp_path / "estate"
    for name, text in (
        ("approved", APPROVED),
        ("suppressed", SUPPRESSED),
        ("remote", REMOTE),
        ("plain", plain("cn-north-1")),
    ):
        (t / name).mkdir(parents=True)
        (t / name / "main.tf").write_text(text)
    return t


FORMATS = ("text", "json", "sarif", "markdown", "junit", "github")


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_report_after_an_edit_is_the_uncached_one(estate: Path, fmt: str) -> None:
    """Reused roots with suppressions and approvals: every format, byte for byte."""
    env = clean_env(CIIGUARD_CACHE_DIR=str(estate.parent / "cache"))
    args = ("scan", str(estate), "--format", fmt, "--no-config")

    def same() -> str:
        cached = run_cli(*args, env=env)
        uncached = run_cli(*args, "--no-cache", env=env)
        assert (cached.code, cached.stdout, cached.stderr) == (
            uncached.code,
            uncached.stdout,
            uncached.stderr,
        )
        return cached.stdout

    same()
    same()  # the roots' entries are complete now (resolved resources, findings, summaries)
    for region in ("us-east-1", "eu-west-1", "cn-north-1"):
        (estate / "plain" / "main.tf").write_text(plain(region))
        out = same()
    if fmt == "text":  # what the reused roots hold is really in the answer
        assert "synthetic records only" in out and "CAC-2026-0042" in out
        assert "names no policy" in out


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many roots' resources were read back from the per-root cache."""
    counted: list[int] = []
    load = roots_cache.RootCache.load

    def counting(self: roots_cache.RootCache, entry: roots_cache.RootEntry) -> list[Any]:
        counted.append(1)
        return load(self, entry)

    monkeypatch.setattr(roots_cache.RootCache, "load", counting)
    return counted


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from ciiguard.cli.app import main

    try:
        code = main(["scan", *args, "--no-config", "--jobs", "1"])
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().out


def test_a_text_rescan_reads_no_reused_root_and_json_reads_them_all(
    estate: Path, loads: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    _main(capsys, str(estate))
    _main(capsys, str(estate), "--format", "json")  # (a scan of its own: another cache key)
    (estate / "plain" / "main.tf").write_text(plain("us-east-1"))
    loads.clear()
    code, text = _main(capsys, str(estate))
    assert loads == []  # the summary and the gate came from the entries
    assert code == 1 and "ciiguard FAILED: 10 resources" in text
    assert "CII003 [BLOCKING] module.vpc" in text  # a finding in no root: looked up across them
    (estate / "plain" / "main.tf").write_text(plain("eu-west-1"))
    loads.clear()
    code, report = _main(capsys, str(estate), "--format", "json")
    assert len(loads) == 3  # the three reused roots, read for the report's resource list
    assert (code, report) == _main(capsys, str(estate), "--format", "json", "--no-cache")
    assert report.count('"address"') == 10


def _deferred(estate: Path) -> DeferredResult:
    """A scan whose ``approved``, ``suppressed`` and ``remote`` roots are deferred (in-process)."""
    host = build(autoload=False)
    scan([estate], Settings(jobs=1), host)
    scan([estate], Settings(jobs=1), host)
    (estate / "plain" / "main.tf").write_text(plain("us-east-1"))
    result = scan([estate], Settings(jobs=1), host)
    assert isinstance(result, DeferredResult) and len(result.deferred) == 3
    return result


@pytest.mark.parametrize(
    ("address", "in_root", "reads"),
    [
        ("aws_sqs_queue.quiet", True, True),  # in its root, but nothing kept of it
        ("aws_sqs_queue.quiet", False, True),  # named without a root: a deferred root holds it
        ("module.elsewhere", False, False),  # without a root, and no root holds it
        ("aws_s3_bucket.orders", False, False),  # kept wherever it is: the index answers
    ],
)
def test_a_lookup_the_kept_inputs_cannot_answer_reads_everything(
    estate: Path, loads: list[int], address: str, in_root: bool, reads: bool
) -> None:
    """A finding on a resource the gate kept nothing of (a plugin's, say): the gate reads the
    deferred roots and starts again. A finding looked up across roots reads them only when one
    of them holds a resource at that address the gate did not keep. Either way it decides as it
    does on the whole list."""
    result = _deferred(estate)
    quiet = next(d for d in result.deferred if d.root.endswith("approved"))
    assert "aws_sqs_queue.quiet" not in quiet.covered
    template = next(v for v in result.violations if v.root == quiet.root)
    extra = dataclasses.replace(
        template, policy="ORG001", resource=address, root=quiet.root if in_root else None
    )
    options = GateOptions(today=dt.date.today())
    loads.clear()
    partial = gate(result.replaced(violations=[*result.violations, extra]), Settings(), options)
    assert (len(loads) == 3 and not result.deferred) if reads else (loads == [] and result.deferred)
    whole = ScanResult(result.resources, [*result.violations, extra], result.errors,
                       result.warnings, result.files)  # fmt: skip
    assert partial == gate(whole, Settings(), options)
    assert any(v.resource == address for v in partial.result.violations)


def test_the_gate_on_kept_inputs_decides_as_on_every_resource(
    estate: Path, loads: list[int]
) -> None:
    result = _deferred(estate)
    whole = ScanResult(*(getattr(result, f) for f in ("loaded", "violations", "errors",
                       "warnings", "files")))  # fmt: skip
    loads.clear()
    options = GateOptions(today=dt.date.today())
    partial = gate(result, Settings(), options)
    assert loads == [] and result.deferred  # decided without reading the reused roots
    everything = ScanResult(result.resources, result.violations, result.errors,
                            result.warnings, result.files)  # fmt: skip
    assert partial.waivers == gate(everything, Settings(), options).waivers
    assert partial.result == gate(everything, Settings(), options).result
    assert len(whole.resources) < len(everything.resources)
    statuses = {(v.resource, v.status.value) for v in partial.result.violations}
    assert ("aws_s3_bucket.by_comment", "suppressed") in statuses
    assert ("aws_s3_bucket.by_tag", "suppressed") in statuses
    assert ("aws_s3_bucket.orders_hk", "approved-transfer") in statuses
    assert [w.resource for w in partial.waivers if w.kind == "approval"] == [
        "aws_s3_bucket.orders",
        "aws_s3_bucket.paperwork",
    ]


def test_a_deferred_result_counts_names_pickles_and_compares_as_the_whole(
    estate: Path, loads: list[int]
) -> None:
    import pickle

    result = _deferred(estate)
    counts, names = result.counts(), result.display_names()
    copy = result.replaced(warnings=[])
    assert loads == []
    everything = list(result.resources)  # reads both roots, once for every copy
    assert len(loads) == 3 and copy.resources == everything and not copy.deferred
    whole = ScanResult(everything, result.violations, result.errors, result.warnings,
                       result.files)  # fmt: skip
    assert (whole.counts(), whole.display_names()) == (counts, names)
    assert result == whole and whole == result
    back = pickle.loads(pickle.dumps(result))
    assert type(back) is ScanResult and back == whole
