"""The map as SVG, laid out in pure Python (:mod:`.layout`): no Graphviz, no external service.

Styling is in presentation attributes, not CSS, so the picture looks the same in a browser, in an
``<img>`` on GitHub and in converters. Classes and ``data-*`` attributes are there for the HTML
page's search and filter, and for tests. Every piece of text from the scanned tree is escaped.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from ciiguard.escaping import visible_lines
from ciiguard.model import Location
from ciiguard.residency_map.layout import (
    CHIP_H,
    LABEL_H,
    MONO_CHAR,
    ROW_H,
    SUMMARY_TOP,
    TEXT_CHAR,
    Box,
    Chip,
    GroupBox,
    Layout,
    arrow_lines,
    arrow_width,
    chip_width,
    layout,
    verdict_text,
)
from ciiguard.residency_map.model import EdgeStatus, MapNode, NodeKind, ResidencyMap
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
    classification_colors,
    clip,
    clip_left,
    flag_rank,
    issue_brief,
    node_details,
    verdict_colors,
    violation_flag,
)
from ciiguard.residency_map.view import (
    PASS,
    Arrow,
    Detail,
    Unit,
    View,
    arrow_details,
    build_view,
    unit_details,
)

BADGE_W = 46
FALLBACK_FILL = "#fff3cd"


def _a(value: object) -> str:
    return escape(visible_lines(value), quote=True)


def _n(v: float) -> str:
    r = round(v, 1)
    return str(int(r)) if r == int(r) else str(r)


def search_text(node: MapNode) -> str:
    """What the HTML page's search matches a node against, lower-cased."""
    parts = [
        node.address,
        node.label,
        node.type,
        node.type_label,
        node.cloud_name,
        node.region or "",
        node.region_name or "",
        node.root,
        node.where or "",
        node.classification or "",
    ]
    return " ".join(dict.fromkeys(p for p in parts if p)).lower()


def render_svg(m: ResidencyMap, detail: Detail = Detail.SUMMARY) -> str:
    """A standalone SVG document of the map at ``detail`` (a file has no size limit to fit)."""
    return svg_element(build_view(m, detail), standalone=True)


def svg_element(v: View, standalone: bool) -> str:
    """The ``<svg>`` element. Standalone: with the XML namespace and its own title; inline (in the
    HTML page, which shows the title): units link to the page's details."""
    m = v.map
    lay = layout(v, header=standalone)
    out: list[str] = []
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    out.append(
        f'<svg{ns} class="residency-map detail-{v.detail.value}" width="{_n(lay.width)}" '
        f'height="{_n(lay.height)}" viewBox="0 0 {_n(lay.width)} {_n(lay.height)}" '
        f'font-family="{_a(SANS)}" role="img" aria-labelledby="map-title map-desc">'
    )
    out.append(f'<title id="map-title">{_a(_title(m))}</title>')
    out.append(f'<desc id="map-desc">{_a(m.summary())}</desc>')
    out.append(_defs())
    out.append(
        f'<rect x="0" y="0" width="{_n(lay.width)}" height="{_n(lay.height)}" rx="12" '
        'fill="#ffffff"/>'
    )
    if lay.header:
        out.extend(_header(v, lay))
    out.append('<g class="groups">')
    for g in lay.groups:
        out.extend(_group(v, g))
    for side, g in zip(v.sides, [g for g in lay.groups if g.level == "side"], strict=True):
        if not side.clouds:
            out.append(
                f'<text x="{_n(g.box.x + 16)}" y="{_n(g.box.y + 74)}" font-size="12" '
                f'font-style="italic" fill="{MUTED}">no data-bearing resources</text>'
            )
    out.append("</g>")
    if lay.border_x is not None:
        out.extend(_border(lay))
    out.append('<g class="units">')
    for unit in v.units:
        box = lay.nodes[unit.id]
        if v.detail is not Detail.RESOURCES:
            out.extend(_counted_unit(v, unit, box, lay, link=not standalone))
        else:
            out.extend(_node(m, m.node(unit.id), box, link=not standalone))
    out.append("</g>")
    out.append('<g class="edges">')
    for arrow in v.arrows:
        out.extend(_arrow(v, arrow, lay))
    out.append("</g>")
    out.extend(_legend(v, lay))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _title(m: ResidencyMap) -> str:
    return m.title if m.complete else f"INCOMPLETE: {m.title}"


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


def incomplete_text(m: ResidencyMap, room: int) -> str:
    """The banner of a map drawn from an incomplete scan: how many inputs, and the first one."""
    noun = "input" if len(m.errors) == 1 else "inputs"
    head = (
        f"INCOMPLETE: {len(m.errors)} {noun} could not be read; this map may be missing resources"
    )
    first = issue_brief(m.errors[0], max(30, room - len(head) - 10))
    return f"{head} (first: {first})"


def _header(v: View, lay: Layout) -> list[str]:
    m = v.map
    room = int((lay.width - 68) / 6.6)
    out = [
        '<g class="header">',
        f'<text x="24" y="46" font-size="20" font-weight="700" fill="{INK}">'
        f"{_a(clip(m.title, int((lay.width - 48) / 11)))}</text>",
        f'<text x="24" y="70" font-size="13" fill="{MUTED}">{_a(m.summary())}</text>',
    ]
    y = 86
    if lay.banner:
        out.append(
            f'<rect class="incomplete" x="24" y="{y}" width="{_n(lay.width - 48)}" height="22" '
            f'rx="4" fill="{BLOCKING}"/>'
        )
        out.append(
            f'<text x="34" y="{y + 15}" font-size="12" font-weight="700" fill="#ffffff">'
            f"{_a(incomplete_text(m, room))}</text>"
        )
        y += 26
    if lay.notes:
        out.append(
            f'<rect class="fallback" x="24" y="{y}" width="{_n(lay.width - 48)}" height="22" '
            f'rx="4" fill="{FALLBACK_FILL}" stroke="#f9a825"/>'
        )
        out.append(
            f'<text x="34" y="{y + 15}" font-size="12" fill="{INK}">'
            f"{_a(clip(v.fallback, room))}</text>"
        )
    out.append("</g>")
    return out


def _group(v: View, g: GroupBox) -> list[str]:
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
    assert g.unit is not None
    if g.level == "root":
        room = int((b.w - 20) / 6.8)
        return [
            f'<g class="root-frame" data-key="{_a(g.unit.key)}"><rect x="{_n(b.x)}" '
            f'y="{_n(b.y)}" width="{_n(b.w)}" height="{_n(b.h)}" rx="5" fill="#ffffff" '
            'stroke="#dfe5e8" stroke-dasharray="3 2"/>',
            f'<text x="{_n(b.x + 8)}" y="{_n(b.y + 16)}" font-size="11" '
            f'font-family="{_a(MONO)}" fill="{MUTED}">'
            f"<title>{_a(g.title)}</title>{_a(clip_left(g.title or '.', room))}</text></g>",
        ]
    out = [
        f'<g class="region" data-key="{_a(g.unit.key)}"><rect x="{_n(b.x)}" y="{_n(b.y)}" '
        f'width="{_n(b.w)}" height="{_n(b.h)}" rx="6" fill="#f8fafb" stroke="#cfd8dc"/>',
        f"<title>{_a(chr(10).join(unit_details(v, g.unit)))}</title>",
        _region_heading(g.unit, b),
        f'<text x="{_n(b.x + 9)}" y="{_n(b.y + 36)}" font-size="11" fill="{MUTED}">'
        f"{_a(clip(_frame_line(g.unit), int((b.w - 18) / TEXT_CHAR)))}</text></g>",
    ]
    return out


def _frame_line(unit: Unit) -> str:
    """A region frame's second line: what it holds and its verdicts."""
    counts = " · ".join(verdict_text(verdict, n) for verdict, n in unit.tally.verdicts)
    return f"{unit.tally.describe()} · {counts}"


def _region_heading(unit: Unit, b: Box) -> str:
    room = int((b.w - 20) / TEXT_CHAR)
    region = clip(unit.region_title, room)
    name = unit.region_name or ""
    name = clip(name, room - len(region) - 3) if name and room - len(region) > 6 else ""
    tail = f'<tspan fill="{MUTED}">  ·  {_a(name)}</tspan>' if name else ""
    return (
        f'<text class="unit-title" x="{_n(b.x + 9)}" y="{_n(b.y + 18)}" font-size="11.5" '
        f'fill="{INK}"><tspan font-family="{_a(MONO)}" font-weight="700">{_a(region)}</tspan>'
        f"{tail}</text>"
    )


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


def _chip(chip: Chip, x: float, y: float) -> str:
    if chip.kind == "verdict":
        fill, ink = verdict_colors(chip.value)
    else:
        fill, ink = classification_colors(chip.value)
    text = chip.text
    return (
        f'<g class="chip {chip.kind}" data-value="{_a(chip.value)}">'
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(chip.width)}" height="{CHIP_H}" rx="8" '
        f'fill="{fill}"/><text x="{_n(x + chip.width / 2)}" y="{_n(y + 11.5)}" font-size="10" '
        f'font-weight="700" text-anchor="middle" fill="{ink}">{_a(text)}</text></g>'
    )


def _counted_unit(v: View, unit: Unit, b: Box, lay: Layout, link: bool) -> list[str]:
    """A region (summary level) or a root module (roots level): what names it, what it holds,
    and its counts as pills."""
    verdict = unit.tally.verdict
    stroke = BLOCKING if verdict == "blocking" else SIDE_STROKE[unit.location]
    width = "2.2" if verdict == "blocking" else "1.3"
    inner = v.inner_flows.get(unit.id, 0)
    line = unit.tally.describe() + (f" · {inner:,} flows inside" if inner else "")
    what = "region-unit" if unit.level is Detail.SUMMARY else "root-unit"
    out = [
        f'<g class="unit {what} loc-{unit.location.value} verdict-{_a(verdict)}" '
        f'id="{unit.id}" data-key="{_a(unit.key)}">',
        f"<title>{_a(chr(10).join(unit_details(v, unit)))}</title>",
    ]
    link = link and unit.level is Detail.SUMMARY
    if link:
        out.append(f'<a href="#region={_a(_fragment(unit.key))}">')
    out.append(
        f'<rect class="frame" x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.w)}" height="{_n(b.h)}" '
        f'rx="6" fill="#ffffff" stroke="{stroke}" stroke-width="{width}"/>'
    )
    if unit.level is Detail.SUMMARY:
        out.append(_region_heading(unit, b))
    else:
        out.append(
            f'<text class="unit-title" x="{_n(b.x + 9)}" y="{_n(b.y + 18)}" '
            f'font-family="{_a(MONO)}" font-size="12" font-weight="600" fill="{INK}">'
            f"{_a(clip_left(unit.root or '.', int((b.w - 18) / MONO_CHAR)))}</text>"
        )
    out.append(
        f'<text class="unit-line" x="{_n(b.x + 9)}" y="{_n(b.y + 36)}" font-size="11" '
        f'fill="{MUTED}">{_a(clip(line, int((b.w - 18) / TEXT_CHAR)))}</text>'
    )
    y = b.y + SUMMARY_TOP
    for row in lay.chips.get(unit.id, ()):
        x = b.x + 9
        for chip in row:
            out.append(_chip(chip, x, y))
            x += chip.width + 5
        y += ROW_H
    if link:
        # filled in by the page's script with the number of resources a search or filter matches
        out.append(
            f'<text class="matches" x="{_n(b.right - 8)}" y="{_n(b.y + 18)}" font-size="11" '
            f'font-weight="700" text-anchor="end" fill="#1565c0"></text>'
        )
        out.append("</a>")
    out.append("</g>")
    return out


def _fragment(key: str) -> str:
    """A deep-link value, percent-encoded as the page's script decodes it."""
    return quote(key, safe="/:")


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
    """A resource (or a replica, or an outside origin): name, type, and where it is declared."""
    classes = ["unit", "node", f"kind-{node.kind.value}", f"loc-{node.location.value}"]
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
        f'data-search="{_a(search_text(node))}">',
        f"<title>{_a(title)}</title>",
    ]
    if link:
        out.append(f'<a href="#node={node.id}">')
    out.append(
        f'<rect class="frame" x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.w)}" height="{_n(b.h)}" '
        f'rx="6" fill="{CLASSIFIED_FILL if node.in_scope else "#ffffff"}" stroke="{color}" '
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
    label = clip(node.name or node.label, int((b.w - 22 - badge_room) / MONO_CHAR))
    out.append(
        f'<text class="unit-title" x="{_n(b.x + 14)}" y="{_n(b.y + 20)}" '
        f'font-family="{_a(MONO)}" font-size="12" font-weight="600" fill="{INK}">'
        f"{_a(label)}</text>"
    )
    pill = 0.0
    if node.scope_label:
        pill = len(node.scope_label) * 5.9 + 14
        px = right - pill
        out.append(
            f'<rect class="pill" x="{_n(px)}" y="{_n(b.y + 27)}" width="{_n(pill)}" '
            f'height="15" rx="7.5" fill="{color}"/>'
        )
        out.append(
            f'<text x="{_n(px + pill / 2)}" y="{_n(b.y + 38)}" font-size="10" font-weight="700" '
            f'text-anchor="middle" fill="#ffffff">{_a(node.scope_label)}</text>'
        )
    kind = node.type_label if node.kind is NodeKind.RESOURCE else node.subtitle
    out.append(
        f'<text class="unit-line" x="{_n(b.x + 14)}" y="{_n(b.y + 38)}" font-size="11" '
        f'fill="{MUTED}">{_a(clip(kind, int((b.w - 26 - pill) / TEXT_CHAR)))}</text>'
    )
    where = node.where_in_root or ""
    if where:
        out.append(
            f'<text class="unit-line" x="{_n(b.x + 14)}" y="{_n(b.y + 53)}" font-size="10.5" '
            f'font-family="{_a(MONO)}" fill="{MUTED}">'
            f"{_a(clip_left(where, int((b.w - 26) / 6.5)))}</text>"
        )
    if link:
        out.append("</a>")
    out.append("</g>")
    return out


def _arrow(v: View, arrow: Arrow, lay: Layout) -> list[str]:
    path = lay.edges[arrow.id]
    color = EDGE_COLOR[arrow.status]
    dash = ' stroke-dasharray="6 4"' if arrow.status is EdgeStatus.UNKNOWN else ""
    classes = [
        "edge",
        "arrow",
        arrow.status.value,
        "classified" if arrow.classified else "unclassified",
        f"verdict-{arrow.verdict}",
    ]
    title = "\n".join(arrow_details(v, arrow))
    lines = arrow_lines(v, arrow)
    label = "".join(
        f'<tspan x="{_n(path.label_x)}" dy="{0 if i == 0 else _n(LABEL_H)}">{_a(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return [
        f'<g class="{" ".join(classes)}" id="{arrow.id}" data-source="{arrow.source}" '
        f'data-target="{arrow.target}" data-status="{arrow.status.value}" '
        f'data-count="{arrow.count}" data-policies="{" ".join(arrow.policies)}">',
        f"<title>{_a(title)}</title>",
        f'<path d="{path.d}" fill="none" stroke="{color}" stroke-width="{arrow_width(arrow)}"'
        f'{dash} marker-end="url(#arrow-{arrow.status.value})"/>',
        f'<text x="{_n(path.label_x)}" y="{_n(path.label_y)}" font-size="10.5" '
        f'font-weight="600" text-anchor="middle" fill="{color}" stroke="#ffffff" '
        f'stroke-width="3" paint-order="stroke">{label}</text>',
        "</g>",
    ]


def _legend(v: View, lay: Layout) -> list[str]:
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
        x += 32 + len(text) * TEXT_CHAR + 22

    def pill(fill: str, ink: str, text: str, note: str) -> None:
        nonlocal x
        w = chip_width(text)
        out.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="16" rx="8" fill="{fill}"/>'
            f'<text x="{_n(x + w / 2)}" y="{_n(y + 11.5)}" font-size="10" font-weight="700" '
            f'text-anchor="middle" fill="{ink}">{_a(text)}</text>'
            f'<text x="{_n(x + w + 6)}" y="{_n(y + 12)}" font-size="11" fill="{INK}">'
            f"{_a(note)}</text>"
        )
        x += w + 6 + len(note) * TEXT_CHAR + 22

    if v.detail is Detail.RESOURCES:
        accent = classification_color(None)
        swatch(CLASSIFIED_FILL, accent, accent, False, "classified data (in scope)")
        swatch("#ffffff", PLAIN_STROKE, "#cfd8dc", False, "not in scope")
        swatch("#ffffff", PLAIN_STROKE, "#cfd8dc", True, "replica or source with no resource here")
        out.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{BADGE_W}" height="16" rx="3" '
            f'fill="{BLOCKING}"/><text x="{_n(x + BADGE_W / 2)}" y="{_n(y + 12)}" '
            'font-size="10" font-weight="700" text-anchor="middle" fill="#ffffff">CII00n</text>'
            f'<text x="{_n(x + BADGE_W + 6)}" y="{_n(y + 12)}" font-size="11" fill="{INK}">'
            "blocking violation</text>"
        )
    else:
        what = "region" if v.detail is Detail.SUMMARY else "root module"
        fill, ink = classification_colors("personal")
        pill(fill, ink, "personal 12", f"classified resources in the {what}")
        fill, ink = verdict_colors("blocking")
        pill(fill, ink, verdict_text("blocking", 3), "with a blocking violation")
        fill, ink = verdict_colors(PASS)
        pill(fill, ink, verdict_text(PASS, 9), "with none")
    x = 24.0
    y2 = y + 28
    present = {a.status for a in v.arrows}
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
        x += 42 + len(text) * TEXT_CHAR + 24
    if v.detail is not Detail.RESOURCES:
        out.append(
            f'<text x="{_n(x)}" y="{_n(y2 + 12)}" font-size="11" fill="{MUTED}">'
            "n flows: kinds, folded into one arrow; thicker means more</text>"
        )
    out.append("</g>")
    return out
