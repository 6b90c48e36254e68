"""A deterministic layout in pure Python (no Graphviz): one column per side of the border.

Columns left to right: mainland China, outside, and (only when needed) unknown. In each column a
box per cloud, in it a box per region, in it the nodes stacked. Flows between neighbouring
columns are curves across the gutter; flows inside one column bulge out into the gutter on its
right; flows that would jump a column run along a bus below the columns, so no arrow crosses a box.
"""

from __future__ import annotations

from dataclasses import dataclass

from ciiguard.model import Location
from ciiguard.residency_map.model import MapEdge, ResidencyMap

MARGIN = 24
HEADER_H = 78
BANNER_H = 26
COL_W = 360
GUTTER = 170
SIDE_HEAD = 50
SIDE_PAD = 12
CLOUD_HEAD = 28
CLOUD_PAD = 10
CLOUD_GAP = 12
REGION_HEAD = 28
REGION_PAD = 8
REGION_GAP = 10
NODE_H = 50
NODE_GAP = 8
EMPTY_H = 40
LANE_STEP = 16
BULGE = 64
BUS_STEP = 18
LEGEND_H = 56
LEVELS = ("side", "cloud", "region")
NODE_W = COL_W - 2 * (SIDE_PAD + CLOUD_PAD + REGION_PAD)


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
    """A side, cloud or region frame with its heading."""

    level: str  # "side" | "cloud" | "region"
    location: Location
    title: str
    note: str
    box: Box


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
    groups: tuple[GroupBox, ...]
    nodes: dict[str, Box]
    edges: dict[str, EdgePath]
    border_x: float | None  # the line between the mainland and the outside columns
    columns_top: float
    columns_bottom: float
    legend_y: float


def _n(v: float) -> str:
    """Numbers in path data: integers stay integers, so the output is stable and short."""
    r = round(v, 1)
    return str(int(r)) if r == int(r) else str(r)


def layout(m: ResidencyMap, header: bool = True) -> Layout:
    """Geometry of the whole picture; ``header=False`` leaves out the title (a page shows its own)."""
    banner = header and not m.complete
    top = MARGIN + (HEADER_H + (BANNER_H if banner else 0) if header else 16)
    groups: list[GroupBox] = []
    nodes: dict[str, Box] = {}
    column: dict[str, int] = {}
    col_x: list[float] = []
    heights: list[float] = []
    for ci, side in enumerate(m.sides):
        x = MARGIN + ci * (COL_W + GUTTER)
        col_x.append(x)
        y = top + SIDE_HEAD
        if not side.clouds:
            y += EMPTY_H
        for cloud in side.clouds:
            cloud_top = y
            y += CLOUD_HEAD
            for region in cloud.regions:
                region_top = y
                y += REGION_HEAD
                for node_id in region.nodes:
                    nodes[node_id] = Box(x + SIDE_PAD + CLOUD_PAD + REGION_PAD, y, NODE_W, NODE_H)
                    column[node_id] = ci
                    y += NODE_H + NODE_GAP
                y += REGION_PAD - NODE_GAP
                groups.append(
                    GroupBox(
                        "region",
                        side.location,
                        region.title,
                        region.name or "",
                        Box(
                            x + SIDE_PAD + CLOUD_PAD,
                            region_top,
                            COL_W - 2 * (SIDE_PAD + CLOUD_PAD),
                            y - region_top,
                        ),
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
    for ci, side in enumerate(m.sides):
        groups.insert(
            ci,
            GroupBox(
                "side", side.location, side.title, side.note, Box(col_x[ci], top, COL_W, col_h)
            ),
        )
    groups.sort(key=lambda g: LEVELS.index(g.level))  # frames first, so none hides another
    bottom = top + col_h

    edges, bus_lanes, right_extra = _route(m.edges, nodes, column, bottom)
    legend_y = bottom + (BUS_STEP * bus_lanes + LABEL_H + 8 if bus_lanes else 0) + 20
    width = MARGIN * 2 + len(m.sides) * COL_W + (len(m.sides) - 1) * GUTTER + right_extra
    border_x = None
    if len(m.sides) >= 2:
        border_x = MARGIN + COL_W + GUTTER / 2
    return Layout(
        width=width,
        height=legend_y + LEGEND_H + MARGIN,
        header=header,
        banner=banner,
        groups=tuple(groups),
        nodes=nodes,
        edges=edges,
        border_x=border_x,
        columns_top=top,
        columns_bottom=bottom,
        legend_y=legend_y,
    )


def edge_label(edge: MapEdge) -> str:
    return edge.kind + (" · cross-border" if edge.cross_border else "")


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


def _route(
    edges: tuple[MapEdge, ...], nodes: dict[str, Box], column: dict[str, int], bottom: float
) -> tuple[dict[str, EdgePath], int, float]:
    """Paths for every edge, the number of bus lanes used, and extra width the last column needs."""
    # Which side of each box every edge end uses: "r" (right) or "l" (left).
    ends: dict[str, tuple[str, str]] = {}
    for e in edges:
        cs, ct = column[e.source], column[e.target]
        ends[e.id] = ("r", "r") if cs == ct else (("r", "l") if cs < ct else ("l", "r"))
    # Spread the ends that share a box side, ordered by where the other end is, to avoid crossings.
    ports: dict[tuple[str, str], list[tuple[float, str, str]]] = {}
    for e in edges:
        s_side, t_side = ends[e.id]
        ports.setdefault((e.source, s_side), []).append((nodes[e.target].y, e.id, "s"))
        ports.setdefault((e.target, t_side), []).append((nodes[e.source].y, e.id, "t"))
    port_y: dict[tuple[str, str], float] = {}
    for (node_id, _side), items in ports.items():
        items.sort()
        box = nodes[node_id]
        for k, (_, edge_id, which) in enumerate(items):
            port_y[(edge_id, which)] = box.y + box.h * (k + 1) / (len(items) + 1)

    paths: dict[str, EdgePath] = {}
    placed: list[Box] = list(nodes.values())  # labels keep off nodes and off each other
    lanes: dict[int, int] = {}  # column -> same-column edges routed so far
    bus = 0
    right_extra = 0.0
    last_col = max(column.values(), default=0)
    for e in edges:
        sb, tb = nodes[e.source], nodes[e.target]
        cs, ct = column[e.source], column[e.target]
        y1, y2 = port_y[(e.id, "s")], port_y[(e.id, "t")]
        w = len(edge_label(e)) * LABEL_CHAR + 6
        if cs == ct:
            lane = lanes.get(cs, 0)
            lanes[cs] = lane + 1
            x = sb.right
            b = BULGE + LANE_STEP * lane
            curve = (x, y1, x + b, y1, x + b, y2, x, y2)
            d = f"M{_n(x)},{_n(y1)} C{_n(x + b)},{_n(y1)} {_n(x + b)},{_n(y2)} {_n(x)},{_n(y2)}"
            spots = [_bezier(curve, t) for t in SPOTS]
            spots = [(px + w / 2 + 4, py) for px, py in spots]  # beside the bulge, not on it
            if cs == last_col:
                right_extra = max(right_extra, 0.75 * b + w + 16)
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
            gx1 = x1 + step * (SIDE_PAD + CLOUD_PAD + REGION_PAD + off)
            gx2 = x2 - step * (SIDE_PAD + CLOUD_PAD + REGION_PAD + off)
            d = f"M{_n(x1)},{_n(y1)} H{_n(gx1)} V{_n(yb)} H{_n(gx2)} V{_n(y2)} H{_n(x2)}"
            spots = [(gx1 + (gx2 - gx1) * t, yb + LABEL_H) for t in SPOTS]  # under the bus
        cx, cy = _place_label(spots, w, placed)
        paths[e.id] = EdgePath(e.id, d, cx, cy)
    return paths, bus, right_extra


def _place_label(
    spots: list[tuple[float, float]], w: float, placed: list[Box]
) -> tuple[float, float]:
    """The first spot along the edge where the label covers no node and no other label."""
    xs = [cx for cx, _ in spots]
    ys = [cy for _, cy in spots]
    reach = Box(
        min(xs) - w / 2,
        min(ys) - 3 * LABEL_H,
        max(xs) - min(xs) + w,
        max(ys) - min(ys) + 6 * LABEL_H,
    )
    near = [other for other in placed if _overlaps(reach, other)]
    for nudge in (0.0, -LABEL_H, LABEL_H, -2 * LABEL_H, 2 * LABEL_H):
        for cx, cy in spots:
            box = Box(cx - w / 2, cy + nudge - LABEL_H + 2, w, LABEL_H)
            if not any(_overlaps(box, other) for other in near):
                placed.append(box)
                return cx, cy + nudge
    cx, cy = spots[0]
    return cx, cy
