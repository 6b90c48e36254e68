"""The map as one self-contained HTML page: the SVG inline, a card per node, every violation.

No network at view time: inline CSS and JS only, and a Content-Security-Policy of
``default-src 'none'`` so a browser would refuse any load even if some text slipped one in. Search
and the classification and policy filters live in the URL fragment (``#policy=CII002&q=orders``),
so a filtered view can be linked to. Without JavaScript everything is shown and nodes still link
to their cards.
"""

from __future__ import annotations

from html import escape

from ciiguard.escaping import visible_lines
from ciiguard.model import Location
from ciiguard.residency_map.model import MapEdge, MapNode, MapViolation, NodeKind, ResidencyMap
from ciiguard.residency_map.style import (
    EDGE_LEGEND,
    badge_colors,
    location_word,
    node_kind_word,
    violation_flag,
)
from ciiguard.residency_map.svg import svg_element

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)

CSS = """
:root { --ink: #263238; --muted: #607d8b; --line: #cfd8dc; --red: #c62828; --amber: #f9a825; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 'Segoe UI', 'Helvetica Neue', Helvetica, Arial, 'DejaVu Sans',
  sans-serif; color: var(--ink); background: #f4f6f8; }
header { padding: 16px 24px 8px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
.summary { color: var(--muted); margin: 0; }
.incomplete { background: var(--red); color: #fff; padding: 8px 12px; border-radius: 6px;
  margin: 8px 0 0; }
.incomplete ul { margin: 4px 0 0; padding-left: 20px; }
.filters { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 8px 16px;
  align-items: center; padding: 8px 24px; background: #fff; border-bottom: 1px solid var(--line); }
.filters label { display: flex; gap: 6px; align-items: center; color: var(--muted); }
.filters input, .filters select, .filters button { font: inherit; padding: 3px 6px; }
.filters input[type=search] { width: 15em; }
#count { color: var(--muted); }
.zoom { margin-left: auto; display: flex; gap: 4px; }
main { padding: 0 24px 32px; }
.map { overflow: auto; background: #fff; border: 1px solid var(--line); border-radius: 8px;
  margin-top: 12px; max-height: 80vh; }
.map svg { display: block; margin: 0 auto; }
svg .node { cursor: pointer; }
svg .node, svg .edge { transition: opacity .15s; }
svg .dimmed { opacity: .12; }
svg .node.selected > a > rect:first-of-type, svg .node.selected > rect:first-of-type {
  stroke-width: 3.5; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-left: 5px solid #cfd8dc;
  border-radius: 6px; padding: 10px 12px; }
.card.classified { border-left-color: #e65100; }
.card.selected, .card:target { outline: 3px solid #1e88e5; }
.card h3 { font: 600 13px ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono',
  monospace; margin: 0 0 6px; word-break: break-all; }
.card dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0; }
.card dt { color: var(--muted); }
.card dd { margin: 0; word-break: break-word; }
.card ul { margin: 0; padding-left: 18px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace;
  font-size: 12px; }
.loc-mainland { color: #2e7d32; font-weight: 600; }
.loc-outside { color: #c62828; font-weight: 600; }
.loc-unknown { color: #b26a00; font-weight: 600; }
.cross { color: var(--red); font-weight: 600; }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 11px;
  font-weight: 700; color: #fff; background: var(--red); }
.pill { display: inline-block; padding: 0 8px; border-radius: 8px; font-size: 11px;
  font-weight: 700; color: #fff; background: #e65100; }
.violations { list-style: none; padding: 0; margin: 0; }
.violations li { background: #fff; border: 1px solid var(--line); border-radius: 6px;
  padding: 8px 12px; margin-bottom: 8px; }
.violations li:target, .violations li.selected { outline: 3px solid #1e88e5; }
.violations .why, .violations .fix { color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
details { margin-top: 16px; color: var(--muted); }
"""

SCRIPT = r"""
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var all = function (sel) { return Array.prototype.slice.call(document.querySelectorAll(sel)); };
  var q = $("q"), cls = $("classification"), pol = $("policy"), count = $("count");
  var nodes = all("svg .node"), edges = all("svg .edge"), cards = all(".card");
  var viols = all(".violations li");
  var svg = document.querySelector(".map svg");
  var baseW = svg ? parseFloat(svg.getAttribute("width")) : 0;
  var baseH = svg ? parseFloat(svg.getAttribute("height")) : 0;
  var scale = 1;

  function words(el, name) {
    return (el.getAttribute(name) || "").split(" ").filter(Boolean);
  }
  function pick(value, have, want) {
    if (!want) return true;
    if (want === "*") return have.length > 0;
    if (want === "-") return have.length === 0;
    return have.indexOf(want) >= 0;
  }
  function matches(el, st) {
    var c = el.getAttribute("data-classification") || "";
    if (!pick(c, c ? [c] : [], st.classification)) return false;
    if (!pick("", words(el, "data-policies"), st.policy)) return false;
    var hay = el.getAttribute("data-search") || "";
    return st.q.toLowerCase().split(/\s+/).filter(Boolean).every(function (t) {
      return hay.indexOf(t) >= 0;
    });
  }
  function state() {
    return { q: q.value.trim(), classification: cls.value, policy: pol.value };
  }
  function apply(st) {
    var shown = {}, n = 0;
    nodes.forEach(function (el) {
      var ok = matches(el, st);
      el.classList.toggle("dimmed", !ok);
      el.setAttribute("data-match", ok ? "true" : "false");
      if (ok) { shown[el.id] = true; n += 1; }
    });
    cards.forEach(function (el) { el.hidden = !shown[el.getAttribute("data-id")]; });
    edges.forEach(function (el) {
      var ok = shown[el.getAttribute("data-source")] && shown[el.getAttribute("data-target")];
      el.classList.toggle("dimmed", !ok);
      el.setAttribute("data-match", ok ? "true" : "false");
    });
    viols.forEach(function (el) {
      var on = words(el, "data-nodes");
      var ok = st.policy !== "-" && pick("", [el.getAttribute("data-policy")], st.policy) &&
        (on.length === 0 || on.some(function (id) { return shown[id]; }));
      el.hidden = !ok;
    });
    count.textContent = n + " of " + nodes.length + " shown";
    document.body.setAttribute("data-filter", [st.q, st.classification, st.policy].join("|"));
  }
  function parse() {
    var h = location.hash.replace(/^#/, ""), out = {};
    if (h.indexOf("=") < 0) return out;
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) {
        try { out[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1)); }
        catch (e) { /* a malformed fragment filters nothing */ }
      }
    });
    return out;
  }
  function setSelect(sel, value) {
    sel.value = value || "";
    if (sel.value !== (value || "")) sel.value = "";
  }
  function read() {
    var st = parse();
    if (location.hash.indexOf("=") < 0 && location.hash.length > 1) return;
    q.value = st.q || "";
    setSelect(cls, st.classification);
    setSelect(pol, st.policy);
    apply(state());
  }
  function write(st) {
    var parts = [];
    ["q", "classification", "policy"].forEach(function (k) {
      if (st[k]) parts.push(k + "=" + encodeURIComponent(st[k]));
    });
    var url = location.pathname + location.search + (parts.length ? "#" + parts.join("&") : "");
    try { history.replaceState(null, "", url); } catch (e) { /* file: URLs may refuse */ }
  }
  function changed() { var st = state(); apply(st); write(st); }
  function select(id) {
    all(".selected").forEach(function (el) { el.classList.remove("selected"); });
    var target = document.getElementById(id);
    if (!target) return;
    target.classList.add("selected");
    if (target.hidden) target.hidden = false;
    var node = document.getElementById(target.getAttribute("data-id") || "");
    if (node && node !== target) node.classList.add("selected");
    target.scrollIntoView({ block: "nearest" });
  }
  q.addEventListener("input", changed);
  cls.addEventListener("change", changed);
  pol.addEventListener("change", changed);
  $("reset").addEventListener("click", function () {
    q.value = ""; cls.value = ""; pol.value = ""; changed();
  });
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest ? ev.target.closest("a") : null;
    if (!a) return;
    var href = a.getAttribute("href") || "";
    if (href.charAt(0) !== "#" || href.indexOf("=") >= 0) return;
    ev.preventDefault();
    select(href.slice(1));
  });
  function zoom(factor) {
    if (!svg) return;
    var box = svg.parentNode.clientWidth;
    scale = factor === 0 ? Math.min(1, (box - 2) / baseW) : Math.max(0.2, scale * factor);
    svg.setAttribute("width", String(Math.round(baseW * scale)));
    svg.setAttribute("height", String(Math.round(baseH * scale)));
  }
  $("zoom-in").addEventListener("click", function () { zoom(1.25); });
  $("zoom-out").addEventListener("click", function () { zoom(0.8); });
  $("zoom-fit").addEventListener("click", function () { zoom(0); });
  window.addEventListener("hashchange", read);
  read();
  if (location.hash.length > 1 && location.hash.indexOf("=") < 0) {
    select(location.hash.slice(1));
  }
})();
"""


def _e(value: object) -> str:
    return escape(visible_lines(value), quote=True)


def render_html(m: ResidencyMap) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="ciiguard map">',
        f"<title>{_e(m.title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(m.title)}</h1>",
        f'<p class="summary">{_e(m.summary())}</p>',
    ]
    if m.errors:
        out.append('<div class="incomplete" role="alert"><strong>Incomplete scan.</strong> ')
        out.append(
            "These inputs could not be read, so the map may be missing resources:<ul>"
            + "".join(f"<li><code>{_e(e.render())}</code></li>" for e in m.errors)
            + "</ul></div>"
        )
    out.append("</header>")
    out.extend(_filters(m))
    out.append("<main>")
    out.append(f'<div class="map" id="map">{svg_element(m, standalone=False)}</div>')
    out.append('<section id="resources"><h2>Resources and where their data goes</h2>')
    if m.nodes:
        out.append('<div class="cards">')
        for node in m.nodes:
            out.extend(_card(m, node))
        out.append("</div>")
    else:
        out.append('<p class="empty">No data-bearing resources were found.</p>')
    out.append("</section>")
    out.extend(_violations(m))
    if m.warnings:
        out.append('<section id="warnings"><h2>Warnings</h2><ul>')
        out.extend(f"<li><code>{_e(w.render())}</code></li>" for w in m.warnings)
        out.append("</ul></section>")
    out.append(f"<details><summary>{len(m.files)} input files scanned</summary><ul>")
    out.extend(f"<li><code>{_e(f)}</code></li>" for f in m.files)
    out.append("</ul></details>")
    out.append("</main>")
    out.append(f"<script>{SCRIPT}</script>")
    out.append("</body>")
    out.append("</html>")
    return "\n".join(out) + "\n"


def _filters(m: ResidencyMap) -> list[str]:
    cls_opts = "".join(f'<option value="{_e(c)}">{_e(c)}</option>' for c in m.classifications)
    pol_opts = "".join(f'<option value="{_e(p)}">{_e(p)}</option>' for p in m.policies)
    return [
        '<form class="filters" id="filters" role="search" onsubmit="return false">',
        '<label>Search <input type="search" id="q" placeholder="address, type, region, file" '
        'autocomplete="off"></label>',
        '<label>Classification <select id="classification"><option value="">all</option>'
        '<option value="*">any classified</option><option value="-">not in scope</option>'
        f"{cls_opts}</select></label>",
        '<label>Policy <select id="policy"><option value="">all</option>'
        '<option value="*">any violation</option><option value="-">no violation</option>'
        f"{pol_opts}</select></label>",
        '<button type="button" id="reset">Reset</button>',
        f'<span id="count" aria-live="polite">{len(m.nodes)} of {len(m.nodes)} shown</span>',
        '<span class="zoom"><button type="button" id="zoom-out" title="zoom out">&minus;</button>'
        '<button type="button" id="zoom-fit" title="fit to width">fit</button>'
        '<button type="button" id="zoom-in" title="zoom in">+</button></span>',
        "</form>",
    ]


def _loc(loc: Location) -> str:
    return f'<span class="loc-{loc.value}">{_e(location_word(loc))}</span>'


def _node_link(node: MapNode) -> str:
    where = node.region or "region not resolved"
    return f'<a href="#d-{node.id}"><code>{_e(node.label)}</code></a> ({_e(where)})'


def _flow_item(m: ResidencyMap, edge: MapEdge, outgoing: bool) -> str:
    other = m.node(edge.target if outgoing else edge.source)
    arrow = "to" if outgoing else "from"
    status = EDGE_LEGEND[edge.status]
    cls = ' class="cross"' if edge.cross_border else ""
    where = f" at <code>{_e(edge.where)}</code>" if edge.where else ""
    return (
        f"<li>{_e(edge.kind)} {arrow} {_node_link(other)}: <span{cls}>{_e(status)}</span>"
        f" (<code>{_e(edge.declared_by)}.{_e(edge.argument)}</code>{where})</li>"
    )


def _badge(mv: MapViolation) -> str:
    v = mv.violation
    flag = violation_flag(v)
    fill, ink = badge_colors(flag)
    return (
        f'<a href="#{mv.id}" class="badge {flag}" style="background:{fill};color:{ink}" '
        f'title="{_e(flag)}">{_e(v.policy)}</a>'
    )


def _card(m: ResidencyMap, node: MapNode) -> list[str]:
    policies = " ".join(m.policies_of(node.id))
    search = " ".join(
        p
        for p in (
            node.address,
            node.label,
            node.type,
            node.cloud_name,
            node.region or "",
            node.region_name or "",
            node.where or "",
            node.classification or "",
        )
        if p
    ).lower()
    classes = "card classified" if node.in_scope else "card"
    region = _e(node.region or "not resolved")
    if node.region_name:
        region += f" ({_e(node.region_name)})"
    out = [
        f'<article class="{classes}" id="d-{node.id}" data-id="{node.id}" '
        f'data-classification="{_e(node.classification or "")}" data-policies="{policies}" '
        f'data-search="{_e(search)}">',
        f"<h3>{_e(node.label)}</h3>",
        "<dl>",
    ]
    if node.kind is not NodeKind.RESOURCE:
        out.append(f"<dt>what</dt><dd>{_e(node_kind_word(node))}: {_e(node.subtitle)}</dd>")
    else:
        out.append(f"<dt>type</dt><dd><code>{_e(node.type)}</code></dd>")
    out.append(f"<dt>cloud</dt><dd>{_e(node.cloud_name)}</dd>")
    out.append(f"<dt>region</dt><dd><code>{region}</code>: {_loc(node.location)}</dd>")
    if node.location_note:
        out.append(f"<dt>why</dt><dd>{_e(node.location_note)}</dd>")
    if node.provenance and node.provenance != node.location_note:
        out.append(f"<dt>resolved</dt><dd><code>{_e(node.provenance)}</code></dd>")
    if node.in_scope:
        reason = f" ({_e(node.scope_reason)})" if node.scope_reason else ""
        out.append(
            f'<dt>data</dt><dd><span class="pill">{_e(node.classification or "in scope")}</span>'
            f"{reason}</dd>"
        )
    else:
        out.append("<dt>data</dt><dd>not in scope</dd>")
    if node.where:
        out.append(f"<dt>source</dt><dd><code>{_e(node.where)}</code> ({_e(node.input)})</dd>")
    outgoing = m.outgoing(node.id)
    incoming = m.incoming(node.id)
    if outgoing or incoming:
        items = [_flow_item(m, e, True) for e in outgoing]
        items += [_flow_item(m, e, False) for e in incoming]
        out.append(f"<dt>flows</dt><dd><ul>{''.join(items)}</ul></dd>")
    ids = list(node.violations)
    for e in incoming + outgoing:
        ids.extend(i for i in e.violations if i not in ids)
    if ids:
        badges = " ".join(_badge(m.violation(i)) for i in ids)
        out.append(f"<dt>violations</dt><dd>{badges}</dd>")
    out.append("</dl>")
    out.append("</article>")
    return out


def _violations(m: ResidencyMap) -> list[str]:
    out = ['<section id="violation-list"><h2>Violations</h2>']
    if not m.violations:
        out.append('<p class="empty">No violations.</p></section>')
        return out
    out.append('<ol class="violations">')
    for mv in m.violations:
        v = mv.violation
        flag = violation_flag(v)
        where = f"{v.file}:{v.line}" if v.file and v.line else (v.file or "")
        on_nodes = list(mv.nodes)  # the sources of its flows are among them
        links = ", ".join(_node_link(m.node(n)) for n in on_nodes)
        on_map = f"<div>on the map: {links}</div>" if links else "<div>not drawn on the map</div>"
        fill, ink = badge_colors(flag)
        out.append(
            f'<li id="{mv.id}" class="{flag}" data-policy="{_e(v.policy)}" '
            f'data-nodes="{" ".join(on_nodes)}">'
            f'<span class="badge" style="background:{fill};color:{ink}">{_e(v.policy)}</span> '
            f"<strong>{_e(flag)}</strong> <code>{_e(v.resource)}</code>"
            + (f" at <code>{_e(where)}</code>" if where else "")
            + f"<div>{_e(v.message)}</div>"
            + (f'<div class="why">why: {_e(v.evidence)}</div>' if v.evidence else "")
            + (f'<div class="fix">fix: {_e(v.fix)}</div>' if v.fix else "")
            + (
                f'<div class="why">{_e(flag)}: {_e(v.suppression_reason or v.approval_reference)}'
                "</div>"
                if v.suppression_reason or v.approval_reference
                else ""
            )
            + on_map
            + "</li>"
        )
    out.append("</ol></section>")
    return out
