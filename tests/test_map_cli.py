"""``ciiguard map`` through the installed command: formats, files, exit codes, every input format."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, FIXTURES, ROOT, run_cli

EXAMPLE_SVG = EXAMPLES / "terraform" / "residency-map.svg"
CROSS = EXAMPLES / "terraform" / "cross-border-replication"
SVG = "{http://www.w3.org/2000/svg}"


def test_the_committed_example_map_is_current() -> None:
    run = run_cli("map", "examples/terraform", "--format", "svg", cwd=ROOT)
    assert run.code == 0, run.stderr
    assert run.stdout == EXAMPLE_SVG.read_text(encoding="utf-8"), (
        "examples/terraform/residency-map.svg is stale: run examples/terraform/render-map.sh "
        "(or `ciiguard map examples/terraform -o examples/terraform/residency-map.svg` from the "
        "repository root) and commit the result"
    )


@pytest.mark.parametrize(
    ("name", "start"),
    [
        ("map.html", "<!DOCTYPE html>"),
        ("map.svg", '<svg xmlns="http://www.w3.org/2000/svg"'),
        ("map.mmd", "%% Residency map: "),
        ("map.dot", "// Residency map: "),
        ("map.gv", "// Residency map: "),
    ],
)
def test_the_output_suffix_picks_the_format(tmp_path: Path, name: str, start: str) -> None:
    out = tmp_path / name
    run = run_cli("map", str(CROSS), "--output", str(out))
    assert (run.code, run.stdout, run.stderr) == (0, "", "")
    assert out.read_text(encoding="utf-8").startswith(start)


def test_format_wins_over_suffix_and_stdout_defaults_to_html(tmp_path: Path) -> None:
    out = tmp_path / "map.txt"
    assert run_cli("map", str(CROSS), "-f", "mermaid", "-o", str(out)).code == 0
    assert "flowchart LR" in out.read_text(encoding="utf-8")
    run = run_cli("map", str(CROSS))
    assert run.code == 0 and run.stdout.startswith("<!DOCTYPE html>")


def test_violations_do_not_change_the_exit_code() -> None:
    scan = run_cli("scan", str(CROSS))
    assert scan.code == 1  # the gate fails on this example ...
    run = run_cli("map", str(CROSS), "-f", "svg", "--title", "Orders")
    assert run.code == 0  # ... the map of it is simply drawn
    root = ET.fromstring(run.stdout)
    assert root.find(f"{SVG}title").text == "Orders"  # type: ignore[union-attr]
    red = [g for g in root.iter(f"{SVG}g") if "cross-border" in (g.get("class") or "").split()]
    assert len(red) == 2


def test_scan_errors_still_write_the_map_marked_incomplete_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        (CROSS / "main.tf").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n', "utf-8")
    out = tmp_path / "map.html"
    run = run_cli("map", str(tmp_path), "-o", str(out))
    assert run.code == 2
    assert "Traceback" not in run.stderr
    assert re.search(r"error: .*broken\.tf", run.stderr)
    html = out.read_text(encoding="utf-8")
    assert "Incomplete scan" in html and "broken.tf" in html
    assert "aws_s3_bucket.orders_replica" in html  # what could be read is still drawn
    svg = run_cli("map", str(tmp_path), "-f", "svg")
    assert svg.code == 2 and "INCOMPLETE" in svg.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("--format", "pdf"),
        ("--output", "/nonexistent-dir/map.html"),
        ("--var", "no-equals-sign"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(args: tuple[str, ...]) -> None:
    run = run_cli("map", str(CROSS), *args)
    assert run.code == 2
    assert run.stderr.startswith("ciiguard: error:") and "Traceback" not in run.stderr


def test_missing_input_is_an_error_not_an_empty_picture(tmp_path: Path) -> None:
    out = tmp_path / "map.svg"
    run = run_cli("map", str(tmp_path / "nope"), "-o", str(out))
    assert run.code == 2 and "no such file or directory" in run.stderr
    assert "INCOMPLETE" in out.read_text(encoding="utf-8")


def _edges(mermaid: str) -> list[tuple[str, str, bool]]:
    """(source type, target region, cross-border) per arrow, read back from the Mermaid text."""
    types = dict(re.findall(r'^\s+(n\d+)\["[^"]*?<br/>([a-z0-9_]+) ', mermaid, re.M))
    region_of: dict[str, str] = {}
    region = ""
    for line in mermaid.splitlines():
        m = re.match(r'\s+subgraph side_\w+_c\d+_r\d+\["([^ "]+)', line)
        if m:
            region = m.group(1)
        m = re.match(r'\s+(n\d+)\["', line)
        if m:
            region_of[m.group(1)] = region
    out = []
    for src, arrow, dst in re.findall(r"^\s+(n\d+) (-->|==>|-\.->)\|.*?\| (n\d+)$", mermaid, re.M):
        out.append((types[src], region_of[dst], arrow == "==>"))
    return sorted(out)


@pytest.mark.parametrize(
    "source",
    [
        FIXTURES / "plan" / "examples" / "cross-border-replication.json",  # terraform show -json
        FIXTURES / "map" / "pulumi-cross-border",  # the same resources as a Pulumi YAML program
    ],
    ids=["plan-json", "pulumi-yaml"],
)
def test_every_input_draws_the_same_map_as_the_terraform(source: Path) -> None:
    other = run_cli("map", str(source), "-f", "mermaid")
    hcl = run_cli("map", str(CROSS), "-f", "mermaid")
    assert other.code == hcl.code == 0, other.stderr + hcl.stderr
    assert (
        _edges(other.stdout)
        == _edges(hcl.stdout)
        == [
            ("aws_dynamodb_table", "ap-southeast-1", True),
            ("aws_dynamodb_table", "cn-northwest-1", False),
            ("aws_s3_bucket", "ap-east-1", True),
        ]
    )
