"""The map as a Mermaid flowchart, for pull-request comments and Markdown docs.

Sides, clouds and regions become nested subgraphs; cross-border arrows are thick and red. GitHub
and GitLab render Mermaid with its default limits, ``maxTextSize`` (50,000 characters: above it
the diagram is replaced by "Maximum text size in diagram exceeded") and ``maxEdges`` (500), which
a diagram cannot raise for itself. So the output always stays under both: a level of detail that
would not fit falls back to a coarser one, and says so in a visible note; a summary too big for
them (hundreds of regions) draws the worst regions first and says how many it left out. An
incomplete scan is said in the title and in a red node, never only in ``%%`` comments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from ciiguard.escaping import visible
from ciiguard.model import Location
from ciiguard.residency_map.layout import arrow_label, arrow_width, verdict_text
from ciiguard.residency_map.model import EdgeStatus, NodeKind, ResidencyMap
from ciiguard.residency_map.style import (
    BLOCKING,
    CLASSIFIED_FILL,
    EDGE_COLOR,
    PLAIN_STROKE,
    SIDE_FILL,
    SIDE_STROKE,
    classification_color,
    issue_brief,
    node_lines,
)
from ciiguard.residency_map.view import (
    COARSER,
    PASS,
    Arrow,
    Detail,
    Unit,
    View,
    build_view,
    verdict_rank,
)

MAX_TEXT_SIZE = 50_000  # mermaid's maxTextSize default, kept by GitHub and GitLab
MAX_EDGES = 500  # mermaid's maxEdges default, kept by GitHub and GitLab


def _text(value: str) -> str:
    """Mermaid label text, inside double quotes: every character Mermaid or the HTML label would
    read as syntax becomes an entity code (``#quot;``), control characters visible escapes. ``%``
    goes too: Mermaid looks for ``%%{init: ...}%%`` directives anywhere in the text."""
    return (
        visible(value)
        .replace("#", "#35;")
        .replace("%", "#37;")
        .replace("&", "#38;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("`", "#96;")
    )


def _comment(value: str) -> str:
    """A ``%%`` comment's text: one line, and no ``%%`` that could open a directive."""
    return visible(value).replace("%", "% ")


def _yaml_string(value: str) -> str:
    """The title: a YAML double-quoted scalar on one line (JSON's escapes are YAML's), with no
    ``%%``. Mermaid takes no entity codes in a title, and treats one with a ``<`` as HTML, so
    ``<`` and ``>`` become look-alikes (single angle quotation marks) shown as they are."""
    return json.dumps(_comment(value).translate(_TITLE_LOOKALIKES), ensure_ascii=False)


_TITLE_LOOKALIKES = str.maketrans({"<": "\u2039", ">": "\u203a"})


def _mid(unit_id: str) -> str:
    """Mermaid ids: letters, digits and underscores only."""
    return unit_id.replace("-", "_")


def render_mermaid(m: ResidencyMap, detail: Detail = Detail.SUMMARY) -> str:
    """The map at ``detail``, or the most detailed coarser level that fits GitHub and GitLab."""
    level = detail
    note = ""
    while True:
        view = build_view(m, level)
        text = _render(view, note)
        if fits(text):
            return text
        coarser = COARSER.get(level)
        if coarser is None:
            return _squeeze(view, note)
        note = (
            f"Showing the {coarser.value} level: the {detail.value} level of this map "
            f"({_size(m, detail)}) would exceed what GitHub and GitLab render (Mermaid's "
            f"{MAX_TEXT_SIZE:,} characters or {MAX_EDGES} arrows). "
            "ciiguard map --format html shows every resource."
        )
        level = coarser


def fits(text: str) -> bool:
    """Whether GitHub's and GitLab's Mermaid (default maxTextSize and maxEdges) renders ``text``."""
    return len(text) <= MAX_TEXT_SIZE and count_arrows(text) <= MAX_EDGES


_ARROW = re.compile(r"^\s+\S+ (?:-->|==>|-\.->)\|", re.M)


def count_arrows(text: str) -> int:
    return len(_ARROW.findall(text))


def _size(m: ResidencyMap, detail: Detail) -> str:
    if detail is Detail.RESOURCES:
        return f"{len(m.nodes):,} resources and places, {len(m.edges):,} flows"
    roots = len({(n.location, n.cloud, n.region, n.root) for n in m.nodes})
    return f"{roots:,} root modules"


def _squeeze(view: View, note: str) -> str:
    """A summary too big for the renderers: one-line region labels, then, if that is still too
    big, the worst regions first, as many as fit. The note says which."""
    lead = f"{note} " if note else ""
    every = {u.id for u in view.units}
    text = _render(view, lead + _SHORT, every, compact=True)
    if fits(text):
        return text
    order = sorted(
        view.units,
        key=lambda u: (verdict_rank(u.tally.verdict), -u.tally.resources - u.tally.places, u.id),
    )
    lo, hi = 0, len(order) - 1
    best = ""
    while lo <= hi:  # the most regions that fit
        k = (lo + hi) // 2
        told = lead + (
            f"Showing {k:,} of {len(order):,} regions, worst first: the other {len(order) - k:,} "
            "would exceed what GitHub and GitLab render. ciiguard map --format html shows them all."
        )
        text = _render(view, told, {u.id for u in order[:k]}, compact=True)
        if fits(text):
            best, lo = text, k + 1
        else:
            hi = k - 1
    return best


_SHORT = (
    "Regions are shown on one line each: the full summary would exceed what GitHub and GitLab "
    "render. ciiguard map --format html shows the counts of every region."
)


def _render(v: View, note: str, keep: set[str] | None = None, compact: bool = False) -> str:
    """The Mermaid text of ``v`` (only the units in ``keep`` when given), with ``note`` shown."""
    m = v.map
    title = (m.title if m.complete else f"INCOMPLETE: {m.title}") + f" · {m.summary()}"
    out = ["---", f"title: {_yaml_string(title)}", "---"]
    out.extend(f"%% error: {_comment(e.render())}" for e in m.errors)
    out.append("flowchart LR")
    styles: list[str] = []
    classes: dict[str, list[str]] = {}
    node_styles: dict[str, str] = {}
    if not m.complete:
        noun = "input" if len(m.errors) == 1 else "inputs"
        first = issue_brief(m.errors[0], 200)
        out.append(
            f'  incomplete["INCOMPLETE: {len(m.errors)} {noun} could not be read; '
            f'this map may be missing resources<br/>first: {_text(first)}"]'
        )
        classes.setdefault("incomplete", []).append("incomplete")
    if note:
        out.append(f'  fallback["{_text(note)}"]')
        classes.setdefault("note", []).append("fallback")
    for si, side in enumerate(v.sides):
        sid = side.location.value
        out.append(f'  subgraph {sid}["{_text(_SIDE_TITLES[side.location])}"]')
        out.append("    direction TB")
        styles.append(
            f"  style {sid} fill:{SIDE_FILL[side.location]},stroke:{SIDE_STROKE[side.location]},"
            f"color:{SIDE_STROKE[side.location]}"
        )
        if not side.clouds:
            out.append(f'    empty_{si}["no data-bearing resources"]')
            classes.setdefault("empty", []).append(f"empty_{si}")
        for ci, cloud in enumerate(side.clouds, 1):
            regions = [r for r in cloud.regions if keep is None or r.unit.id in keep]
            if not regions:
                continue
            cid = f"{sid}_{ci}"
            out.append(f'    subgraph {cid}["{_text(cloud.name)}"]')
            out.append("      direction TB")
            classes.setdefault("cloud", []).append(cid)
            for region in regions:
                unit = region.unit
                if v.detail is Detail.SUMMARY:
                    out.append(f'      {_mid(unit.id)}["{_region_label(v, unit, compact)}"]')
                    classes.setdefault(_verdict_class(unit), []).append(_mid(unit.id))
                    continue
                rid = f"{_mid(unit.id)}_g"
                out.append(f'      subgraph {rid}["{_region_title(unit)}"]')
                out.append("        direction TB")
                classes.setdefault("region", []).append(rid)
                for root in region.roots:
                    if v.detail is Detail.ROOTS:
                        u = root.unit
                        out.append(f'        {_mid(u.id)}["{_root_label(u)}"]')
                        classes.setdefault(_verdict_class(u), []).append(_mid(u.id))
                        continue
                    gid = f"{_mid(root.unit.id)}_g"
                    out.append(f'        subgraph {gid}["{_text(root.unit.root or ".")}"]')
                    classes.setdefault("root", []).append(gid)
                    for nu in root.nodes:
                        out.append(f'          {nu.id}["{_node_label(m, nu.id)}"]')
                        name, style = _node_style(m, nu.id)
                        node_styles[name] = style
                        classes.setdefault(name, []).append(nu.id)
                    out.append("        end")
                out.append("      end")
            out.append("    end")
        out.append("  end")
    link_styles: dict[str, list[int]] = {}
    drawn = [a for a in v.arrows if keep is None or (a.source in keep and a.target in keep)][
        :MAX_EDGES
    ]
    for i, arrow in enumerate(drawn):
        out.append(_arrow_line(v, arrow))
        color = EDGE_COLOR[arrow.status]
        link_styles.setdefault(
            f"stroke:{color},stroke-width:{round(arrow_width(arrow))}px,color:{color}", []
        ).append(i)
    out.extend(styles)
    out.extend(_class_defs(classes, node_styles))
    for style, indexes in link_styles.items():
        out.append(f"  linkStyle {','.join(map(str, indexes))} {style}")
    # one space per level of nesting, not two: every character counts against the limits
    return "\n".join(ln[(len(ln) - len(ln.lstrip(" "))) // 2 :] for ln in out) + "\n"


def _region_title(unit: Unit) -> str:
    title = unit.region_title + (f" · {unit.region_name}" if unit.region_name else "")
    return _text(f"{title} · {unit.tally.describe()}")


def _counts(unit: Unit) -> tuple[str, str]:
    classes = " · ".join(f"{c} {n:,}" for c, n in unit.tally.classifications)
    verdicts = " · ".join(verdict_text(x, n) for x, n in unit.tally.verdicts)
    return classes, verdicts


def _region_label(v: View, unit: Unit, compact: bool) -> str:
    title = unit.region_title + (f" · {unit.region_name}" if unit.region_name else "")
    classes, verdicts = _counts(unit)
    if compact:
        return _text(f"{title}: {verdicts}")
    inner = v.inner_flows.get(unit.id, 0)
    line = unit.tally.describe() + (f" · {inner:,} flows inside" if inner else "")
    return "<br/>".join(_text(x) for x in (title, line, classes, verdicts) if x)


def _root_label(unit: Unit) -> str:
    classes, verdicts = _counts(unit)
    lines = (unit.root or ".", unit.tally.describe(), classes, verdicts)
    return "<br/>".join(_text(x) for x in lines if x)


def _node_label(m: ResidencyMap, node_id: str) -> str:
    return "<br/>".join(_text(x) for x in node_lines(m, m.node(node_id)))


def _verdict_class(unit: Unit) -> str:
    verdict = unit.tally.verdict
    return "blocking" if verdict == "blocking" else ("pass" if verdict == PASS else "flagged")


_SIDE_TITLES = {
    Location.MAINLAND: "Mainland China",
    Location.OUTSIDE: "Outside mainland China (Hong Kong, Macao and Taiwan too)",
    Location.UNKNOWN: "Location unknown (fail-closed)",
}
# Short on purpose: GitLab shows a diagram of more than 2,000 characters in an issue or a merge
# request only after a click, and a summary should not need one.
_FIXED_CLASSES = {
    "incomplete": f"fill:{BLOCKING},stroke:{BLOCKING},color:#fff,font-weight:bold",
    "note": "fill:#fff3cd,stroke:#f9a825",
    "empty": f"fill:none,stroke:none,color:{PLAIN_STROKE}",
    "cloud": "fill:#fff,stroke:#b0bec5",
    "region": "fill:#f8fafb,stroke:#cfd8dc",
    "root": "fill:#fff,stroke:#dfe5e8,stroke-dasharray:3 2",
    "blocking": f"fill:#fff,stroke:{BLOCKING},stroke-width:2px",
    "flagged": "fill:#fff,stroke:#f9a825,stroke-width:2px",
    "pass": f"fill:#fff,stroke:{PLAIN_STROKE}",
}


def _node_style(m: ResidencyMap, node_id: str) -> tuple[str, str]:
    """(class name, its definition) for a resource-level node: its classification's colour,
    dashed when it is a place with no resource of its own."""
    node = m.node(node_id)
    place = node.kind is not NodeKind.RESOURCE
    if node.in_scope:
        value = node.classification or "classified"
        name = "c_" + re.sub(r"[^a-z0-9]", "_", value.lower())
        style = f"fill:{CLASSIFIED_FILL},stroke:{classification_color(node.classification)},"
        style += "stroke-width:2px"
    else:
        name, style = "c_plain", f"fill:#fff,stroke:{PLAIN_STROKE}"
    if place:
        name, style = name + "_place", style + ",stroke-dasharray:5 3"
    return name, style


def _class_defs(classes: dict[str, list[str]], styles: dict[str, str]) -> Iterable[str]:
    for name, members in classes.items():
        yield f"  classDef {name} {styles.get(name) or _FIXED_CLASSES[name]}"
        yield f"  class {','.join(members)} {name}"


def _arrow_line(v: View, arrow: Arrow) -> str:
    label = arrow_label(v, arrow)
    if arrow.cross_border:
        op = "==>"
    elif arrow.status is EdgeStatus.UNKNOWN:
        op = "-.->"
    else:
        op = "-->"
    return f'  {_mid(arrow.source)} {op}|"{_text(label)}"| {_mid(arrow.target)}'
