"""JUnit XML: one test case per policy and resource; blocking violations are failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT, run_cli
from tests.test_gate_baseline import shared_module_estate

GATE = FIXTURES / "gate"


def junit(tmp_path: Path, *args: str) -> tuple[int, ET.Element]:
    out = tmp_path / "r.xml"
    run = run_cli("scan", "--no-cache", *args, "--format", f"junit:{out}")
    return run.code, ET.parse(out).getroot()


@pytest.fixture(scope="module")
def suppress_tree(tmp_path_factory: pytest.TempPathFactory) -> ET.Element:
    code, root = junit(tmp_path_factory.mktemp("j"), str(GATE / "suppress"))
    assert code == 1
    return root


def cases(root: ET.Element, policy: str) -> dict[str, ET.Element]:
    return {
        c.get("name"): c
        for s in root.findall("testsuite")
        if (s.get("name") or "").startswith(f"{policy} ")
        for c in s.iter("testcase")
    }


def test_one_suite_per_policy_and_one_case_per_resource(suppress_tree: ET.Element) -> None:
    suites = {s.get("name"): s for s in suppress_tree.findall("testsuite")}
    assert set(suites) == {
        "CII001 data-outside-mainland",
        "CII002 cross-border-replication",
        "CII003 location-unknown",
        "ciiguard.scan",
    }
    cii001 = cases(suppress_tree, "CII001")
    # every in-scope resource is a test case, compliant or not
    assert set(cii001) == {
        "aws_s3_bucket.with_reason",
        "aws_s3_bucket.no_reason",
        "aws_s3_bucket.other_policy",
        "aws_s3_bucket.not_adjacent",
        "aws_s3_bucket.inside",
        "aws_s3_bucket.by_tag",
        "aws_s3_bucket.by_tag_no_reason",
        "aws_dynamodb_table.sessions",
    }
    for c in cii001.values():
        assert c.get("file") == "tests/fixtures/gate/suppress/main.tf" and int(c.get("line")) > 0
    assert len(cases(suppress_tree, "CII003")) == 8


def test_blocking_is_failure_suppressed_is_skipped_compliant_passes(
    suppress_tree: ET.Element,
) -> None:
    cii001 = cases(suppress_tree, "CII001")
    failure = cii001["aws_s3_bucket.no_reason"].find("failure")
    assert failure is not None and failure.get("type") == "CII001 blocking"
    assert "holds personal data in us-east-1" in failure.get("message")
    assert "fix:" in failure.text
    skipped = cii001["aws_s3_bucket.with_reason"].find("skipped")
    assert skipped is not None
    assert (
        skipped.get("message")
        == "suppressed: legacy analytics export, migrating under ticket OPS-12"
    )
    compliant = cii001["aws_dynamodb_table.sessions"]  # in Beijing: passes CII001
    assert list(compliant) == []
    # the replica table has one suppressed and one blocking CII002 finding: a failure
    table = cases(suppress_tree, "CII002")["aws_dynamodb_table.sessions"]
    assert table.find("failure") is not None
    assert "LEGAL-7" in table.findtext("system-out")


def test_counts_add_up(suppress_tree: ET.Element) -> None:
    total = {k: 0 for k in ("tests", "failures", "errors", "skipped")}
    for s in suppress_tree.findall("testsuite"):
        found = s.findall("testcase")
        assert int(s.get("tests")) == len(found)
        assert int(s.get("failures")) == sum(1 for c in found if c.find("failure") is not None)
        assert int(s.get("skipped")) == sum(1 for c in found if c.find("skipped") is not None)
        for k in total:
            total[k] += int(s.get(k))
    assert {k: int(suppress_tree.get(k)) for k in total} == total
    assert total["failures"] == 5 and total["skipped"] == 3 and total["errors"] == 0


def test_warnings_and_errors_go_to_the_scan_suite(
    suppress_tree: ET.Element, tmp_path: Path
) -> None:
    scan_case = next(
        c for c in suppress_tree.iter("testcase") if c.get("classname") == "ciiguard.scan"
    )
    assert scan_case.find("error") is None
    assert "gives no reason" in scan_case.findtext("system-out")
    (tmp_path / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
    code, root = junit(tmp_path, str(tmp_path))
    assert code == 2
    err = next(root.iter("error"))
    assert "broken.tf" in err.text and root.get("errors") == "1"


def test_disabled_policies_have_no_suite(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[enforcement]\nCII003 = "disabled"\n')
    code, root = junit(tmp_path, str(GATE / "soft"), "--config", str(cfg))
    assert code == 1
    names = [s.get("name") for s in root.findall("testsuite")]
    assert "CII003 location-unknown" not in names and "CII001 data-outside-mainland" in names


def test_gitlab_identity_keeps_environments_that_share_a_module_apart(tmp_path: Path) -> None:
    """GitLab identifies a test case by suite, classname and name: envs/prod and envs/staging
    calling one module (same addresses, same file) are two failures, not one."""
    infra = shared_module_estate(tmp_path / "infra", "prod", "staging")
    code, tree = junit(tmp_path, str(infra))
    assert code == 1
    failed = [
        (s.get("name"), c.get("classname"), c.get("name"))
        for s in tree.findall("testsuite")
        for c in s.iter("testcase")
        if c.find("failure") is not None
    ]
    identities = set(failed)
    assert len(identities) == len(failed) == 2, failed
    assert sorted(c.rsplit("/", 1)[-1] for _, c, _ in failed) == ["prod", "staging"]


def test_the_xunit_dialect_validates_against_jenkins_strict_schema(tmp_path: Path) -> None:
    """Jenkins' xunit plugin's junit-10.xsd (MIT, tests/schemas/): --format junit-xunit is valid
    against it for findings, skips and scan errors; the place of each case is kept."""
    import xmlschema

    schema = xmlschema.XMLSchema(str(ROOT / "tests" / "schemas" / "junit-10.xsd"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n')
    for case in (GATE / "suppress", FIXTURES / "terragrunt" / "estate", broken):
        out = tmp_path / f"{case.name}.xml"
        run_cli("scan", "--no-cache", str(case), "--format", f"junit-xunit:{out}")
        errors = [str(e).splitlines()[0] for e in schema.iter_errors(str(out))]
        assert errors == [], (case.name, errors[:3])
    cases = ET.parse(tmp_path / "suppress.xml").getroot().iter("testcase")
    assert any((c.findtext("system-out") or "").startswith("at ") for c in cases)
    # the default dialect keeps file/line for GitLab, which the strict schema does not allow
    assert list(schema.iter_errors(str(_junit_file(tmp_path))))


def _junit_file(tmp_path: Path) -> Path:
    out = tmp_path / "default.xml"
    run_cli("scan", "--no-cache", str(GATE / "suppress"), "--format", f"junit:{out}")
    return out


def test_the_scan_suite_lists_plugins_and_the_trees_waivers(suppress_tree: ET.Element) -> None:
    (scan_suite,) = [
        s for s in suppress_tree.findall("testsuite") if s.get("name") == "ciiguard.scan"
    ]
    names = [p.get("name") for p in scan_suite.iter("property")]
    assert "plugin builtin" in names
    out = scan_suite.findtext("testcase/system-out") or ""
    assert "waiver: suppression of CII001 on aws_s3_bucket.inside" in out
