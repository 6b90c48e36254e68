"""The map as SVG, laid out in pure Python (:mod:`.layout`): no Graphviz, no external service.

Styling is in presentation attributes, not CSS, so the picture looks the same in a browser, in an
``<img>`` on GitHub and in converters. Classes and ``data-*`` attributes are there for the HTML
page's search and filter, and for tests.
"""

from __future__ import annotations

from html import escape

from ciiguard.escaping import visible_lines
from ciiguard.model import Location
from ciiguard.residency_map.layout import Box, GroupBox, Layout, edge_label, layout
from ciiguard.residency_map.model import EdgeStatus, MapEdge, MapNode, NodeKind, ResidencyMap
from ciiguard.residency_map.style import (
    BLOCKING,
    CLASSIFIED_FILL,
    EDGE_COLOR,
    EDGE_LEGEND,
    INK,
    MONO,
    MUTED,
    PLAIN_STROKE,
    SANS,
    SIDE_FILL,
    SIDE_STROKE,
    badge_colors,
    classification_color,
    clip,
    edge_details,
    flag_rank,
    node_details,
    violation_flag,
)

MONO_CHAR = 7.3  # advance of a 12px monospace glyph, with a little slack
SANS_CHAR = 6.3  # average advance of an 11px sans-serif glyph, with slack
BADGE_W = 46


def _a(value: object) -> str:
    return escape(visible_lines(value), quote=True)


def _n(v: float) -> str:
    r = round(v, 1)
    return str(int(r)) if r == int(r) else str(r)


def _search_text(node: MapNode) -> str:
    parts = [
        node.address,
        node.label,
        node.type,
        node.cloud_name,
        node.region or "",
        node.region_name or "",
        node.where or "",
        node.classification or "",
    ]
    return " ".join(p for p in parts if p).lower()


def render_svg(m: ResidencyMap) -> str:
    """A standalone SVG document."""
    return svg_element(m, standalone=True)


def svg_element(m: ResidencyMap, standalone: bool) -> str:
    """The ``<svg>`` element. Standalone: with the XML namespace and its own title; inline (in the
    HTML page, which shows the title): nodes link to their cards."""
    lay = layout(m, header=standalone)
    out: list[str] = []
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    out.append(
        f'<svg{ns} class="residency-map" width="{_n(lay.width)}" height="{_n(lay.height)}" '
        f'viewBox="0 0 {_n(lay.width)} {_n(lay.height)}" font-family="{_a(SANS)}" '
        'role="img" aria-labelledby="map-title map-desc">'
    )
    out.append(f'<title id="map-title">{_a(m.title)}</title>')
    out.append(f'<desc id="map-desc">{_a(m.summary())}</desc>')
    out.append(_defs())
    out.append(
        f'<rect x="0" y="0" width="{_n(lay.width)}" height="{_n(lay.height)}" rx="12" '
        'fill="#ffffff"/>'
    )
    if lay.header:
        out.extend(_header(m, lay))
    out.append('<g class="groups">')
    for g in lay.groups:
        out.extend(_group(g))
    for side, g in zip(m.sides, [g for g in lay.groups if g.level == "side"], strict=True):
        if not side.clouds:
            out.append(
                f'<text x="{_n(g.box.x + 16)}" y="{_n(g.box.y + 74)}" font-size="12" '
                f'font-style="italic" fill="{MUTED}">no data-bearing resources</text>'
            )
    out.append("</g>")
    if lay.border_x is not None:
        out.extend(_border(lay))
    out.append('<g class="nodes">')
    for node in m.nodes:
        out.extend(_node(m, node, lay.nodes[node.id], link=not standalone))
    out.append("</g>")
    out.append('<g class="edges">')
    for edge in m.edges:
        out.extend(_edge(m, edge, lay))
    out.append("</g>")
    out.extend(_legend(m, lay))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _defs() -> str:
    markers = []
    for status in EdgeStatus:
        markers.append(
            f'<marker id="arrow-{status.value}" viewBox="0 0 10 10" refX="9" refY="5" '
            'markerWidth="11" markerHeight="11" markerUnits="userSpaceOnUse" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
            f'fill="{EDGE_COLOR[status]}"/></marker>'
        )
    return "<defs>" + "".join(markers) + "</defs>"


def _header(m: ResidencyMap, lay: Layout) -> list[str]:
    out = [
        '<g class="header">',
        f'<text x="24" y="46" font-size="20" font-weight="700" fill="{INK}">{_a(m.title)}</text>',
        f'<text x="24" y="70" font-size="13" fill="{MUTED}">{_a(m.summary())}</text>',
    ]
    if lay.banner:
        noun = "input" if len(m.errors) == 1 else "inputs"
        text = (
            f"INCOMPLETE: {len(m.errors)} {noun} could not be read; this map may be missing "
            "resources (first: " + clip(m.errors[0].render(), 70) + ")"
        )
        out.append(
            f'<rect class="incomplete" x="24" y="86" width="{_n(lay.width - 48)}" height="22" '
            f'rx="4" fill="{BLOCKING}"/>'
        )
        out.append(
            f'<text x="34" y="101" font-size="12" font-weight="700" fill="#ffffff">{_a(text)}</text>'
        )
    out.append("</g>")
    return out


def _group(g: GroupBox) -> list[str]:
    b = g.box
    if g.level == "side":
        return [
            f'<g class="side side-{g.location.value}">',
            f'<rect x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.w)}" height="{_n(b.h)}" rx="10" '
            f'fill="{SIDE_FILL[g.location]}" stroke="{SIDE_STROKE[g.location]}" '
            'stroke-width="1.5"/>',
            f'<text x="{_n(b.x + 14)}" y="{_n(b.y + 24)}" font-size="15" font-weight="700" '
            f'fill="{SIDE_STROKE[g.location]}">{_a(g.title)}</text>',
            f'<text x="{_n(b.x + 14)}" y="{_n(b.y + 41)}" font-size="11" fill="{MUTED}">'
            f"{_a(g.note)}</text>",
            "</g>",
        ]
    if g.level == "cloud":
        return [
            f'<g class="cloud"><rect x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.w)}" '
            f'height="{_n(b.h)}" rx="8" fill="#ffffff" fill-opacity="0.75" stroke="#b0bec5"/>',
            f'<text x="{_n(b.x + 10)}" y="{_n(b.y + 19)}" font-size="12.5" font-weight="700" '
            f'fill="{INK}">{_a(g.title)}</text></g>',
        ]
    room = int((b.w - 20) / SANS_CHAR)
    region = clip(g.title, room)
    name = clip(g.note, room - len(region) - 3) if g.note and room - len(region) > 6 else ""
    tail = f'<tspan fill="{MUTED}">  ·  {_a(name)}</tspan>' if name else ""
    return [
        f'<g class="region"><rect x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.w)}" '
        f'height="{_n(b.h)}" rx="6" fill="#f8fafb" stroke="#cfd8dc"/>',
        f'<text x="{_n(b.x + 9)}" y="{_n(b.y + 18)}" font-size="11.5" fill="{INK}">'
        f'<tspan font-family="{_a(MONO)}" font-weight="700">{_a(region)}</tspan>{tail}</text></g>',
    ]


def _border(lay: Layout) -> list[str]:
    x = lay.border_x
    assert x is not None
    return [
        '<g class="border">',
        f'<line x1="{_n(x)}" y1="{_n(lay.columns_top + 4)}" x2="{_n(x)}" '
        f'y2="{_n(lay.columns_bottom)}" stroke="{SIDE_STROKE[Location.OUTSIDE]}" '
        'stroke-width="1.2" stroke-dasharray="6 5" opacity="0.6"/>',
        f'<text x="{_n(x)}" y="{_n(lay.columns_top - 6)}" font-size="10.5" text-anchor="middle" '
        f'fill="{SIDE_STROKE[Location.OUTSIDE]}">border of mainland China</text>',
        "</g>",
    ]


def _node_policies(m: ResidencyMap, node: MapNode) -> list[tuple[str, str]]:
    """(policy, worst flag) badges for a node: its own violations and those of flows it sends."""
    out: dict[str, str] = {}
    for vid in node.violations:
        v = m.violation(vid).violation
        flag = violation_flag(v)
        if v.policy not in out or flag_rank(flag) < flag_rank(out[v.policy]):
            out[v.policy] = flag
    return sorted(out.items())


def _node(m: ResidencyMap, node: MapNode, b: Box, link: bool) -> list[str]:
    classes = ["node", f"kind-{node.kind.value}", f"loc-{node.location.value}"]
    classes.append("classified" if node.in_scope else "unclassified")
    badges = _node_policies(m, node)
    if badges:
        classes.append("has-violations")
    color = classification_color(node.classification) if node.in_scope else PLAIN_STROKE
    dashed = ' stroke-dasharray="5 3"' if node.kind is not NodeKind.RESOURCE else ""
    title = "\n".join(node_details(m, node))
    out = [
        f'<g class="{" ".join(classes)}" id="{node.id}" data-id="{node.id}" '
        f'data-classification="{_a(node.classification or "")}" '
        f'data-policies="{" ".join(m.policies_of(node.id))}" '
        f'data-search="{_a(_search_text(node))}">',
        f"<title>{_a(title)}</title>",
    ]
    if link:
        out.append(f'<a href="#d-{node.id}">')
    out.append(
        f'<rect x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.w)}" height="{_n(b.h)}" rx="6" '
        f'fill="{CLASSIFIED_FILL if node.in_scope else "#ffffff"}" stroke="{color}" '
        f'stroke-width="{"1.8" if node.in_scope else "1"}"{dashed}/>'
    )
    out.append(
        f'<rect x="{_n(b.x + 4)}" y="{_n(b.y + 7)}" width="4" height="{_n(b.h - 14)}" rx="2" '
        f'fill="{color if node.in_scope else "#cfd8dc"}"/>'
    )
    right = b.right - 8
    for i, (policy, flag) in enumerate(reversed(badges)):
        bx = right - (i + 1) * BADGE_W - i * 4
        fill, ink = badge_colors(flag)
        out.append(
            f'<rect class="badge {flag}" x="{_n(bx)}" y="{_n(b.y + 7)}" width="{BADGE_W}" '
            f'height="16" rx="3" fill="{fill}"/>'
        )
        out.append(
            f'<text x="{_n(bx + BADGE_W / 2)}" y="{_n(b.y + 19)}" font-size="10" '
            f'font-weight="700" text-anchor="middle" fill="{ink}">{_a(policy)}<title>{_a(flag)}'
            "</title></text>"
        )
    badge_room = len(badges) * (BADGE_W + 4)
    label = clip(node.label, int((b.w - 22 - badge_room) / MONO_CHAR))
    out.append(
        f'<text x="{_n(b.x + 14)}" y="{_n(b.y + 20)}" font-family="{_a(MONO)}" font-size="12" '
        f'font-weight="600" fill="{INK}">{_a(label)}</text>'
    )
    pill = 0.0
    if node.in_scope and node.classification:
        pill = len(node.classification) * 5.9 + 14
        px = right - pill
        out.append(
            f'<rect class="pill" x="{_n(px)}" y="{_n(b.y + 28)}" width="{_n(pill)}" '
            f'height="15" rx="7.5" fill="{color}"/>'
        )
        out.append(
            f'<text x="{_n(px + pill / 2)}" y="{_n(b.y + 39)}" font-size="10" font-weight="700" '
            f'text-anchor="middle" fill="#ffffff">{_a(node.classification)}</text>'
        )
    sub = node.subtitle
    if node.kind is NodeKind.RESOURCE and node.file:
        sub = f"{node.subtitle}  ·  {node.file.rsplit('/', 1)[-1]}"
        sub += f":{node.line}" if node.line else ""
    sub = clip(sub, int((b.w - 26 - pill) / SANS_CHAR))
    out.append(
        f'<text x="{_n(b.x + 14)}" y="{_n(b.y + 39)}" font-size="11" fill="{MUTED}">'
        f"{_a(sub)}</text>"
    )
    if link:
        out.append("</a>")
    out.append("</g>")
    return out


def _edge(m: ResidencyMap, edge: MapEdge, lay: Layout) -> list[str]:
    path = lay.edges[edge.id]
    color = EDGE_COLOR[edge.status]
    width = "2.8" if edge.classified else "1.8"
    dash = ' stroke-dasharray="6 4"' if edge.status is EdgeStatus.UNKNOWN else ""
    classes = ["edge", edge.status.value, "classified" if edge.classified else "unclassified"]
    title = "\n".join(edge_details(m, edge))
    label = edge_label(edge)
    return [
        f'<g class="{" ".join(classes)}" id="{edge.id}" data-source="{edge.source}" '
        f'data-target="{edge.target}" data-status="{edge.status.value}" '
        f'data-policies="{" ".join(m.edge_policies(edge))}">',
        f"<title>{_a(title)}</title>",
        f'<path d="{path.d}" fill="none" stroke="{color}" stroke-width="{width}"{dash} '
        f'marker-end="url(#arrow-{edge.status.value})"/>',
        f'<text x="{_n(path.label_x)}" y="{_n(path.label_y)}" font-size="10.5" '
        f'font-weight="600" text-anchor="middle" fill="{color}" stroke="#ffffff" '
        f'stroke-width="3" paint-order="stroke">{_a(label)}</text>',
        "</g>",
    ]


def _legend(m: ResidencyMap, lay: Layout) -> list[str]:
    y = lay.legend_y
    out = ['<g class="legend">']
    x = 24.0

    def swatch(fill: str, stroke: str, bar: str, dashed: bool, text: str) -> None:
        nonlocal x
        dash = ' stroke-dasharray="4 2"' if dashed else ""
        out.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="26" height="16" rx="3" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="1.4"{dash}/>'
        )
        out.append(
            f'<rect x="{_n(x + 3)}" y="{_n(y + 4)}" width="3" height="8" rx="1.5" fill="{bar}"/>'
        )
        out.append(
            f'<text x="{_n(x + 32)}" y="{_n(y + 12)}" font-size="11" fill="{INK}">{_a(text)}</text>'
        )
        x += 32 + len(text) * SANS_CHAR + 22

    accent = classification_color(None)
    swatch(CLASSIFIED_FILL, accent, accent, False, "classified data (in scope)")
    swatch("#ffffff", PLAIN_STROKE, "#cfd8dc", False, "not in scope")
    swatch("#ffffff", PLAIN_STROKE, "#cfd8dc", True, "replica or source with no resource here")
    out.append(
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{BADGE_W}" height="16" rx="3" fill="{BLOCKING}"/>'
        f'<text x="{_n(x + BADGE_W / 2)}" y="{_n(y + 12)}" font-size="10" font-weight="700" '
        f'text-anchor="middle" fill="#ffffff">CII00n</text>'
        f'<text x="{_n(x + BADGE_W + 6)}" y="{_n(y + 12)}" font-size="11" fill="{INK}">'
        "blocking violation</text>"
    )
    x = 24.0
    y2 = y + 28
    present = {e.status for e in m.edges}
    shown = [
        s for s in EdgeStatus if s in present or s in (EdgeStatus.CROSS_BORDER, EdgeStatus.MAINLAND)
    ]
    for status in shown:
        color = EDGE_COLOR[status]
        dash = ' stroke-dasharray="6 4"' if status is EdgeStatus.UNKNOWN else ""
        out.append(
            f'<path d="M{_n(x)},{_n(y2 + 8)} H{_n(x + 34)}" stroke="{color}" stroke-width="2.6"'
            f'{dash} marker-end="url(#arrow-{status.value})"/>'
        )
        text = EDGE_LEGEND[status]
        out.append(
            f'<text x="{_n(x + 42)}" y="{_n(y2 + 12)}" font-size="11" fill="{INK}">{_a(text)}</text>'
        )
        x += 42 + len(text) * SANS_CHAR + 24
    out.append("</g>")
    return out
