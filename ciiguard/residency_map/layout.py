"""A deterministic layout in pure Python (no Graphviz): one column per side of the border.

Columns left to right: mainland China, outside, and (only when needed) unknown. In each column a
frame per cloud, in it the units of the drawn level stacked: a box per region (summary), a region
frame holding a box per root module (roots), or region and root frames holding a box per
resource (resources). Arrows between neighbouring columns are curves across the gutter; arrows
inside one column bulge out into the gutter on its right; arrows that would jump a column run
along a bus below the columns, so no arrow crosses a box.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from ciiguard.model import Location
from ciiguard.residency_map.style import clip
from ciiguard.residency_map.view import PASS, Arrow, Detail, Unit, View

MARGIN = 24
HEADER_H = 78
BANNER_H = 26
NOTE_H = 26
COL_W = 360
SIDE_HEAD = 50
SIDE_PAD = 12
CLOUD_HEAD = 28
CLOUD_PAD = 10
CLOUD_GAP = 12
REGION_HEAD = 46  # a region frame: its id and name, and what it holds
REGION_PAD = 8
REGION_GAP = 10
ROOT_HEAD = 24
ROOT_PAD = 6
ROOT_GAP = 8
UNIT_GAP = 8
NODE_H = 60
EMPTY_H = 40
LANE_STEP = 16
BULGE = 64
BUS_STEP = 18
LEGEND_H = 56
LEVELS = ("side", "cloud", "region", "root")
GUTTERS = {Detail.SUMMARY: 230.0, Detail.ROOTS: 200.0, Detail.RESOURCES: 170.0}

CHIP_H = 16
CHIP_GAP = 5
ROW_H = 20
CHIP_CHAR = 5.8  # advance of a 10px bold sans-serif glyph, with slack
TEXT_CHAR = 6.3  # average advance of an 11px sans-serif glyph, with slack
MONO_CHAR = 7.3  # advance of a 12px monospace glyph, with a little slack
SUMMARY_TOP = 44  # a region box's title and description lines, above its chips


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass(frozen=True)
class GroupBox:
    """A side, cloud, region or root frame with its heading (``unit``: the region or root)."""

    level: str  # "side" | "cloud" | "region" | "root"
    location: Location
    title: str
    note: str
    box: Box
    unit: Unit | None = None


@dataclass(frozen=True)
class Chip:
    """A count drawn as a pill in a region box: a classification or a verdict."""

    text: str  # already shortened to fit ``width`` when it had to be
    kind: str  # "classification" | "verdict"
    value: str  # the classification or the verdict it counts
    width: float


@dataclass(frozen=True)
class EdgePath:
    edge_id: str
    d: str  # SVG path data
    label_x: float  # centre of the label's baseline
    label_y: float


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    header: bool
    banner: bool
    notes: int  # visible notes under the header (a fallback to a coarser level)
    groups: tuple[GroupBox, ...]
    nodes: dict[str, Box]  # unit id -> box
    chips: dict[str, tuple[tuple[Chip, ...], ...]]  # summary unit id -> rows of chips
    edges: dict[str, EdgePath]  # arrow id -> path
    border_x: float | None  # the line between the mainland and the outside columns
    columns_top: float
    columns_bottom: float
    legend_y: float


def _n(v: float) -> str:
    """Numbers in path data: integers stay integers, so the output is stable and short."""
    r = round(v, 1)
    return str(int(r)) if r == int(r) else str(r)


def chip_width(text: str) -> float:
    return len(text) * CHIP_CHAR + 14


def verdict_mark(verdict: str) -> str:
    return "✓" if verdict == PASS else "✗" if verdict == "blocking" else "•"


def verdict_text(verdict: str, count: int) -> str:
    return f"{verdict_mark(verdict)} {count:,} {verdict}"


def summary_chips(unit: Unit, width: float) -> tuple[tuple[Chip, ...], ...]:
    """The counts of a region box as rows of pills that fit ``width``: classifications, then
    verdicts, each kind starting a new row."""
    rows: list[tuple[Chip, ...]] = []
    for kind, items in (
        ("classification", [(c, f"{c} {n:,}") for c, n in unit.tally.classifications]),
        ("verdict", [(v, verdict_text(v, n)) for v, n in unit.tally.verdicts]),
    ):
        row: list[Chip] = []
        used = 0.0
        for value, text in items:
            w = min(chip_width(text), width)
            if w < chip_width(text):
                text = clip(text, int((w - 14) / CHIP_CHAR))
            if row and used + w > width:
                rows.append(tuple(row))
                row, used = [], 0.0
            row.append(Chip(text, kind, value, w))
            used += w + CHIP_GAP
        if row:
            rows.append(tuple(row))
    return tuple(rows)


def summary_height(rows: int) -> float:
    return SUMMARY_TOP + rows * ROW_H + 6


def layout(v: View, header: bool = True) -> Layout:
    """Geometry of the whole picture; ``header=False`` leaves out the title (a page shows its own)."""
    m = v.map
    banner = header and not m.complete
    notes = 1 if header and v.fallback else 0
    top: float = MARGIN + (
        HEADER_H + (BANNER_H if banner else 0) + NOTE_H * notes if header else 16
    )
    gutter = GUTTERS[v.detail]
    groups: list[GroupBox] = []
    boxes: dict[str, Box] = {}
    chips: dict[str, tuple[tuple[Chip, ...], ...]] = {}
    column: dict[str, int] = {}
    col_x: list[float] = []
    heights: list[float] = []
    for ci, side in enumerate(v.sides):
        x = MARGIN + ci * (COL_W + gutter)
        col_x.append(x)
        y: float = top + SIDE_HEAD
        if not side.clouds:
            y += EMPTY_H
        for cloud in side.clouds:
            cloud_top = y
            y += CLOUD_HEAD
            rx = x + SIDE_PAD + CLOUD_PAD
            rw = COL_W - 2 * (SIDE_PAD + CLOUD_PAD)
            for region in cloud.regions:
                unit = region.unit
                if v.detail is Detail.SUMMARY:
                    rows = summary_chips(unit, rw - 20)
                    chips[unit.id] = rows
                    boxes[unit.id] = Box(rx, y, rw, summary_height(len(rows)))
                    column[unit.id] = ci
                    y += boxes[unit.id].h + REGION_GAP
                    continue
                region_top = y
                y += REGION_HEAD
                ux = rx + REGION_PAD
                uw = rw - 2 * REGION_PAD
                for root in region.roots:
                    if v.detail is Detail.ROOTS:
                        rows = summary_chips(root.unit, uw - 20)
                        chips[root.unit.id] = rows
                        boxes[root.unit.id] = Box(ux, y, uw, summary_height(len(rows)))
                        column[root.unit.id] = ci
                        y += boxes[root.unit.id].h + UNIT_GAP
                        continue
                    root_top = y
                    y += ROOT_HEAD
                    for node in root.nodes:
                        boxes[node.id] = Box(ux + ROOT_PAD, y, uw - 2 * ROOT_PAD, NODE_H)
                        column[node.id] = ci
                        y += NODE_H + UNIT_GAP
                    y += ROOT_PAD - UNIT_GAP
                    groups.append(
                        GroupBox(
                            "root",
                            side.location,
                            root.unit.root or "",
                            "",
                            Box(ux, root_top, uw, y - root_top),
                            root.unit,
                        )
                    )
                    y += ROOT_GAP
                y += REGION_PAD - (UNIT_GAP if v.detail is Detail.ROOTS else ROOT_GAP)
                groups.append(
                    GroupBox(
                        "region",
                        side.location,
                        unit.region_title,
                        unit.region_name or "",
                        Box(rx, region_top, rw, y - region_top),
                        unit,
                    )
                )
                y += REGION_GAP
            y += CLOUD_PAD - REGION_GAP
            groups.append(
                GroupBox(
                    "cloud",
                    side.location,
                    cloud.name,
                    "",
                    Box(x + SIDE_PAD, cloud_top, COL_W - 2 * SIDE_PAD, y - cloud_top),
                )
            )
            y += CLOUD_GAP
        heights.append(y - top + SIDE_PAD - (CLOUD_GAP if side.clouds else 0))
    col_h = max(heights) if heights else SIDE_HEAD + EMPTY_H
    for ci, side in enumerate(v.sides):
        groups.insert(
            ci,
            GroupBox(
                "side", side.location, side.title, side.note, Box(col_x[ci], top, COL_W, col_h)
            ),
        )
    groups.sort(key=lambda g: LEVELS.index(g.level))  # frames first, so none hides another
    bottom = top + col_h

    edges, bus_lanes, right_extra = _route(v, boxes, column, bottom)
    legend_y = bottom + (BUS_STEP * bus_lanes + LABEL_H + 8 if bus_lanes else 0) + 20
    width = MARGIN * 2 + len(v.sides) * COL_W + (len(v.sides) - 1) * gutter + right_extra
    border_x = None
    if len(v.sides) >= 2:
        border_x = MARGIN + COL_W + gutter / 2
    return Layout(
        width=width,
        height=legend_y + LEGEND_H + MARGIN,
        header=header,
        banner=banner,
        notes=notes,
        groups=tuple(groups),
        nodes=boxes,
        chips=chips,
        edges=edges,
        border_x=border_x,
        columns_top=top,
        columns_bottom=bottom,
        legend_y=legend_y,
    )


def arrow_lines(v: View, arrow: Arrow) -> tuple[str, ...]:
    """The text along an arrow: how many flows of which kinds (one flow: its kind); then, when
    there is something to say, ``cross-border`` and its worst verdict (``✗ blocking``)."""
    what = arrow.label() if arrow.count > 1 or v.detail is not Detail.RESOURCES else arrow.kinds[0]
    how = ["cross-border"] if arrow.cross_border else []
    if arrow.verdict != PASS:
        how.append(f"{verdict_mark(arrow.verdict)} {arrow.verdict}")
    return (what, " · ".join(how)) if how else (what,)


def arrow_label(v: View, arrow: Arrow) -> str:
    """:func:`arrow_lines` on one line."""
    return " · ".join(arrow_lines(v, arrow))


def arrow_width(arrow: Arrow) -> float:
    """Stroke width grows with the number of flows folded into the arrow (logarithmically)."""
    base = 2.8 if arrow.classified else 1.8
    return round(min(8.0, base + math.log2(arrow.count)), 1)


LABEL_CHAR = 6.2  # advance of a 10.5px bold sans-serif glyph, with slack
LABEL_H = 13.0
SPOTS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78)


def _bezier(p: tuple[float, ...], t: float) -> tuple[float, float]:
    x0, y0, x1, y1, x2, y2, x3, y3 = p
    u = 1 - t
    a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    return a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3


def _overlaps(a: Box, b: Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


class _Occupied:
    """Boxes already drawn, bucketed in a grid of cells, so that trying a label looks only at the
    boxes in the cells it covers. (Bands across the whole width, with every box near the arrow
    gathered first, grew quadratically with many crossing arrows: an arrow between two far-apart
    rows gathered every label placed between them.)"""

    CELL_W = 128.0
    CELL_H = 64.0

    def __init__(self, boxes: list[Box]) -> None:
        self.cells: dict[tuple[int, int], list[Box]] = {}
        for b in boxes:
            self.add(b)

    def _cells(self, b: Box) -> Iterator[tuple[int, int]]:
        w, h = self.CELL_W, self.CELL_H
        rows = range(int(b.y // h), int(b.bottom // h) + 1)
        for col in range(int(b.x // w), int(b.right // w) + 1):
            for row in rows:
                yield col, row

    def add(self, b: Box) -> None:
        for cell in self._cells(b):
            self.cells.setdefault(cell, []).append(b)

    def free(self, box: Box) -> bool:
        """Whether ``box`` overlaps no box added so far."""
        cells = self.cells
        for cell in self._cells(box):
            for other in cells.get(cell, ()):
                if _overlaps(box, other):
                    return False
        return True


def _route(
    v: View, nodes: dict[str, Box], column: dict[str, int], bottom: float
) -> tuple[dict[str, EdgePath], int, float]:
    """Paths for every arrow, the number of bus lanes used, and extra width the last column needs."""
    arrows = v.arrows
    # Which side of each box every arrow end uses: "r" (right) or "l" (left).
    ends: dict[str, tuple[str, str]] = {}
    for a in arrows:
        cs, ct = column[a.source], column[a.target]
        ends[a.id] = ("r", "r") if cs == ct else (("r", "l") if cs < ct else ("l", "r"))
    # Spread the ends that share a box side, ordered by where the other end is, to avoid crossings.
    ports: dict[tuple[str, str], list[tuple[float, str, str]]] = {}
    for a in arrows:
        s_side, t_side = ends[a.id]
        ports.setdefault((a.source, s_side), []).append((nodes[a.target].y, a.id, "s"))
        ports.setdefault((a.target, t_side), []).append((nodes[a.source].y, a.id, "t"))
    port_y: dict[tuple[str, str], float] = {}
    for (node_id, _side), items in ports.items():
        items.sort()
        box = nodes[node_id]
        for k, (_, edge_id, which) in enumerate(items):
            port_y[(edge_id, which)] = box.y + box.h * (k + 1) / (len(items) + 1)

    paths: dict[str, EdgePath] = {}
    placed = _Occupied(list(nodes.values()))  # labels keep off boxes and off each other
    lanes: dict[int, int] = {}  # column -> same-column arrows routed so far
    bus = 0
    right_extra = 0.0
    last_col = max(column.values(), default=0)
    inset = SIDE_PAD + CLOUD_PAD + (0 if v.detail is Detail.SUMMARY else REGION_PAD)
    if v.detail is Detail.RESOURCES:
        inset += ROOT_PAD
    for a in arrows:
        sb, tb = nodes[a.source], nodes[a.target]
        cs, ct = column[a.source], column[a.target]
        y1, y2 = port_y[(a.id, "s")], port_y[(a.id, "t")]
        lines = arrow_lines(v, a)
        w = max(len(line) for line in lines) * LABEL_CHAR + 6
        h = LABEL_H * len(lines)
        if cs == ct:
            lane = lanes.get(cs, 0)
            lanes[cs] = lane + 1
            x = sb.right
            b = BULGE + LANE_STEP * lane + inset
            curve = (x, y1, x + b, y1, x + b, y2, x, y2)
            d = f"M{_n(x)},{_n(y1)} C{_n(x + b)},{_n(y1)} {_n(x + b)},{_n(y2)} {_n(x)},{_n(y2)}"
            spots = [_bezier(curve, t) for t in SPOTS]
            spots = [(px + w / 2 + 4, py) for px, py in spots]  # beside the bulge, not on it
            if cs == last_col:
                right_extra = max(right_extra, 0.75 * b + w + 16 - inset)
        elif abs(cs - ct) == 1:
            x1 = sb.right if cs < ct else sb.x
            x2 = tb.x if cs < ct else tb.right
            dx = (x2 - x1) / 2
            curve = (x1, y1, x1 + dx, y1, x2 - dx, y2, x2, y2)
            d = (
                f"M{_n(x1)},{_n(y1)} C{_n(x1 + dx)},{_n(y1)} {_n(x2 - dx)},{_n(y2)} "
                f"{_n(x2)},{_n(y2)}"
            )
            spots = [_bezier(curve, t) for t in SPOTS]
        else:
            bus += 1
            yb = bottom + BUS_STEP * bus
            step = 1 if cs < ct else -1
            off = 16 + (bus % 8) * 6
            x1 = sb.right if step > 0 else sb.x
            x2 = tb.x if step > 0 else tb.right
            gx1 = x1 + step * (inset + off)
            gx2 = x2 - step * (inset + off)
            d = f"M{_n(x1)},{_n(y1)} H{_n(gx1)} V{_n(yb)} H{_n(gx2)} V{_n(y2)} H{_n(x2)}"
            spots = [(gx1 + (gx2 - gx1) * t, yb + LABEL_H) for t in SPOTS]  # under the bus
        cx, cy = _place_label(spots, w, h, placed)
        paths[a.id] = EdgePath(a.id, d, cx, cy)
    return paths, bus, right_extra


def _place_label(
    spots: list[tuple[float, float]], w: float, h: float, placed: _Occupied
) -> tuple[float, float]:
    """The first spot along the arrow where the label (``w`` by ``h``, its first baseline at the
    spot) covers no box and no other label."""
    for nudge in (0.0, -LABEL_H, LABEL_H, -2 * LABEL_H, 2 * LABEL_H):
        for cx, cy in spots:
            box = Box(cx - w / 2, cy + nudge - LABEL_H + 2, w, h)
            if placed.free(box):
                placed.add(box)
                return cx, cy + nudge
    cx, cy = spots[0]
    return cx, cy
