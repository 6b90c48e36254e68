"""The Mermaid map through the real Mermaid, as GitHub and GitLab run it: parsed and rendered in
headless Chromium by the ``mermaid`` package from npm, with its default limits (``maxTextSize``
50,000, ``maxEdges`` 500).

Mermaid 11 is what GitHub renders with; 12 is the newest. The packages are fetched once with
``npm pack`` into a cache directory (``$CIIGUARD_TEST_CACHE``, else ``~/.cache/ciiguard-tests``).
The tests skip cleanly, saying why, when npm, the registry, chromium or chromedriver is missing.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ciiguard.model import ScanIssue
from ciiguard.residency_map import Detail, build_map, render
from ciiguard.residency_map.mermaid import MAX_EDGES, MAX_TEXT_SIZE, count_arrows
from tests.browser import Browser
from tests.conftest import ROOT, run_cli
from tests.test_map_browser import _generate
from tests.test_map_model import cross_border_example
from tests.test_map_render import WEIRD, weird

pytestmark = pytest.mark.slow

VERSIONS = ("11", "12")
TOO_BIG = "Maximum text size in diagram exceeded"


def _cache() -> Path:
    base = os.environ.get("CIIGUARD_TEST_CACHE") or Path.home() / ".cache" / "ciiguard-tests"
    return Path(base) / "npm"


def mermaid_js(major: str) -> Path:
    """``dist/mermaid.min.js`` of the newest ``mermaid@major`` (a self-contained bundle); its
    exact version is written next to it, in ``VERSION``."""
    target = _cache() / f"mermaid-{major}" / "mermaid.min.js"
    if target.exists() and target.with_name("VERSION").exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot fetch the mermaid package")
    target.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [npm, "pack", f"mermaid@{major}", "--silent", "--pack-destination", str(target.parent)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    tarballs = sorted(target.parent.glob("mermaid-*.tgz"))
    if proc.returncode != 0 or not tarballs:
        pytest.skip(f"npm pack mermaid@{major} failed (no registry?): {proc.stderr.strip()[-300:]}")
    with tarfile.open(tarballs[-1]) as tar:
        member = tar.extractfile("package/dist/mermaid.min.js")
        assert member is not None
        partial = target.with_suffix(".part")
        partial.write_bytes(member.read())
        partial.replace(target)
    target.with_name("VERSION").write_text(tarballs[-1].stem.removeprefix("mermaid-"), "utf-8")
    tarballs[-1].unlink()
    return target


RENDER = """
var done = arguments[arguments.length - 1], text = arguments[0];
(async function () {
  try {
    await mermaid.parse(text);
    var out = await mermaid.render("map" + Math.floor(Math.random() * 1e9), text);
    var holder = document.getElementById("out");
    holder.textContent = "";
    // a test harness: the SVG Mermaid made, shown as GitHub's and GitLab's pages show it
    holder.insertAdjacentHTML("beforeend", out.svg);
    var svg = holder.querySelector("svg");
    var box = svg.getBoundingClientRect();
    done({ ok: true, edges: svg.querySelectorAll(".edgePaths path, path.flowchart-link").length,
           nodes: svg.querySelectorAll("g.node").length, text: svg.textContent,
           width: box.width, height: box.height });
  } catch (e) {
    done({ ok: false, error: String((e && e.message) || e) });
  }
})();
"""


@pytest.fixture(scope="module", params=VERSIONS)
def mermaid(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A page with the real Mermaid loaded, initialised with its defaults; yields a renderer."""
    script = mermaid_js(request.param)
    page = tmp_path_factory.mktemp(f"mermaid{request.param}") / "harness.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<script src="{script.as_uri()}"></script></head><body><div id="out"></div>'
        "<script>mermaid.initialize({ startOnLoad: false });</script></body></html>",
        encoding="utf-8",
    )
    with Browser(1600, 1200) as b:
        b.get(page.as_uri())
        assert b.run("return typeof mermaid") == "object", "mermaid.min.js did not load"

        def draw(text: str) -> dict[str, Any]:
            result: dict[str, Any] = b.run_async(RENDER, text)
            return result

        draw.version = script.with_name("VERSION").read_text("utf-8")  # type: ignore[attr-defined]
        yield draw


def assert_renders(draw: Any, text: str) -> dict[str, Any]:
    assert len(text) <= MAX_TEXT_SIZE and count_arrows(text) <= MAX_EDGES
    got = draw(text)
    assert got["ok"], got.get("error")
    assert TOO_BIG not in got["text"]
    assert got["edges"] == count_arrows(text), (got["edges"], count_arrows(text))
    assert got["width"] > 100 and got["height"] > 100
    return got


def test_the_limits_are_real(mermaid: Any) -> None:
    """The harness sees what GitHub shows past the limits (so the tests below can fail)."""
    edges = "flowchart LR\n" + "".join(f"  a{i} --> b{i}\n" for i in range(MAX_EDGES + 1))
    got = mermaid(edges)
    assert not got["ok"] and "Edge limit exceeded" in got["error"]
    big = "flowchart LR\n" + "".join(f'  n{i}["{"x" * 90}"]\n' for i in range(MAX_TEXT_SIZE // 90))
    got = mermaid(big)
    assert got["ok"] and TOO_BIG in got["text"]


@pytest.mark.parametrize("detail", list(Detail))
def test_the_examples_render_at_every_level(mermaid: Any, detail: Detail) -> None:
    run = run_cli("map", "examples/terraform", "-f", "mermaid", "--detail", detail.value, cwd=ROOT)
    assert run.code == 0, run.stderr
    got = assert_renders(mermaid, run.stdout)
    assert "Residency map: examples/terraform" in got["text"]  # the title is drawn
    assert "cn-north-1" in got["text"] and "ap-east-1" in got["text"]


def test_an_incomplete_map_says_so_in_the_picture(mermaid: Any) -> None:
    broken = dataclasses.replace(
        cross_border_example(), errors=[ScanIssue("broken.tf", 3, "HCL syntax error")]
    )
    for detail in Detail:
        got = assert_renders(mermaid, render(build_map(broken, "Orders"), "mermaid", detail))
        assert "INCOMPLETE: Orders" in got["text"]  # the title
        assert "INCOMPLETE: 1 input could not be read" in got["text"]  # the red node
        assert "broken.tf:3: HCL syntax error" in got["text"]


def test_hostile_names_render_as_text(mermaid: Any) -> None:
    for detail in Detail:
        got = assert_renders(mermaid, render(weird(), "mermaid", detail))
        assert 'Title with "quotes" & \u2039angle\u203a brackets' in got["text"]
    got = mermaid(render(weird(), "mermaid", Detail.RESOURCES))
    assert WEIRD in got["text"]  # every character shown as written, no directive obeyed


@pytest.fixture(scope="module")
def estates(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, str]]:
    """Mermaid of generated estates of 240 and about 10,000 resources, at every level."""
    root = tmp_path_factory.mktemp("mermaid-estates")
    out: dict[int, dict[str, str]] = {}
    for n in (240, 10_000):
        tree = _generate(root, n)
        out[n] = {}
        for detail in Detail:
            run = run_cli("map", ".", "-f", "mermaid", "--detail", detail.value, cwd=tree)
            assert run.code == 0, run.stderr
            out[n][detail.value] = run.stdout
    return out


@pytest.mark.parametrize("size", [240, 10_000])
@pytest.mark.parametrize("detail", list(Detail))
def test_estates_render_at_every_level_or_say_what_they_show(
    mermaid: Any, estates: dict[int, dict[str, str]], size: int, detail: Detail
) -> None:
    text = estates[size][detail.value]
    got = assert_renders(mermaid, text)
    print(
        f"mermaid {mermaid.version}, {size} resources, --detail {detail.value}: {len(text):,} chars"
    )
    if size == 10_000 and detail is not Detail.SUMMARY:
        assert "Showing the summary level" in got["text"]  # too big for the detail: said, visibly
    elif size == 240:
        assert "Showing the" not in got["text"]  # 240 resources fit at every level
    if detail is Detail.SUMMARY:
        assert (
            len(text) < 3_000
        )  # a summary stays short (GitLab renders up to 2,000 without a click)
