"""The four renderings of the residency map: SVG (own layout), HTML (self-contained), Mermaid, DOT."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from ciiguard.residency_map import build_map, render
from ciiguard.residency_map.layout import layout
from ciiguard.residency_map.model import EdgeStatus, ResidencyMap
from ciiguard.residency_map.style import EDGE_COLOR
from tests.test_map_model import CN, HK, cross_border_example, flow, res, result

SVG = "{http://www.w3.org/2000/svg}"
RED = EDGE_COLOR[EdgeStatus.CROSS_BORDER]
WEIRD = 'aws_s3_bucket.b["a<b>&\\"c #1"]'


def example() -> ResidencyMap:
    return build_map(cross_border_example(), "Example map")


def weird() -> ResidencyMap:
    """Addresses with every character the formats treat specially, and a very long one."""
    long = "aws_s3_bucket." + "very_long_bucket_name_" * 6
    repl = "aws_s3_bucket_replication_configuration.x"
    return build_map(
        result(
            [
                res(WEIRD, CN, line=3),
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
        'Title with "quotes" & <angle> brackets',
    )


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split()]


# -- SVG ----------------------------------------------------------------------------------------


def test_svg_is_well_formed_and_draws_every_node_and_edge() -> None:
    m = example()
    root = ET.fromstring(render(m, "svg"))
    assert root.tag == f"{SVG}svg"
    nodes = groups(root, "node")
    assert sorted(g.get("id") for g in nodes) == sorted(n.id for n in m.nodes)
    edges = groups(root, "edge")
    assert sorted(g.get("id") for g in edges) == sorted(e.id for e in m.edges)
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for n in m.nodes:
        assert n.label in texts
    assert "Mainland China" in texts and "Outside mainland China" in texts


def test_svg_cross_border_arrows_are_red_and_others_are_not() -> None:
    m = example()
    root = ET.fromstring(render(m, "svg"))
    crossing = groups(root, "cross-border")
    assert len(crossing) == 2 == sum(1 for e in m.edges if e.cross_border)
    for g in crossing:
        path = g.find(f"{SVG}path")
        assert path is not None
        assert path.get("stroke") == RED
        assert path.get("marker-end") == "url(#arrow-cross-border)"
    marker = next(el for el in root.iter(f"{SVG}marker") if el.get("id") == "arrow-cross-border")
    assert marker.find(f"{SVG}path").get("fill") == RED  # type: ignore[union-attr]
    for g in groups(root, "within-mainland"):
        assert g.find(f"{SVG}path").get("stroke") != RED  # type: ignore[union-attr]


def test_svg_layout_puts_mainland_left_of_outside_and_nothing_overlaps() -> None:
    m = example()
    lay = layout(m)
    sides = {g.location: g.box for g in lay.groups if g.level == "side"}
    for side in m.sides:
        box = sides[side.location]
        for node_id in side.nodes:
            b = lay.nodes[node_id]
            assert box.x < b.x and b.right < box.right and box.y < b.y and b.bottom < box.bottom
    boxes = list(lay.nodes.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a.right <= b.x or b.right <= a.x or a.bottom <= b.y or b.bottom <= a.y
    from ciiguard.model import Location

    assert sides[Location.MAINLAND].right < sides[Location.OUTSIDE].x
    assert lay.border_x is not None
    assert sides[Location.MAINLAND].right < lay.border_x < sides[Location.OUTSIDE].x
    for e in m.edges:
        if e.cross_border:  # from the right edge of the source to the left edge of the target
            start = re.match(r"M([\d.]+),", lay.edges[e.id].d)
            end = re.search(r" ([\d.]+),[\d.]+$", lay.edges[e.id].d)
            assert start and end
            assert float(start.group(1)) == lay.nodes[e.source].right
            assert float(end.group(1)) == lay.nodes[e.target].x


def test_svg_escapes_and_clips_what_does_not_fit() -> None:
    m = weird()
    root = ET.fromstring(render(m, "svg"))
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert any(WEIRD in t for t in titles)  # full address in the tooltip, unharmed
    labels = [t.text or "" for t in root.iter(f"{SVG}text") if t.get("font-size") == "12"]
    long = next(lbl for lbl in labels if lbl.startswith("aws_s3_bucket.very_long"))
    assert long.endswith("…") and len(long) < 45
    assert root.find(f"{SVG}title").text == 'Title with "quotes" & <angle> brackets'  # type: ignore[union-attr]


def test_an_incomplete_map_carries_a_banner() -> None:
    import dataclasses

    from ciiguard.model import ScanIssue

    broken = dataclasses.replace(
        cross_border_example(), errors=[ScanIssue("broken.tf", 3, "HCL syntax error")]
    )
    svg = render(build_map(broken), "svg")
    root = ET.fromstring(svg)
    assert any("INCOMPLETE" in (t.text or "") for t in root.iter(f"{SVG}text"))
    assert "broken.tf:3" in svg
    assert "INCOMPLETE" not in render(example(), "svg")


# -- HTML ---------------------------------------------------------------------------------------


class _Loads(HTMLParser):
    """Every URL an HTML page could load or navigate to, and the ids it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.meta: dict[str, str] = {}
        self.tags: list[str] = []

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


def test_html_is_self_contained() -> None:
    html = render(example(), "html")
    page = _Loads()
    page.feed(html)
    assert all(u.startswith("#") for u in page.urls), page.urls
    assert "link" not in page.tags and "iframe" not in page.tags and "img" not in page.tags
    assert all(u.startswith("url(#") for u in re.findall(r"url\([^)]*", html))
    assert "@import" not in html
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.I)
    csp = page.meta["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src" not in csp
    assert "<script src" not in html


def test_html_inlines_the_map_and_links_every_node_to_its_card() -> None:
    m = example()
    html = render(m, "html")
    page = _Loads()
    page.feed(html)
    assert html.count("<svg") == 1
    for n in m.nodes:
        assert f"d-{n.id}" in page.ids
        assert f"d-{n.id}" in page.links
    for v in m.violations:
        assert v.id in page.ids
    assert set(page.links) <= page.ids  # no dangling in-page link
    for c in m.classifications:
        assert f'<option value="{c}">' in html
    for p in m.policies:
        assert f'<option value="{p}">' in html
    assert "main.tf:28" in html  # the flow's source line, on the card of the bucket it copies


def test_html_escapes_user_text() -> None:
    html = render(weird(), "html")
    assert "<angle>" not in html and "&lt;angle&gt;" in html
    assert "a<b>" not in html


# -- Mermaid ------------------------------------------------------------------------------------


def _mermaid_labels(text: str) -> list[str]:
    return re.findall(r'\["(.*?)"\]', text) + re.findall(r'\|"(.*?)"\|', text)


def test_mermaid_structure() -> None:
    m = example()
    text = render(m, "mermaid")
    lines = [ln.strip() for ln in text.splitlines()]
    assert lines[0].startswith("%% Example map")
    assert "flowchart LR" in lines
    opened = sum(1 for ln in lines if ln.startswith("subgraph "))
    assert opened == sum(1 for ln in lines if ln == "end") == 2 + 2 + 4  # sides, clouds, regions
    for n in m.nodes:
        assert sum(1 for ln in lines if ln.startswith(f'{n.id}["')) == 1
    links = [ln for ln in lines if re.match(r"n\d+ (-->|==>|-\.->)\|", ln)]
    assert len(links) == len(m.edges)
    for i, (ln, e) in enumerate(zip(links, m.edges, strict=True)):
        assert ln.startswith(f"{e.source} ") and ln.endswith(f" {e.target}")
        assert ("==>" in ln) == e.cross_border
        style = next(s for s in lines if s.startswith(f"linkStyle {i} "))
        assert (f"stroke:{RED}" in style) == e.cross_border


def test_mermaid_escapes_labels() -> None:
    text = render(weird(), "mermaid")
    for label in _mermaid_labels(text):
        assert '"' not in label
        assert "<" not in label.replace("<br/>", "")
    assert "#quot;" in text and "#lt;b#gt;" in text
    assert "\n%% Title with" in "\n" + text


# -- DOT ----------------------------------------------------------------------------------------


def test_dot_structure() -> None:
    m = example()
    text = render(m, "dot")
    body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("//"))
    assert body.count("{") == body.count("}")
    assert body.startswith('digraph "residency_map" {')
    for e in m.edges:
        line = next(
            ln for ln in body.splitlines() if ln.strip().startswith(f"{e.source} -> {e.target} ")
        )
        assert (f'color="{RED}"' in line) == e.cross_border
    assert body.count("subgraph cluster_") == 2 + 2 + 4


def test_dot_escapes_quotes_and_backslashes() -> None:
    text = render(weird(), "dot")
    assert '\\"c #1' in text  # the address's quote, escaped
    assert 'Title with \\"quotes\\"' in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("builder", [example, weird])
def test_dot_renders_with_graphviz(builder) -> None:
    m = builder()
    proc = subprocess.run(
        ["dot", "-Tsvg"], input=render(m, "dot"), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    root = ET.fromstring(proc.stdout)
    edges = [g for g in root.iter(f"{SVG}g") if "edge" in (g.get("class") or "").split()]
    assert len(edges) == len(m.edges)
    red = [g for g in edges if "cross-border" in (g.get("class") or "")]
    assert len(red) == sum(1 for e in m.edges if e.cross_border)


def test_flows_that_jump_a_column_run_below_it_and_labels_keep_off_boxes() -> None:
    from ciiguard.model import Location
    from ciiguard.residency_map.layout import LABEL_CHAR, LABEL_H, Box, edge_label

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
    lay = layout(m)
    (edge,) = m.edges
    d = lay.edges[edge.id].d
    assert re.fullmatch(r"M[\d.]+,[\d.]+ H[\d.]+ V[\d.]+ H[\d.]+ V[\d.]+ H[\d.]+", d), d
    xs = [float(x) for x in re.findall(r"[HM]([\d.]+)", d)][1:3]  # the two vertical runs
    bus_y = float(re.findall(r"V([\d.]+)", d)[0])
    assert bus_y > lay.columns_bottom
    sides = [g.box for g in lay.groups if g.level == "side"]
    for x in xs:
        assert not any(b.x <= x <= b.right for b in sides), (x, sides)
    p = lay.edges[edge.id]
    w = len(edge_label(edge)) * LABEL_CHAR + 6
    label = Box(p.label_x - w / 2, p.label_y - LABEL_H + 2, w, LABEL_H)
    for b in lay.nodes.values():
        assert (
            label.right <= b.x or b.right <= label.x or label.bottom <= b.y or b.bottom <= label.y
        )
