"""The HTML map in a real headless browser (Debian's chromium and chromium-driver).

On the examples: it renders, shows the red cross-border arrow, filters from the URL fragment and
loads nothing from the network. On generated estates of 240 and about 10,000 resources
(benchmarks/generate.py): screenshots of the summary and of an opened region, with the layout
properties that make them legible asserted (no box overlaps another, labels stay inside their
boxes, red arrows are drawn), and a filter measured in the browser (under 200 ms).

Skipped cleanly when chromium or chromedriver is not installed; ``.ci/run`` installs them when it
can. ``CIIGUARD_UPDATE_SCREENSHOTS=1`` copies the 240-resource screenshots to ``examples/``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from ciiguard.residency_map.model import EdgeStatus
from ciiguard.residency_map.style import EDGE_COLOR
from tests.browser import Browser, find_browser
from tests.conftest import EXAMPLES, ROOT, run_cli

pytestmark = pytest.mark.slow

RED = EDGE_COLOR[EdgeStatus.CROSS_BORDER]
CROSS = EXAMPLES / "terraform" / "cross-border-replication"
COMPLIANT = EXAMPLES / "terraform" / "compliant"
FILTER_BUDGET_MS = 200.0
SHOT_W, SHOT_H = 1400, 1000


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The browser's own command line (for what WebDriver cannot see: the network log)."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [
        find_browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        *args,
        url,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 and "--dump-dom" in args and not proc.stdout:
        pytest.fail(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc


def make_map(tmp_path: Path, path: Path, name: str = "map.html", cwd: Path | None = None) -> Path:
    out = tmp_path / name
    run = run_cli("map", str(path), "--output", str(out), cwd=cwd)
    assert run.code == 0, run.stderr
    return out


class Dom(HTMLParser):
    """Elements of a dumped DOM with their attributes, and the page's visible text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def with_class(self, cls: str, tag: str | None = None) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.elements
            if cls in a.get("class", "").split() and (tag is None or t == tag)
        ]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(SHOT_W, SHOT_H) as b:
        yield b


def load(b: Browser, page: Path, fragment: str = "") -> None:
    """Open ``page`` afresh (a new document, so the fragment is read as on a first visit)."""
    b.get("about:blank")
    b.get(page.as_uri() + fragment)
    b.run_async(
        "var done = arguments[arguments.length - 1];"
        "requestAnimationFrame(function () { requestAnimationFrame(function () { done(1); }); });"
    )


def dom(b: Browser) -> Dom:
    return Dom(b.run("return document.documentElement.outerHTML"))


# -- the examples ---------------------------------------------------------------------------------


def test_renders_the_regions_and_the_cross_border_arrows(tmp_path: Path, browser: Browser) -> None:
    load(browser, make_map(tmp_path, CROSS))
    page = dom(browser)
    units = page.with_class("region-unit", "g")
    assert [u["data-key"] for u in units] == [
        "mainland/aws/cn-north-1",
        "mainland/aws/cn-northwest-1",
        "outside/aws/ap-east-1",
        "outside/aws/ap-southeast-1",
    ]
    # the page's script ran: with no filter, every resource of a region matches
    assert [int(u["data-match"]) for u in units] == [2, 1, 1, 1]
    text = " ".join(page.text)
    assert "5 resources and places" in text
    crossing = page.with_class("cross-border", "g")
    assert len(crossing) == 2
    paths = [a for t, a in page.elements if t == "path" and a.get("stroke") == RED]
    assert any(p.get("marker-end") == "url(#arrow-cross-border)" for p in paths)
    ids = {u["id"]: u["data-key"] for u in units}
    assert {ids[c["data-target"]] for c in crossing} == {
        "outside/aws/ap-east-1",
        "outside/aws/ap-southeast-1",
    }


def test_a_region_link_opens_its_root_modules_then_resources(
    tmp_path: Path, browser: Browser
) -> None:
    load(browser, make_map(tmp_path, EXAMPLES / "terraform", cwd=ROOT))
    browser.run(
        "document.querySelector('#u1 a').dispatchEvent(new MouseEvent('click', {bubbles: true}))"
    )
    state = browser.run(
        "return [location.hash, document.querySelectorAll('#region-panel .root').length,"
        " document.querySelectorAll('#region-panel .card').length]"
    )
    assert state == ["#region=mainland/aws/cn-north-1", 2, 0]
    browser.run("document.querySelector('#region-panel .root button').click()")
    state = browser.run(
        "return [location.hash, Array.from(document.querySelectorAll('#region-panel .card h3'))"
        ".map(function (h) { return h.textContent; })]"
    )
    assert state[0].startswith("#region=mainland/aws/cn-north-1&root=examples/terraform/")
    assert "aws_s3_bucket.orders" in state[1] or "aws_dynamodb_table.orders" in state[1]


def test_filters_and_deep_links_come_from_the_url_fragment(
    tmp_path: Path, browser: Browser
) -> None:
    html = make_map(tmp_path, EXAMPLES / "terraform", cwd=ROOT)
    load(browser, html, "#policy=CII001")
    page = dom(browser)
    matches = {u["data-key"]: int(u["data-match"]) for u in page.with_class("region-unit", "g")}
    assert matches["mainland/aws/cn-north-1"] == 0 and matches["outside/aws/us-east-1"] == 1
    assert sum(matches.values()) == 4  # the four resources CII001 is about
    dimmed = {u["data-key"] for u in page.with_class("dimmed", "g") if u.get("data-key")}
    assert dimmed == {k for k, n in matches.items() if n == 0}
    assert "4 of 13 match" in " ".join(page.text)
    assert browser.run("return document.getElementById('policy').value") == "CII001"

    load(browser, html, "#classification=important&q=orders_replica")
    rows = browser.run(
        "return Array.from(document.querySelectorAll('#matches tbody tr td:first-child'))"
        ".map(function (h) { return h.textContent; })"
    )
    assert rows == ["aws_s3_bucket.orders_replica"]

    load(browser, html, "#classification=-")  # out of scope only
    page = dom(browser)
    assert all(a["data-match"] == "false" for a in page.with_class("arrow", "g"))
    rows = browser.run(
        "return Array.from(document.querySelectorAll('#matches tbody tr td:first-child'))"
        ".map(function (h) { return h.textContent; })"
    )
    assert rows == ["aws_cloudwatch_log_group.public_docs"]

    load(browser, html, "#d-n1")  # the card links of earlier maps still land on the resource
    assert browser.run("return document.querySelector('.card.selected').id") == "d-n1"


def page_requests(tmp_path: Path, page: Path) -> list[str]:
    """URLs the page itself asked the network for (the browser's own update pings are not it)."""
    log = tmp_path / f"net-{page.stem}.json"
    chromium(tmp_path, page.as_uri(), "--dump-dom", f"--log-net-log={log}")
    data = json.loads(log.read_text(encoding="utf-8"))
    start = data["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return sorted(
        e["params"]["url"]
        for e in data["events"]
        if e["type"] == start
        and str(e.get("params", {}).get("network_isolation_key", "")).startswith("file://")
    )


def test_loads_nothing_from_the_network(tmp_path: Path) -> None:
    assert page_requests(tmp_path, make_map(tmp_path, EXAMPLES / "terraform")) == []
    # the detector does see a page that loads something
    control = tmp_path / "control.html"
    control.write_text(
        '<!DOCTYPE html><img src="http://127.0.0.1:9/x.png">'
        '<link rel="stylesheet" href="https://example.invalid/x.css">',
        encoding="utf-8",
    )
    assert page_requests(tmp_path, control) == [
        "http://127.0.0.1:9/x.png",
        "https://example.invalid/x.css",
    ]


# -- pixels ---------------------------------------------------------------------------------------


def _png_pixels(path: Path) -> tuple[int, int, int, bytes]:
    """(width, height, channels, raw pixel rows) of an 8-bit RGB/RGBA PNG, filters undone."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
            channels = 4 if color == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytes(stride)
    for y in range(height):
        i = y * (stride + 1)
        ftype, line = raw[i], raw[i + 1 : i + 1 + stride]
        if ftype == 2:
            line = bytes((a + b) & 0xFF for a, b in zip(line, prev, strict=True))
        elif ftype in (1, 3, 4):
            out = bytearray(line)
            for x in range(stride):
                a = out[x - channels] if x >= channels else 0
                b = prev[x]
                if ftype == 1:
                    out[x] = (out[x] + a) & 0xFF
                elif ftype == 3:
                    out[x] = (out[x] + (a + b) // 2) & 0xFF
                else:
                    c = prev[x - channels] if x >= channels else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    out[x] = (
                        out[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)
                    ) & 0xFF
            line = bytes(out)
        else:
            assert ftype == 0, ftype
        rows.append(line)
        prev = line
    return width, height, channels, b"".join(rows)


def count_red(shot: Path) -> int:
    """Pixels of the cross-border red in a screenshot."""
    _, _, channels, pixels = _png_pixels(shot)
    r0, g0, b0 = (int(RED[i : i + 2], 16) for i in (1, 3, 5))
    n = 0
    for i in range(0, len(pixels), channels):
        if (
            abs(pixels[i] - r0) <= 3
            and abs(pixels[i + 1] - g0) <= 3
            and abs(pixels[i + 2] - b0) <= 3
        ):
            n += 1
    return n


def test_the_screenshot_shows_the_red_cross_border_arrows(tmp_path: Path, browser: Browser) -> None:
    # Only cross-border arrows (and their legend sample) are drawn in this red. Dimming every
    # region and arrow with a search that matches nothing leaves the legend: the difference is
    # the arrows.
    def red(page: Path, fragment: str) -> int:
        load(browser, page, fragment)
        browser.run("window.scrollTo(0, 0)")
        return count_red(
            browser.screenshot(tmp_path / f"shot-{len(list(tmp_path.glob('shot-*')))}.png")
        )

    cross = make_map(tmp_path, CROSS, "cross.html")
    shown, dimmed = red(cross, ""), red(cross, "#q=no-such-thing")
    assert shown - dimmed > 400, (shown, dimmed)
    compliant = make_map(tmp_path, COMPLIANT, "compliant.html")
    shown, dimmed = red(compliant, ""), red(compliant, "#q=nothing")
    assert abs(shown - dimmed) < 20, (shown, dimmed)


# -- estates of 240 and 10,000 resources ----------------------------------------------------------


def _generate(root: Path, resources: int) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    tree = root / f"estate-{resources}"
    generate(tree, resources)
    return tree


@pytest.fixture(scope="module")
def estates(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The map pages of two generated estates, drawn from inside each tree (relative paths)."""
    root = tmp_path_factory.mktemp("estates")
    pages = {}
    for n in (240, 10_000):
        tree = _generate(root, n)
        out = root / f"estate-{n}.html"
        run = run_cli(
            "map",
            ".",
            "--output",
            str(out),
            "--title",
            f"A generated estate of {n:,} resources",
            cwd=tree,
        )
        assert run.code == 0, run.stderr
        pages[n] = out
    return pages


RECTS = """
function rect(el) { var r = el.getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom]; }
function texts(box) { return Array.from(box.querySelectorAll(arguments[1]))
  .filter(function (t) { return t.textContent.trim(); }).map(rect); }
"""


def _disjoint(a: list[float], b: list[float]) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def _inside(inner: list[float], outer: list[float], slack: float = 0.5) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def _assert_apart_with_labels_inside(boxes: list[dict[str, Any]], what: str) -> None:
    assert boxes, f"no {what} on screen"
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert _disjoint(a["box"], b["box"]), f"{what} overlap: {a['name']} and {b['name']}"
        for label in a["labels"]:
            assert _inside(label, a["box"]), (
                f"a label of {a['name']} leaves its box: {label} {a['box']}"
            )


def summary_layout(b: Browser) -> list[dict[str, Any]]:
    return b.run(
        "function rect(el) { var r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"
        "return Array.from(document.querySelectorAll('svg .region-unit')).map(function (u) {"
        " return { name: u.getAttribute('data-key'), box: rect(u.querySelector('rect.frame')),"
        "  labels: Array.from(u.querySelectorAll('text')).filter(function (t) {"
        "   return t.textContent.trim(); }).map(rect) }; });"
    )


def region_layout(b: Browser, box: str, labels: str) -> list[dict[str, Any]]:
    return b.run(
        "function rect(el) { var r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"
        "var inner = arguments[1];"
        "return Array.from(document.querySelectorAll(arguments[0])).map(function (u) {"
        " return { name: u.getAttribute('data-root') || u.id, box: rect(u),"
        "  labels: Array.from(u.querySelectorAll(inner)).filter(function (t) {"
        "   return t.textContent.trim() && t.getClientRects().length; }).map(rect) }; });",
        box,
        labels,
    )


@pytest.mark.parametrize("size", [240, 10_000])
def test_estate_screenshots_are_legible(
    size: int, estates: dict[int, Path], browser: Browser, tmp_path: Path
) -> None:
    page = estates[size]
    assert page.stat().st_size < 3_000_000
    browser.resize(SHOT_W, SHOT_H)

    # The summary: one box per region, none overlapping, every label inside its box, red arrows.
    load(browser, page)
    units = summary_layout(browser)
    assert 5 <= len(units) <= 12, [u["name"] for u in units]
    _assert_apart_with_labels_inside(units, "region boxes")
    red_paths = browser.run(
        "var red = arguments[0];"
        "return Array.from(document.querySelectorAll('svg .arrow.cross-border path'))"
        ".filter(function (p) { return p.getAttribute('stroke') === red &&"
        " p.getBoundingClientRect().width > 20; }).length",
        RED,
    )
    assert red_paths >= 1
    summary = browser.screenshot(tmp_path / f"summary-{size}.png")
    assert count_red(summary) > 400  # the arrow across the border, as drawn

    # A region opened: its root modules as boxes, worst first; one opened into its resources.
    load(browser, page, "#region=mainland/aws/cn-north-1")
    roots = region_layout(browser, "#region-panel .root", ".root-name, .root-line, .chip")
    assert len(roots) == min(60, {240: 19, 10_000: 799}[size])
    _assert_apart_with_labels_inside(roots, "root module boxes")
    worst = browser.run("return document.querySelector('#region-panel .root').className")
    assert "verdict-blocking" in worst  # the root that sends data abroad comes first
    browser.run("document.querySelector('#region-panel .root button').click()")
    cards = region_layout(browser, "#region-panel .card", "h3, dt, dd")
    assert len(cards) == 7
    _assert_apart_with_labels_inside(cards, "resource cards")
    assert browser.run("return location.hash").startswith("#region=mainland/aws/cn-north-1&root=")
    # The screenshot of the opened region: the map with the region picked, and its root modules.
    browser.resize(SHOT_W, 2 * SHOT_H)
    load(browser, page, "#region=mainland/aws/cn-north-1")
    browser.run("window.scrollTo(0, 0)")
    picked = browser.run("return document.querySelector('svg .region-unit.selected').id")
    assert picked == browser.run(
        "return document.querySelector('svg .region-unit[data-key=\"mainland/aws/cn-north-1\"]').id"
    )
    assert (
        browser.run("return document.getElementById('region-panel').getBoundingClientRect().top")
        < 2 * SHOT_H - 300
    )  # the panel's first root modules are in the picture
    opened = browser.screenshot(tmp_path / f"region-{size}.png")
    assert count_red(opened) > 400
    browser.resize(SHOT_W, SHOT_H)

    if size == 240 and os.environ.get("CIIGUARD_UPDATE_SCREENSHOTS"):
        shutil.copyfile(summary, EXAMPLES / "residency-map-240.png")
        shutil.copyfile(opened, EXAMPLES / "residency-map-240-region.png")


FILTER = """
var done = arguments[arguments.length - 1], how = arguments[0], value = arguments[1];
var el = document.getElementById(how);
var t0 = performance.now();
el.value = value;
el.dispatchEvent(new Event(how === "q" ? "input" : "change", { bubbles: true }));
requestAnimationFrame(function () { setTimeout(function () {
  done([performance.now() - t0, document.getElementById("count").textContent]); }, 0); });
"""


@pytest.mark.parametrize("size", [240, 10_000])
def test_filtering_stays_under_200_ms(
    size: int, estates: dict[int, Path], browser: Browser
) -> None:
    """From the keystroke to the next painted frame, measured in the browser: the median of three
    runs of each filter (one run can catch the shared machine busy)."""
    load(browser, estates[size])
    timings = {}
    for how, value in (
        ("q", "svc0004"),
        ("q", "aws_s3_bucket"),
        ("q", ""),
        ("classification", "personal"),
        ("policy", "CII002"),
        ("policy", ""),
        ("classification", ""),
    ):
        runs = [browser.run_async(FILTER, how, value) for _ in range(3)]
        timings[f"{how}={value}"] = round(statistics.median(ms for ms, _ in runs), 1)
        if value:
            assert all(" match" in count for _, count in runs)
    print(f"filter timings at {size} resources (ms): {timings}")
    assert max(timings.values()) < FILTER_BUDGET_MS, timings
    # and with a region open, which re-renders its root modules too
    load(browser, estates[size], "#region=mainland/aws/cn-north-1")
    runs = [browser.run_async(FILTER, "q", term)[0] for term in ("svc0004", "svc0005", "svc0004")]
    assert statistics.median(runs) < FILTER_BUDGET_MS, runs


def test_hostile_names_stay_text_in_the_page(tmp_path: Path, browser: Browser) -> None:
    """Names from the scanned tree are shown, never run: in the map, the panel and the cards."""
    from ciiguard.residency_map import build_map, render
    from tests.test_map_model import CN, res, result

    evil = '<img src=x onerror="window.pwned=1"></script><script>window.pwned=2</script>'
    root = 'svc/"><svg onload="window.pwned=3">'
    m = build_map(
        result([res(f'aws_s3_bucket.b["{evil}"]', CN, root=root, file=f"{root}/main.tf")]),
        f"Estate {evil}",
    )
    page = tmp_path / "evil.html"
    page.write_text(render(m, "html"), encoding="utf-8")
    load(browser, page, "#region=mainland/aws/cn-north-1&root=" + root.replace("#", "%23"))
    state = browser.run(
        "return [typeof window.pwned, document.querySelectorAll('img, script[src]').length,"
        " document.querySelector('h1').textContent,"
        " Array.from(document.querySelectorAll('#region-panel .card h3'))"
        ".map(function (h) { return h.textContent; })]"
    )
    assert state[0] == "undefined" and state[1] == 0
    assert state[2] == f"Estate {evil}"
    assert state[3] == [f'aws_s3_bucket.b["{evil}"]']
