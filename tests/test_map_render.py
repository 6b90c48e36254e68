"""The four renderings of the residency map: SVG (own layout), HTML (self-contained), Mermaid, DOT,
at every level of detail."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from ciiguard.model import Location, ScanIssue
from ciiguard.residency_map import build_map, render
from ciiguard.residency_map import layout as layout_module
from ciiguard.residency_map.layout import (
    CHIP_CHAR,
    LABEL_CHAR,
    LABEL_H,
    MONO_CHAR,
    TEXT_CHAR,
    Box,
    arrow_lines,
    layout,
)
from ciiguard.residency_map.mermaid import MAX_EDGES, MAX_TEXT_SIZE, count_arrows, fits
from ciiguard.residency_map.model import EdgeStatus, ResidencyMap
from ciiguard.residency_map.style import EDGE_COLOR
from ciiguard.residency_map.view import Detail, build_view
from tests.test_map_model import CN, HK, cross_border_example, flow, res, result
from tests.test_map_view import estate

SVG = "{http://www.w3.org/2000/svg}"
RED = EDGE_COLOR[EdgeStatus.CROSS_BORDER]
WEIRD = "aws_s3_bucket.b[\"a<b>&\\\"c #1 `x` %%{init: {'theme':'dark'}}%%\"]"


def example() -> ResidencyMap:
    return build_map(cross_border_example(), "Example map")


def weird() -> ResidencyMap:
    """Addresses with every character the formats treat specially, and a very long one."""
    long = "aws_s3_bucket." + "very_long_bucket_name_" * 6
    repl = "aws_s3_bucket_replication_configuration.x"
    return build_map(
        result(
            [
                res(WEIRD, CN, line=3, root='roots/<script>"x"'),
                res(long, HK, line=4),
                res(
                    repl,
                    CN,
                    data=False,
                    classification=None,
                    flows=(flow(repl, WEIRD, HK, to=long),),
                ),
            ]
        ),
        'Title with "quotes" & <angle> brackets %%{init: {"theme": "dark"}}%%',
    )


def incomplete(m: ResidencyMap) -> ResidencyMap:
    return dataclasses.replace(
        m, errors=(ScanIssue("broken.tf", 3, "HCL syntax error"), ScanIssue("x.tf", 1, "bad"))
    )


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split()]


def disjoint(a: Box, b: Box) -> bool:
    return a.right <= b.x or b.right <= a.x or a.bottom <= b.y or b.bottom <= a.y


# -- SVG ----------------------------------------------------------------------------------------


def test_svg_summary_draws_a_box_per_region_and_an_arrow_per_pair() -> None:
    m = build_map(estate())
    v = build_view(m)
    root = ET.fromstring(render(m, "svg"))
    assert root.tag == f"{SVG}svg" and "detail-summary" in (root.get("class") or "")
    units = groups(root, "region-unit")
    assert [g.get("data-key") for g in units] == [u.key for u in v.units]
    assert groups(root, "node") == []  # no resource boxes at the summary level
    arrows = groups(root, "arrow")
    assert sorted(
        (g.get("data-source"), g.get("data-target"), g.get("data-count")) for g in arrows
    ) == (sorted((a.source, a.target, str(a.count)) for a in v.arrows))
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    for phrase in (
        "9 resources · 3 root modules",
        "personal 6",
        "not in scope 3",
        "✗ 1 blocking",
        "✓ 8 pass",
        "5 flows: replica, replication",
        "1 flow: replication",
        "cross-border · ✗ blocking",
        "Mainland China",
        "Outside mainland China",
    ):
        assert phrase in texts, phrase


def test_svg_arrows_are_red_when_cross_border_and_thicker_when_they_carry_more() -> None:
    m = build_map(estate(12))
    root = ET.fromstring(render(m, "svg"))
    crossing = groups(root, "cross-border")
    assert len(crossing) == 1
    for g in crossing:
        path = g.find(f"{SVG}path")
        assert path is not None and path.get("stroke") == RED
        assert path.get("marker-end") == "url(#arrow-cross-border)"
    marker = next(el for el in root.iter(f"{SVG}marker") if el.get("id") == "arrow-cross-border")
    assert marker.find(f"{SVG}path").get("fill") == RED  # type: ignore[union-attr]
    width = {
        int(g.get("data-count") or 0): float(g.find(f"{SVG}path").get("stroke-width") or 0)  # type: ignore[union-attr]
        for g in groups(root, "arrow")
    }
    assert width[1] < width[max(width)]
    for g in groups(root, "within-mainland"):
        assert g.find(f"{SVG}path").get("stroke") != RED  # type: ignore[union-attr]


def test_svg_resources_level_places_each_resource_by_root_and_file() -> None:
    m = build_map(estate())
    root = ET.fromstring(render(m, "svg", Detail.RESOURCES))
    nodes = groups(root, "node")
    assert sorted(g.get("id") for g in nodes) == sorted(n.id for n in m.nodes)
    frames = groups(root, "root-frame")
    assert {g.get("data-key", "").split("|")[1] for g in frames} == {
        "services/svc00",
        "services/svc01",
        "services/svc02",
    }
    primary = next(n for n in m.nodes if n.address == "aws_s3_bucket.primary")
    g = next(g for g in nodes if g.get("id") == primary.id)
    texts = ["".join(t.itertext()) for t in g.iter(f"{SVG}text")]
    assert "aws_s3_bucket.primary" in texts and "aws_s3_bucket" in texts and "main.tf:10" in texts
    assert len(groups(root, "edge")) == len(m.edges)


def test_svg_roots_level_draws_a_box_per_root_module() -> None:
    m = build_map(estate())
    root = ET.fromstring(render(m, "svg", Detail.ROOTS))
    keys = [g.get("data-key") for g in groups(root, "root-unit")]
    assert len(keys) == len(build_view(m, Detail.ROOTS).units)
    assert f"mainland/aws/{CN}|services/svc01" in keys


@pytest.mark.parametrize("detail", list(Detail))
def test_svg_layout_keeps_boxes_apart_inside_their_side_and_text_inside_boxes(
    detail: Detail,
) -> None:
    m = build_map(estate(6))
    v = build_view(m, detail)
    lay = layout(v)
    sides = {g.location: g.box for g in lay.groups if g.level == "side"}
    for unit in v.units:
        b, side = lay.nodes[unit.id], sides[unit.location]
        assert side.x < b.x and b.right < side.right and side.y < b.y and b.bottom < side.bottom
    boxes = list(lay.nodes.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert disjoint(a, b)
    for uid, rows in lay.chips.items():  # pills wrap inside their box
        b = lay.nodes[uid]
        for row in rows:
            assert 9 + sum(c.width for c in row) + 5 * (len(row) - 1) <= b.w
            for c in row:
                assert len(c.text) * CHIP_CHAR + 14 <= c.width + 0.01
    assert sides[Location.MAINLAND].right < sides[Location.OUTSIDE].x
    assert lay.border_x is not None
    assert sides[Location.MAINLAND].right < lay.border_x < sides[Location.OUTSIDE].x
    for a in v.arrows:
        if a.cross_border:  # from the right edge of the source to the left edge of the target
            start = re.match(r"M([\d.]+),", lay.edges[a.id].d)
            end = re.search(r" ([\d.]+),[\d.]+$", lay.edges[a.id].d)
            assert start and end
            assert float(start.group(1)) == lay.nodes[a.source].right
            assert float(end.group(1)) == lay.nodes[a.target].x


def test_svg_text_is_clipped_to_its_box() -> None:
    m = weird()
    root = ET.fromstring(render(m, "svg", Detail.RESOURCES))
    lay = layout(build_view(m, Detail.RESOURCES))
    for g in groups(root, "node"):
        box = lay.nodes[g.get("id") or ""]
        for t in g.iter(f"{SVG}text"):
            if t.get("class") in ("unit-title", "unit-line"):
                char = MONO_CHAR if "monospace" in (t.get("font-family") or "") else TEXT_CHAR
                x = float(t.get("x") or 0)
                assert x + len("".join(t.itertext())) * char * 0.95 <= box.right, t.text


def test_svg_escapes_and_clips_what_does_not_fit() -> None:
    m = weird()
    svg = render(m, "svg", Detail.RESOURCES)
    root = ET.fromstring(svg)
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert any(WEIRD in t for t in titles)  # full address in the tooltip, unharmed
    labels = [
        "".join(t.itertext()) for t in root.iter(f"{SVG}text") if t.get("class") == "unit-title"
    ]
    long = next(lbl for lbl in labels if lbl.startswith("aws_s3_bucket.very_long"))
    assert long.endswith("…") and len(long) < 45
    assert root.find(f"{SVG}title").text.startswith('Title with "quotes" & <angle>')  # type: ignore[union-attr]
    assert "<script>" not in svg and "<angle>" not in svg


def test_an_incomplete_map_carries_a_banner_at_every_level() -> None:
    for detail in Detail:
        svg = render(incomplete(example()), "svg", detail)
        root = ET.fromstring(svg)
        banner = [t for t in root.iter(f"{SVG}text") if "INCOMPLETE:" in "".join(t.itertext())]
        assert any("2 inputs could not be read" in "".join(t.itertext()) for t in banner)
        assert "broken.tf:3" in svg
        assert root.find(f"{SVG}title").text.startswith("INCOMPLETE")  # type: ignore[union-attr]
    assert "INCOMPLETE" not in render(example(), "svg")


def test_flows_that_jump_a_column_run_below_it_and_labels_keep_off_boxes() -> None:
    unknown_dest = flow("aws_s3_bucket.cn", "aws_s3_bucket.cn", None, line=5)
    m = build_map(
        result(
            [
                res("aws_s3_bucket.cn", CN, flows=(unknown_dest,)),
                res("aws_s3_bucket.hk", HK, line=2),
            ]
        )
    )
    assert [s.location for s in m.sides][-1] is Location.UNKNOWN
    for detail in Detail:
        v = build_view(m, detail)
        lay = layout(v)
        (arrow,) = v.arrows
        d = lay.edges[arrow.id].d
        assert re.fullmatch(r"M[\d.]+,[\d.]+ H[\d.]+ V[\d.]+ H[\d.]+ V[\d.]+ H[\d.]+", d), d
        xs = [float(x) for x in re.findall(r"[HM]([\d.]+)", d)][1:3]  # the two vertical runs
        bus_y = float(re.findall(r"V([\d.]+)", d)[0])
        assert bus_y > lay.columns_bottom
        sides = [g.box for g in lay.groups if g.level == "side"]
        for x in xs:
            assert not any(b.x <= x <= b.right for b in sides), (x, sides)
        p = lay.edges[arrow.id]
        lines = arrow_lines(v, arrow)
        w = max(len(line) for line in lines) * LABEL_CHAR + 6
        label = Box(p.label_x - w / 2, p.label_y - LABEL_H + 2, w, LABEL_H * len(lines))
        for b in lay.nodes.values():
            assert disjoint(label, b)


# -- HTML ---------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Every URL an HTML page could load or navigate to, its ids, links and data block."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.meta: dict[str, str] = {}
        self.tags: list[str] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._script: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = {k: v or "" for k, v in attrs}
        for key in ("src", "href", "xlink:href", "action", "data", "poster", "srcset"):
            if key in a:
                self.urls.append(a[key])
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href", "").startswith("#"):
            self.links.append(a["href"][1:])
        if tag == "meta" and "http-equiv" in a:
            self.meta[a["http-equiv"].lower()] = a.get("content", "")
        if tag == "script":
            self._script = a

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts.append((self._script, data))
            self._script = None


def page(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


def data_of(html: str) -> dict:
    (block,) = [text for attrs, text in page(html).scripts if attrs.get("id") == "map-data"]
    return json.loads(block)


def test_html_is_self_contained() -> None:
    html = render(example(), "html")
    p = page(html)
    assert all(u.startswith("#") for u in p.urls), p.urls
    assert "link" not in p.tags and "iframe" not in p.tags and "img" not in p.tags
    assert all(u.startswith("url(#") for u in re.findall(r"url\([^)]*", html))
    assert "@import" not in html
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.I)
    csp = p.meta["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src" not in csp
    assert "<script src" not in html
    for attrs, _ in p.scripts:  # one data block, one inline script: nothing else runs
        assert attrs in ({"type": "application/json", "id": "map-data"}, {})
    assert "innerHTML" not in html and "insertAdjacentHTML" not in html and "eval(" not in html


def test_html_shows_the_summary_and_carries_every_level_for_the_script() -> None:
    m = build_map(estate())
    html = render(m, "html")
    p = page(html)
    assert html.count("<svg") == 1 and "detail-summary" in html
    v = build_view(m)
    data = data_of(html)
    assert [r["key"] for r in data["regions"]] == [u.key for u in v.units]
    for u in v.units:  # each region links to its details
        assert f"region={u.key}" in p.links
    assert len(data["nodes"]) == len(m.nodes) and len(data["edges"]) == len(m.edges)
    assert len(data["violations"]) == len(m.violations)
    strings = data["s"]
    primary = next(i for i, n in enumerate(m.nodes) if n.address == "aws_s3_bucket.primary")
    row = data["nodes"][primary]
    assert strings[row[6]] == "services/svc00" and strings[row[7]] == "services/svc00/main.tf"
    assert row[8] == 10 and strings[row[10]] == "blocking"
    assert sorted(a[0] for a in data["arrows"]) == sorted(a.id for a in v.arrows)
    for c in m.classifications:
        assert f'<option value="{c}">' in html
    for pol in m.policies:
        assert f'<option value="{pol}">' in html


def test_html_escapes_user_text_in_markup_and_in_the_data_block() -> None:
    m = weird()
    html = render(m, "html")
    assert "<angle>" not in html and "&lt;angle&gt;" in html
    assert "a<b>" not in html and '<script>"x"' not in html and '</script>"' not in html
    (block,) = [t for a, t in page(html).scripts if a.get("id") == "map-data"]
    assert "<" not in block and ">" not in block and "&" not in block
    strings = data_of(html)["s"]
    assert WEIRD in strings and 'roots/<script>"x"' in strings  # unharmed once parsed


def test_an_incomplete_html_page_says_so_in_its_title_and_a_banner() -> None:
    html = render(incomplete(example()), "html")
    assert "<title>INCOMPLETE: Example map</title>" in html
    assert 'class="incomplete" role="alert"' in html and "broken.tf:3" in html
    assert "2 inputs could not be read" in html


def test_html_of_ten_thousand_resources_stays_small() -> None:
    resources = []
    for i in range(1000):
        root = f"services/svc{i:05d}"
        for j in range(10):
            resources.append(
                res(
                    f'module.stores["s-{i}-{j}"].aws_s3_bucket.this',
                    CN if i % 10 else HK,
                    root=root,
                    file=f"{root}/main.tf",
                    line=j + 1,
                )
            )
    html = render(build_map(result(resources)), "html")
    assert len(html.encode()) < 3_000_000, len(html.encode())


# -- Mermaid ------------------------------------------------------------------------------------


def _labels(text: str) -> list[str]:
    return re.findall(r'\["(.*?)"\]', text) + re.findall(r'\|"(.*?)"\|', text)


def test_mermaid_summary_structure() -> None:
    m = build_map(estate())
    v = build_view(m)
    text = render(m, "mermaid")
    lines = [ln.strip() for ln in text.splitlines()]
    assert lines[0] == lines[2] == "---"
    assert lines[1] == f'title: "Residency map · {m.summary()}"'  # the counts, visible
    assert "flowchart LR" in lines
    opened = sum(1 for ln in lines if ln.startswith("subgraph "))
    assert opened == sum(1 for ln in lines if ln == "end") == 2 + 2  # sides, clouds
    for u in v.units:
        (line,) = [ln for ln in lines if ln.startswith(f'{u.id}["')]
        assert u.region_title in line and "resource" in line
    links = [ln for ln in lines if re.match(r"u\d+ (-->|==>|-\.->)\|", ln)]
    assert len(links) == len(v.arrows) == count_arrows(text)
    for i, (ln, a) in enumerate(zip(links, v.arrows, strict=True)):
        assert ln.startswith(f"{a.source} ") and ln.endswith(f" {a.target}")
        assert ("==>" in ln) == a.cross_border
        style = next(
            s for s in lines if s.startswith("linkStyle ") and str(i) in s.split()[1].split(",")
        )
        assert (f"stroke:{RED}" in style) == a.cross_border


def test_mermaid_resources_level_structure() -> None:
    m = example()
    text = render(m, "mermaid", Detail.RESOURCES)
    lines = [ln.strip() for ln in text.splitlines()]
    opened = sum(1 for ln in lines if ln.startswith("subgraph "))
    assert opened == sum(1 for ln in lines if ln == "end") == 2 + 2 + 4 + 4  # + regions, roots
    for n in m.nodes:
        assert sum(1 for ln in lines if ln.startswith(f'{n.id}["')) == 1
    assert count_arrows(text) == len(m.edges)


def test_mermaid_escapes_labels_and_directives() -> None:
    for detail in Detail:
        text = render(weird(), "mermaid", detail)
        for label in _labels(text):
            assert '"' not in label and "`" not in label and "%" not in label
            assert "<" not in label.replace("<br/>", "")
        body = text.split("\n---\n", 1)[1]
        assert "%%{" not in body and "}%%" not in body  # no directive Mermaid would obey
    text = render(weird(), "mermaid", Detail.RESOURCES)
    assert "#quot;" in text and "#lt;b#gt;" in text and "#96;x#96;" in text
    title = text.splitlines()[1]
    assert (
        title.startswith('title: "Title with \\"quotes\\" & \u2039angle\u203a')
        and "%%" not in title
    )


def test_an_incomplete_mermaid_map_shows_it_in_a_node_and_the_title() -> None:
    for detail in Detail:
        text = render(incomplete(example()), "mermaid", detail)
        assert text.splitlines()[1].startswith('title: "INCOMPLETE: Example map · ')
        visible = [ln for ln in text.splitlines() if not ln.lstrip().startswith("%%")]
        node = next(ln for ln in visible if ln.strip().startswith('incomplete["'))
        assert "INCOMPLETE: 2 inputs could not be read" in node and "broken.tf:3" in node
        assert any(ln.strip().startswith("class incomplete incomplete") for ln in visible)
    assert "INCOMPLETE" not in render(example(), "mermaid")


def test_mermaid_falls_back_to_a_coarser_level_with_a_visible_note() -> None:
    m = build_map(estate(100))  # 400 resources, 100 replicas, 300 flows
    text = render(m, "mermaid", Detail.RESOURCES)
    assert fits(text)
    (note,) = [ln for ln in text.splitlines() if ln.strip().startswith('fallback["')]
    assert "Showing the roots level: the resources level of this map" in note
    assert f"{MAX_TEXT_SIZE:,} characters or {MAX_EDGES} arrows" in note
    assert any(re.match(r"\s+u\d+_\d+\[", ln) for ln in text.splitlines())  # root modules
    huge = build_map(estate(400))
    text = render(huge, "mermaid", Detail.RESOURCES)
    assert fits(text) and "Showing the summary level: the resources level" in text
    text = render(huge, "mermaid", Detail.ROOTS)
    assert fits(text) and "Showing the summary level: the roots level" in text
    assert "fallback" not in render(huge, "mermaid")  # the summary asked for fits as it is


def test_a_summary_with_too_many_regions_shortens_then_draws_the_worst_first() -> None:
    def regions(n: int) -> ResidencyMap:
        return build_map(
            result(
                res(f"aws_s3_bucket.b{i}", f"region-{i:04d}", line=i + 1, root=f"r{i}")
                for i in range(n)
            )
        )

    text = render(regions(1000), "mermaid")
    assert fits(text)
    (note,) = [ln for ln in text.splitlines() if ln.strip().startswith('fallback["')]
    assert "Regions are shown on one line each" in note
    assert text.count('["region-') == 1000
    text = render(regions(3000), "mermaid")
    assert fits(text)
    (note,) = [ln for ln in text.splitlines() if ln.strip().startswith('fallback["')]
    found = re.search(r"Showing ([\d,]+) of 3,000 regions, worst first", note)
    assert found is not None
    shown = int(found.group(1).replace(",", ""))
    assert 0 < shown < 3000 and text.count('["region-') == shown


def test_fits_counts_characters_and_arrows() -> None:
    few = "flowchart LR\n" + "".join(f'  a{i} -->|"x"| b{i}\n' for i in range(MAX_EDGES))
    assert fits(few) and count_arrows(few) == MAX_EDGES
    assert not fits(few + '  c ==>|"y"| d\n')
    assert not fits("flowchart LR\n%%" + "x" * MAX_TEXT_SIZE)


# -- DOT ----------------------------------------------------------------------------------------


def test_dot_structure_at_every_level() -> None:
    m = example()
    for detail, clusters in (
        (Detail.SUMMARY, 2 + 2),
        (Detail.ROOTS, 2 + 2 + 4),
        (Detail.RESOURCES, 12),
    ):
        text = render(m, "dot", detail)
        body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("//"))
        assert body.count("{") == body.count("}")
        assert body.startswith('digraph "residency_map" {')
        assert body.count("subgraph cluster_") == clusters
        v = build_view(m, detail)
        for a in v.arrows:
            line = next(
                ln
                for ln in body.splitlines()
                if ln.strip().startswith(f"{a.source.replace('-', '_')} -> ")
                and f'id="{a.id}"' in ln
            )
            assert (f'color="{RED}"' in line) == a.cross_border


def test_dot_escapes_quotes_and_backslashes_and_says_incomplete() -> None:
    text = render(weird(), "dot", Detail.RESOURCES)
    assert '\\"c #1' in text  # the address's quote, escaped
    assert 'Title with \\"quotes\\"' in text
    text = render(incomplete(example()), "dot")
    assert 'incomplete [label="INCOMPLETE: 2 inputs could not be read;' in text
    assert 'label="INCOMPLETE: Example map' in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("builder", [example, weird])
@pytest.mark.parametrize("detail", list(Detail))
def test_dot_renders_with_graphviz(builder, detail) -> None:
    m = builder()
    proc = subprocess.run(
        ["dot", "-Tsvg"], input=render(m, "dot", detail), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    root = ET.fromstring(proc.stdout)
    edges = [g for g in root.iter(f"{SVG}g") if "edge" in (g.get("class") or "").split()]
    v = build_view(m, detail)
    assert len(edges) == len(v.arrows)
    red = [g for g in edges if "cross-border" in (g.get("class") or "")]
    assert len(red) == sum(1 for a in v.arrows if a.cross_border)


def _brute_place(
    spots: list[tuple[float, float]], w: float, h: float, placed: list[Box]
) -> tuple[float, float]:
    """The placement rule with every box compared: the first spot (nudged up and down) whose
    label overlaps nothing drawn so far."""
    for nudge in (0.0, -LABEL_H, LABEL_H, -2 * LABEL_H, 2 * LABEL_H):
        for cx, cy in spots:
            box = Box(cx - w / 2, cy + nudge - LABEL_H + 2, w, h)
            if not any(layout_module._overlaps(box, other) for other in placed):
                placed.append(box)
                return cx, cy + nudge
    return spots[0]


@pytest.mark.parametrize("seed", range(12))
def test_label_placement_through_the_grid_is_the_placement_with_every_box_compared(
    seed: int,
) -> None:
    """``_Occupied`` (a grid of cells) gives the same spot for every label as comparing with
    every box: random boxes and labels, crowded so that most first choices are taken, with
    negative coordinates, boxes on cell edges and boxes wider and taller than a cell."""
    import random

    rng = random.Random(seed)
    cell_w, cell_h = layout_module._Occupied.CELL_W, layout_module._Occupied.CELL_H

    def coord(scale: float) -> float:
        if rng.random() < 0.2:  # exactly on a cell edge
            return rng.randint(-4, 8) * scale
        return rng.uniform(-300, 1200)

    nodes = [
        Box(coord(cell_w), coord(cell_h), rng.choice([20.0, cell_w, 3 * cell_w + 1]),
            rng.choice([10.0, cell_h, 2.5 * cell_h]))
        for _ in range(rng.randint(0, 60))
    ]  # fmt: skip
    grid = layout_module._Occupied(list(nodes))
    flat = list(nodes)
    for _ in range(400):
        x, y = coord(cell_w), coord(cell_h)
        spots = [(x + rng.uniform(-200, 200), y + rng.uniform(-150, 150)) for _ in range(7)]
        w = rng.choice([LABEL_CHAR * rng.randint(1, 40) + 6, cell_w])
        h = LABEL_H * rng.randint(1, 3)
        assert layout_module._place_label(spots, w, h, grid) == _brute_place(spots, w, h, flat)


def test_label_placement_looks_at_a_bounded_number_of_boxes_per_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Arrows between far-apart rows of two dense columns (each crossing all the others): the
    boxes compared per label stay bounded as the map grows (they grew with the map before)."""
    calls = 0
    real = layout_module._overlaps

    def counting(a: Box, b: Box) -> bool:
        nonlocal calls
        calls += 1
        return real(a, b)

    monkeypatch.setattr(layout_module, "_overlaps", counting)
    per_label = []
    for n in (200, 400, 800):
        calls = 0
        nodes = [Box(0, 40.0 * i, 200, 30) for i in range(n)]
        nodes += [Box(600, 40.0 * i, 200, 30) for i in range(n)]
        grid = layout_module._Occupied(nodes)
        for i in range(n):  # left row i to right row n-1-i: every arrow crosses the others
            y1, y2 = 40.0 * i + 15, 40.0 * (n - 1 - i) + 15
            spots = [(200 + 400 * t, y1 + (y2 - y1) * t) for t in (0.5, 0.4, 0.6, 0.3, 0.7)]
            layout_module._place_label(spots, LABEL_CHAR * 12 + 6, LABEL_H, grid)
        per_label.append(calls / n)
    assert per_label[2] < 1.5 * per_label[0], per_label
