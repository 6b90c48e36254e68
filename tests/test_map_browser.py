"""The HTML map in a real headless browser (Debian's chromium): it renders, shows the resources and
the red cross-border arrow, filters from the URL fragment, and loads nothing from the network.

Skipped cleanly when no chromium is installed; ``.ci/run`` installs it when it can.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ciiguard.residency_map.model import EdgeStatus
from ciiguard.residency_map.style import EDGE_COLOR
from tests.conftest import EXAMPLES, run_cli

pytestmark = pytest.mark.slow

RED = EDGE_COLOR[EdgeStatus.CROSS_BORDER]
CROSS = EXAMPLES / "terraform" / "cross-border-replication"
COMPLIANT = EXAMPLES / "terraform" / "compliant"


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium in PATH (apt-get install chromium)")


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [
        _browser(),
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


def make_map(tmp_path: Path, path: Path, name: str = "map.html") -> Path:
    out = tmp_path / name
    run = run_cli("map", str(path), "--output", str(out))
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

    def by_id(self, ident: str) -> dict[str, str]:
        return next(a for _, a in self.elements if a.get("id") == ident)


def dom(tmp_path: Path, page: Path, fragment: str = "") -> Dom:
    proc = chromium(tmp_path, page.as_uri() + fragment, "--dump-dom")
    assert "<svg" in proc.stdout, proc.stderr[-2000:]
    return Dom(proc.stdout)


def test_renders_the_resources_and_the_cross_border_arrow(tmp_path: Path) -> None:
    page = dom(tmp_path, make_map(tmp_path, CROSS))
    nodes = page.with_class("node", "g")
    assert len(nodes) == 5
    assert all(n["data-match"] == "true" for n in nodes)  # the page's script ran
    text = " ".join(page.text)
    for address in (
        "aws_s3_bucket.orders",
        "aws_s3_bucket.orders_replica",
        "aws_dynamodb_table.sessions",
    ):
        assert address in text
    assert "5 of 5 shown" in text
    crossing = page.with_class("cross-border", "g")
    assert len(crossing) == 2
    paths = [a for t, a in page.elements if t == "path" and a.get("stroke") == RED]
    assert any(p.get("marker-end") == "url(#arrow-cross-border)" for p in paths)
    ends = {(c["data-source"], c["data-target"]) for c in crossing}
    replica = next(n for n in nodes if "aws_s3_bucket.orders_replica" in n["data-search"])
    assert any(target == replica["id"] for _, target in ends)


def test_filters_come_from_the_url_fragment(tmp_path: Path) -> None:
    html = make_map(tmp_path, EXAMPLES / "terraform")
    page = dom(tmp_path, html, "#policy=CII001")
    nodes = page.with_class("node", "g")
    shown = [n for n in nodes if n["data-match"] == "true"]
    assert shown and len(shown) < len(nodes)
    for n in nodes:
        assert (n["data-match"] == "true") == ("CII001" in n["data-policies"].split())
        assert ("dimmed" in n["class"].split()) == (n["data-match"] == "false")
    assert f"{len(shown)} of {len(nodes)} shown" in " ".join(page.text)
    assert page.by_id("policy").get("value", "") in ("", "CII001")  # select state is not an attr

    page = dom(tmp_path, html, "#classification=important&q=orders_replica")
    shown = [n for n in page.with_class("node", "g") if n["data-match"] == "true"]
    assert [n["data-search"].split()[0] for n in shown] == ["aws_s3_bucket.orders_replica"]
    cards = [a for t, a in page.elements if t == "article"]
    visible = [c for c in cards if "hidden" not in c]
    assert [c["data-id"] for c in visible] == [shown[0]["id"]]

    page = dom(tmp_path, html, "#classification=-")  # out of scope only
    shown = [n for n in page.with_class("node", "g") if n["data-match"] == "true"]
    assert [n["data-search"].split()[0] for n in shown] == ["aws_cloudwatch_log_group.public_docs"]
    assert all(e["data-match"] == "false" for e in page.with_class("edge", "g"))


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


def red_pixels(tmp_path: Path, page: Path, fragment: str = "") -> int:
    shot = tmp_path / f"shot-{len(list(tmp_path.glob('shot-*')))}.png"
    chromium(tmp_path, page.as_uri() + fragment, f"--screenshot={shot}", "--window-size=1000,1000")
    assert shot.exists() and shot.stat().st_size > 10_000
    width, height, channels, pixels = _png_pixels(shot)
    assert (width, height) == (1000, 1000)
    r0, g0, b0 = (int(RED[i : i + 2], 16) for i in (1, 3, 5))
    reds = pixels[0::channels]
    n = 0
    for i, r in enumerate(reds):
        if abs(r - r0) <= 3:
            j = i * channels
            if abs(pixels[j + 1] - g0) <= 3 and abs(pixels[j + 2] - b0) <= 3:
                n += 1
    return n


def test_the_screenshot_shows_the_red_cross_border_arrows(tmp_path: Path) -> None:
    # Only cross-border arrows (and their legend sample) are drawn in this red. Dimming every node
    # and arrow with a search that matches nothing leaves the legend: the difference is the arrows.
    cross = make_map(tmp_path, CROSS, "cross.html")
    shown, dimmed = red_pixels(tmp_path, cross), red_pixels(tmp_path, cross, "#q=no-such-thing")
    assert shown - dimmed > 400, (shown, dimmed)
    compliant = make_map(tmp_path, COMPLIANT, "compliant.html")
    shown, dimmed = red_pixels(tmp_path, compliant), red_pixels(tmp_path, compliant, "#q=nothing")
    assert abs(shown - dimmed) < 20, (shown, dimmed)
