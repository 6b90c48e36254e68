"""``ciiguard map`` through the installed command: formats, files, exit codes, every input format."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, FIXTURES, ROOT, run_cli

EXAMPLE_SVG = EXAMPLES / "terraform" / "residency-map.svg"
EXAMPLE_DETAIL_SVG = EXAMPLES / "terraform" / "residency-map-resources.svg"
CROSS = EXAMPLES / "terraform" / "cross-border-replication"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("committed", "detail"), [(EXAMPLE_SVG, "summary"), (EXAMPLE_DETAIL_SVG, "resources")]
)
def test_the_committed_example_maps_are_current(committed: Path, detail: str) -> None:
    run = run_cli("map", "examples/terraform", "--format", "svg", "--detail", detail, cwd=ROOT)
    assert run.code == 0, run.stderr
    assert run.stdout == committed.read_text(encoding="utf-8"), (
        f"{committed.relative_to(ROOT)} is stale: run examples/terraform/render-map.sh "
        "from the repository root and commit the result"
    )


@pytest.mark.parametrize(
    ("name", "start"),
    [
        ("map.html", "<!DOCTYPE html>"),
        ("map.svg", '<svg xmlns="http://www.w3.org/2000/svg"'),
        ("map.mmd", '---\ntitle: "Residency map: '),
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
    assert "<title>INCOMPLETE: " in html and "INCOMPLETE scan" in html and "broken.tf" in html
    assert "aws_s3_bucket.orders_replica" in html  # what could be read is still drawn


@pytest.mark.parametrize("detail", ["summary", "roots", "resources"])
@pytest.mark.parametrize("fmt", ["svg", "mermaid", "dot"])
def test_an_incomplete_map_looks_incomplete_in_every_format(
    tmp_path: Path, fmt: str, detail: str
) -> None:
    """Said where a reader sees it: a banner, a title, a node; never only in a comment."""
    (tmp_path / "main.tf").write_text(
        (CROSS / "main.tf").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n', "utf-8")
    run = run_cli("map", str(tmp_path), "-f", fmt, "--detail", detail)
    assert run.code == 2
    visible = "\n".join(
        ln for ln in run.stdout.splitlines() if not ln.lstrip().startswith(("%%", "//"))
    )
    assert "INCOMPLETE" in visible and "broken.tf" in visible, visible[:2000]
    if fmt == "svg":
        root = ET.fromstring(run.stdout)
        texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
        assert "INCOMPLETE: 1 input could not be read" in texts


def test_detail_opens_regions_into_root_modules_and_resources() -> None:
    summary = run_cli("map", str(EXAMPLES / "terraform"), "-f", "svg")
    roots = run_cli("map", str(EXAMPLES / "terraform"), "-f", "svg", "--detail", "roots")
    resources = run_cli("map", str(EXAMPLES / "terraform"), "-f", "svg", "--detail", "resources")
    assert summary.code == roots.code == resources.code == 0
    classes = [
        {c for g in ET.fromstring(r.stdout).iter(f"{SVG}g") for c in (g.get("class") or "").split()}
        for r in (summary, roots, resources)
    ]
    assert (
        "region-unit" in classes[0] and "root-unit" not in classes[0] and "node" not in classes[0]
    )
    assert "root-unit" in classes[1] and "node" not in classes[1]
    assert "node" in classes[2] and "root-frame" in classes[2]
    bad = run_cli("map", str(CROSS), "--detail", "everything")
    assert bad.code == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr


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


def _edges(html: str) -> list[tuple[str, str, bool]]:
    """(source type, target region, cross-border) per flow, read from the page's data block."""
    block = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    strings, nodes, regions = data["s"], data["nodes"], data["regions"]
    out = []
    for e in data["edges"]:
        src, dst = nodes[e[0]], nodes[e[1]]
        out.append((strings[src[5]], regions[dst[0]]["region"], strings[e[7]] == "cross-border"))
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
    other = run_cli("map", str(source), "-f", "html")
    hcl = run_cli("map", str(CROSS), "-f", "html")
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
    for detail in ("summary", "resources"):  # and the static formats draw the same arrows
        a = run_cli("map", str(source), "-f", "mermaid", "--detail", detail).stdout
        b = run_cli("map", str(CROSS), "-f", "mermaid", "--detail", detail).stdout
        assert _arrows(a) == _arrows(b)


def _arrows(mermaid: str) -> list[str]:
    return sorted(re.findall(r"^\s+\S+ (?:-->|==>|-\.->)\|(.*)\| \S+$", mermaid, re.M))
