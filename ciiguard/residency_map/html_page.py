"""The map as one self-contained HTML page: the summary first, every detail on demand.

The page shows the summary map (one box per region, flows folded into weighted arrows) as inline
SVG. Opening a region lists its root modules, worst first; opening a root module lists its
resources with their flows, provenance and violations. Those details are rendered by the page's
script from a compact JSON block, so a 10,000-resource estate stays a few megabytes and opens
at once. Search and the classification and policy filters count matches per region on the map.

No network at view time: inline CSS and JS only, and a Content-Security-Policy of
``default-src 'none'``. Every piece of text from the scanned tree is escaped in the markup, kept
out of the JSON's ``<`` and ``>``, and put in the page with ``textContent`` only. The state lives
in the URL fragment (``#region=mainland/aws/cn-north-1&root=services/a&q=orders&policy=CII002``),
so any view can be linked to. Without JavaScript the summary map is still there.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from ciiguard.escaping import visible_lines
from ciiguard.residency_map.model import NodeKind, ResidencyMap
from ciiguard.residency_map.style import (
    CLASSIFICATION_COLOR,
    CLASSIFIED_FALLBACK,
    EDGE_LEGEND,
    verdict_colors,
    violation_flag,
)
from ciiguard.residency_map.svg import svg_element
from ciiguard.residency_map.view import PASS, Detail, build_view, node_verdicts, verdict_rank

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)

CSS = """
:root { --ink: #263238; --muted: #607d8b; --line: #cfd8dc; --red: #c62828; --amber: #f9a825;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 'Segoe UI', 'Helvetica Neue', Helvetica, Arial, 'DejaVu Sans',
  sans-serif; color: var(--ink); background: #f4f6f8; }
header { padding: 16px 24px 8px; }
h1 { font-size: 20px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 16px; margin: 24px 0 8px; }
.summary { color: var(--muted); margin: 0; }
.incomplete { background: var(--red); color: #fff; padding: 8px 12px; border-radius: 6px;
  margin: 8px 0 0; }
.incomplete ul { margin: 4px 0 0; padding-left: 20px; }
.incomplete code { overflow-wrap: anywhere; }
.filters { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 8px 16px;
  align-items: center; padding: 8px 24px; background: #fff; border-bottom: 1px solid var(--line); }
.filters label { display: flex; gap: 6px; align-items: center; color: var(--muted); }
.filters input, .filters select, .filters button { font: inherit; padding: 3px 6px; }
.filters input[type=search] { width: 15em; }
#count { color: var(--muted); }
.zoom { margin-left: auto; display: flex; gap: 4px; }
main { padding: 0 24px 32px; }
.map { overflow: auto; background: #fff; border: 1px solid var(--line); border-radius: 8px;
  margin-top: 12px; }
.map svg { display: block; margin: 0 auto; }
svg .unit, svg .arrow { transition: opacity .15s; }
svg .region-unit { cursor: pointer; }
svg .dimmed { opacity: .15; }
svg .region-unit.selected > a > rect.frame { stroke: #1e88e5; stroke-width: 3.5; }
.hint { color: var(--muted); margin: 8px 0 0; }
#panel:empty { display: none; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin-top: 16px;
  padding: 12px 16px 16px; }
.panel, .root, .card, .violations li { scroll-margin-top: 64px; }
.panel-head { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: baseline; }
.panel-head h2 { margin: 0; }
.panel-head .close { margin-left: auto; }
.chips { display: flex; flex-wrap: wrap; gap: 4px 6px; margin: 6px 0; }
.chip { display: inline-block; padding: 0 8px; border-radius: 8px; font-size: 11px;
  font-weight: 700; line-height: 16px; white-space: nowrap; }
.arrows { list-style: none; padding: 0; margin: 4px 0 8px; }
.arrows li { margin: 2px 0; }
.roots { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 10px;
  margin-top: 8px; align-items: start; }
.root { border: 1px solid var(--line); border-left: 5px solid #b0bec5; border-radius: 6px;
  background: #fbfcfd; min-width: 0; }
.root.verdict-blocking { border-left-color: var(--red); }
.root.open { grid-column: 1 / -1; }
.root > button { all: unset; box-sizing: border-box; display: block; width: 100%; cursor: pointer;
  padding: 8px 10px; }
.root > button:focus-visible { outline: 2px solid #1e88e5; }
.root-name { display: block; font: 600 13px var(--mono); overflow: hidden;
  text-overflow: ellipsis; white-space: nowrap; direction: rtl; text-align: left; }
.root-line { display: block; color: var(--muted); font-size: 12px; overflow: hidden;
  text-overflow: ellipsis; white-space: nowrap; }
.resources { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr));
  gap: 10px; padding: 0 10px 10px; }
.card { background: #fff; border: 1px solid var(--line); border-left: 5px solid #cfd8dc;
  border-radius: 6px; padding: 10px 12px; min-width: 0; }
.card.classified { border-left-color: #e65100; }
.card.selected, .card:target { outline: 3px solid #1e88e5; }
.card h3 { font: 600 13px var(--mono); margin: 0 0 6px; overflow-wrap: anywhere; }
.card dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 10px;
  margin: 0; }
.card dt { color: var(--muted); }
.card dd { margin: 0; overflow-wrap: anywhere; }
.card ul { margin: 0; padding-left: 18px; }
code { font-family: var(--mono); font-size: 12px; }
.loc-mainland { color: #2e7d32; font-weight: 600; }
.loc-outside { color: #c62828; font-weight: 600; }
.loc-unknown { color: #b26a00; font-weight: 600; }
.cross { color: var(--red); font-weight: 600; }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 11px;
  font-weight: 700; color: #fff; background: var(--red); text-decoration: none; }
.pill { display: inline-block; padding: 0 8px; border-radius: 8px; font-size: 11px;
  font-weight: 700; color: #fff; background: #e65100; }
.more { margin-top: 10px; }
table.matches { border-collapse: collapse; width: 100%; margin-top: 8px; font-size: 13px; }
table.matches th { text-align: left; color: var(--muted); font-weight: 600; }
table.matches th, table.matches td { padding: 3px 8px; border-bottom: 1px solid #eceff1;
  overflow-wrap: anywhere; }
.violations { list-style: none; padding: 0; margin: 0; }
.violations li { background: #fff; border: 1px solid var(--line); border-radius: 6px;
  padding: 8px 12px; margin-bottom: 8px; overflow-wrap: anywhere; }
.violations li:target, .violations li.selected { outline: 3px solid #1e88e5; }
.violations .why, .violations .fix { color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
details { margin-top: 16px; }
details > summary { cursor: pointer; }
#files, #warnings { color: var(--muted); }
"""

SCRIPT = r"""
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var D = JSON.parse($("map-data").textContent);
  var S = D.s;
  // node rows
  var REG = 0, KIND = 1, NAME = 2, LABEL = 3, TLABEL = 4, TYPE = 5, ROOT = 6, FILE = 7,
    LINE = 8, CLS = 9, VERDICT = 10, POL = 11, ADDR = 12, PROV = 13, NOTE = 14, SCOPE = 15,
    SUB = 16, INPUT = 17, VIOLS = 18;
  // edge rows
  var E_SRC = 0, E_DST = 1, E_KIND = 2, E_ARG = 3, E_DECL = 4, E_FILE = 5, E_LINE = 6,
    E_STATUS = 7, E_DEST = 8, E_EXPLAIN = 9, E_VIOLS = 11;
  var KINDS = ["resource", "replica", "external"];
  var nodes = D.nodes, edges = D.edges, regions = D.regions, viols = D.violations;
  var PAGE_ROOTS = 60, PAGE_NODES = 100, PAGE_MATCHES = 100;
  var q = $("q"), cls = $("classification"), pol = $("policy"), count = $("count");
  var panel = $("panel"), svg = document.querySelector(".map svg");
  var units = {};
  Array.prototype.forEach.call(document.querySelectorAll("svg .region-unit"), function (el) {
    units[el.getAttribute("data-key")] = el;
  });
  var arrowEls = {};
  Array.prototype.forEach.call(document.querySelectorAll("svg .arrow"), function (el) {
    arrowEls[el.id] = el;
  });
  var out = {}, inc = {};
  edges.forEach(function (e, i) {
    (out[e[E_SRC]] = out[e[E_SRC]] || []).push(i);
    (inc[e[E_DST]] = inc[e[E_DST]] || []).push(i);
  });
  var regionOf = {};
  regions.forEach(function (r, i) { regionOf[r.key] = i; });
  var hay = null, matched = null, st = null;
  var shownRoots = PAGE_ROOTS, shownNodes = {}, openRoots = {};

  function s(i) { return i > 0 ? S[i] : ""; }
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "text") el.textContent = attrs[k];
      else if (k === "cls") el.className = attrs[k];
      else el.setAttribute(k, attrs[k]);
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === "") continue;
      el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return el;
  }
  function code(t) { return h("code", null, t); }
  function words(t) { return t ? t.split(" ") : []; }
  function where(n) { return n[FILE] > 0 ? s(n[FILE]) + (n[LINE] ? ":" + n[LINE] : "") : ""; }
  function whereInRoot(n) {
    var f = s(n[FILE]), r = s(n[ROOT]);
    if (!f) return "";
    if (r && r !== "." && r !== f && f.indexOf(r + "/") === 0) f = f.slice(r.length + 1);
    return f + (n[LINE] ? ":" + n[LINE] : "");
  }
  function rank(v) { return D.ranks[v] === undefined ? 5 : D.ranks[v]; }
  function colors(v, kind) { return (kind === "verdict" ? D.verdictColors : D.classColors)[v] ||
    (kind === "verdict" ? ["#b0bec5", "#263238"] : [D.classFallback, "#ffffff"]); }
  function chip(text, value, kind) {
    var c = colors(value, kind);
    return h("span", { cls: "chip", style: "background:" + c[0] + ";color:" + c[1] }, text);
  }
  function mark(v) { return v === "pass" ? "\u2713 " : v === "blocking" ? "\u2717 " : "\u2022 "; }
  function fmt(n) { return n.toLocaleString("en-US"); }

  // -- state: the URL fragment -----------------------------------------------------------------
  var KEYS = ["region", "root", "node", "q", "classification", "policy"];
  function parse() {
    var raw = location.hash.replace(/^#/, ""), o = {};
    if (/^d-n\d+$/.test(raw)) { o.node = raw.slice(2); return o; }  // links of earlier maps
    if (raw.indexOf("=") < 0) return o;
    raw.split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) {
        try { o[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1)); }
        catch (e) { /* a malformed fragment sets nothing */ }
      }
    });
    return o;
  }
  function write(o) {
    var parts = [];
    KEYS.forEach(function (k) {
      if (o[k]) parts.push(k + "=" + encodeURIComponent(o[k]).replace(/%2F/g, "/"));
    });
    var url = location.pathname + location.search + (parts.length ? "#" + parts.join("&") : "");
    try { history.replaceState(null, "", url); } catch (e) { /* file: URLs may refuse */ }
  }
  function setSelect(sel, value) {
    sel.value = value || "";
    if (sel.value !== (value || "")) sel.value = "";
  }
  function filtering(o) { return !!(o.q || o.classification || o.policy); }

  // -- filtering --------------------------------------------------------------------------------
  function pick(have, want) {
    if (!want) return true;
    if (want === "*") return have.length > 0;
    if (want === "-") return have.length === 0;
    return have.indexOf(want) >= 0;
  }
  function searchText(n) {
    var r = regions[n[REG]];
    return [s(n[ADDR]), s(n[LABEL]), s(n[TYPE]), s(n[TLABEL]), r.cloudName, r.region || "",
      r.name || "", s(n[ROOT]), where(n), s(n[CLS])].join(" ").toLowerCase();
  }
  function computeMatches(o) {
    var terms = (o.q || "").toLowerCase().split(/\s+/).filter(Boolean);
    if (terms.length && !hay) hay = nodes.map(searchText);
    matched = new Uint8Array(nodes.length);
    var per = new Array(regions.length).fill(0), total = 0;
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i], c = s(n[CLS]);
      if (!pick(c ? [c] : [], o.classification)) continue;
      if (!pick(words(s(n[POL])), o.policy)) continue;
      var ok = true;
      for (var t = 0; t < terms.length && ok; t++) ok = hay[i].indexOf(terms[t]) >= 0;
      if (!ok) continue;
      matched[i] = 1; per[n[REG]] += 1; total += 1;
    }
    return { per: per, total: total };
  }
  function paintMap(o, m) {
    var on = filtering(o);
    regions.forEach(function (r, i) {
      var el = units[r.key];
      if (!el) return;
      var k = m.per[i];
      el.classList.toggle("dimmed", on && k === 0);
      el.classList.toggle("selected", o.region === r.key);
      el.setAttribute("data-match", String(k));
      var label = el.querySelector(".matches");
      if (label) label.textContent = on ? fmt(k) + " match" : "";
    });
    D.arrows.forEach(function (a) {
      var el = arrowEls[a[0]];
      if (!el) return;
      var ok = !on || a[3].some(function (e) {
        return matched[edges[e][E_SRC]] && matched[edges[e][E_DST]];
      });
      el.classList.toggle("dimmed", !ok);
      el.setAttribute("data-match", ok ? "true" : "false");
    });
  }

  // -- the panel: a region, its root modules, their resources ------------------------------------
  function tallyOf(list) {
    var t = { n: 0, places: 0, cls: {}, verdicts: {} };
    list.forEach(function (i) {
      var n = nodes[i];
      if (n[KIND] === 0) t.n += 1; else t.places += 1;
      var c = s(n[CLS]) || "not in scope", v = s(n[VERDICT]);
      t.cls[c] = (t.cls[c] || 0) + 1;
      t.verdicts[v] = (t.verdicts[v] || 0) + 1;
    });
    t.verdict = Object.keys(t.verdicts).sort(function (a, b) { return rank(a) - rank(b); })[0] ||
      "pass";
    return t;
  }
  function tallyChips(t) {
    var box = h("div", { cls: "chips" });
    Object.keys(t.cls).sort(function (a, b) {
      return (a === "not in scope") - (b === "not in scope") || t.cls[b] - t.cls[a];
    }).forEach(function (c) { box.appendChild(chip(c + " " + fmt(t.cls[c]), c, "class")); });
    Object.keys(t.verdicts).sort(function (a, b) { return rank(a) - rank(b); }).forEach(
      function (v) { box.appendChild(chip(mark(v) + fmt(t.verdicts[v]) + " " + v, v, "verdict")); });
    return box;
  }
  function describe(t) {
    return fmt(t.n) + (t.n === 1 ? " resource" : " resources") +
      (t.places ? ", " + fmt(t.places) + (t.places === 1 ? " replica or outside source" :
        " replicas or outside sources") : "");
  }
  function regionTitle(r) {
    return r.cloudName + " " + (r.region || "region not resolved") + (r.name ? " (" + r.name + ")" : "");
  }
  function link(o, text, cls) {
    var a = h("a", { href: "#" + Object.keys(o).map(function (k) {
      return k + "=" + encodeURIComponent(o[k]).replace(/%2F/g, "/");
    }).join("&") }, text);
    if (cls) a.className = cls;
    return a;
  }
  function nodeLink(i) {
    var n = nodes[i], r = regions[n[REG]];
    return h("span", null, link({ node: "n" + (i + 1) }, code(s(n[NAME]) || s(n[LABEL]))),
      " (" + (r.region || "region not resolved") + ")");
  }
  function regionFlows(ri) {
    var list = h("ul", { cls: "arrows" });
    D.arrows.forEach(function (a) {
      if (a[1] !== ri && a[2] !== ri) return;
      var other = regions[a[1] === ri ? a[2] : a[1]], e0 = edges[a[3][0]];
      var kinds = {};
      a[3].forEach(function (e) { kinds[s(edges[e][E_KIND])] = 1; });
      var status = s(e0[E_STATUS]);
      var li = h("li", null, a[1] === ri ? "\u2192 to " : "\u2190 from ",
        link({ region: other.key }, regionTitle(other)), ": " + fmt(a[3].length) +
        (a[3].length === 1 ? " flow (" : " flows (") + Object.keys(kinds).sort().join(", ") + "), ",
        h("span", { cls: status === "cross-border" ? "cross" : "" }, D.statusWords[status] || status));
      if (a[4] !== "pass") li.appendChild(h("span", null, " \u00b7 ", chip(mark(a[4]) + a[4], a[4], "verdict")));
      list.appendChild(li);
    });
    return list.childNodes.length ? list : null;
  }
  function renderPanel(o) {
    panel.textContent = "";
    var ri = regionOf[o.region];
    if (ri === undefined) {
      if (filtering(o)) renderMatches(o);
      return;
    }
    var r = regions[ri], on = filtering(o);
    var members = [];
    for (var i = 0; i < nodes.length; i++) if (nodes[i][REG] === ri) members.push(i);
    var t = tallyOf(members);
    var head = h("div", { cls: "panel-head" },
      h("h2", { text: regionTitle(r) }),
      h("span", { cls: "loc-" + r.loc, text: D.locationWords[r.loc] }),
      h("span", { cls: "summary", text: describe(t) }),
      link({}, "close", "close"));
    var box = h("section", { cls: "panel", id: "region-panel", "data-key": r.key }, head,
      tallyChips(t), regionFlows(ri));
    var byRoot = {};
    members.forEach(function (i) {
      if (on && !matched[i]) return;
      var root = s(nodes[i][ROOT]);
      (byRoot[root] = byRoot[root] || []).push(i);
    });
    var roots = Object.keys(byRoot).map(function (root) {
      return { root: root, list: byRoot[root], t: tallyOf(byRoot[root]) };
    }).sort(function (a, b) {
      return rank(a.t.verdict) - rank(b.t.verdict) || (a.root < b.root ? -1 : a.root > b.root ? 1 : 0);
    });
    box.appendChild(h("h2", { text: fmt(roots.length) + (roots.length === 1 ? " root module" :
      " root modules") + (on ? " with matches" : "") + ", worst first" }));
    var grid = h("div", { cls: "roots" });
    var limit = Math.max(shownRoots, 1);
    roots.forEach(function (g, k) {
      if (k < limit || g.root === o.root) grid.appendChild(rootCard(o, r, g));
    });
    box.appendChild(grid);
    if (roots.length > limit) {
      var more = h("button", { type: "button", cls: "more" }, "Show " +
        fmt(Math.min(PAGE_ROOTS, roots.length - limit)) + " more of " + fmt(roots.length - limit));
      more.addEventListener("click", function () { shownRoots += PAGE_ROOTS; renderPanel(st); });
      box.appendChild(more);
    }
    panel.appendChild(box);
  }
  function rootCard(o, r, g) {
    var open = o.root === g.root || openRoots[g.root];
    var card = h("div", { cls: "root verdict-" + g.t.verdict + (open ? " open" : ""),
      "data-root": g.root });
    var btn = h("button", { type: "button", "aria-expanded": open ? "true" : "false",
      title: g.root || "." },
      h("span", { cls: "root-name" }, h("bdi", null, g.root || ".")),
      h("span", { cls: "root-line", text: describe(g.t) }));
    btn.appendChild(tallyChips(g.t));
    btn.addEventListener("click", function () {
      var nxt = copy(st);
      if (st.root === g.root) { delete nxt.root; openRoots[g.root] = false; }
      else { nxt.root = g.root; openRoots[g.root] = true; }
      delete nxt.node;
      go(nxt, false);
    });
    card.appendChild(btn);
    if (open) {
      var list = h("div", { cls: "resources" });
      var limit = shownNodes[g.root] || PAGE_NODES;
      g.list.forEach(function (i, k) {
        if (k < limit || "n" + (i + 1) === o.node) list.appendChild(resourceCard(i));
      });
      card.appendChild(list);
      if (g.list.length > limit) {
        var more = h("button", { type: "button", cls: "more" }, "Show all " + fmt(g.list.length));
        more.addEventListener("click", function () {
          shownNodes[g.root] = g.list.length; renderPanel(st);
        });
        card.appendChild(more);
      }
    }
    return card;
  }
  function flowItem(ei, outgoing) {
    var e = edges[ei], other = outgoing ? e[E_DST] : e[E_SRC], status = s(e[E_STATUS]);
    var w = e[E_FILE] > 0 ? s(e[E_FILE]) + (e[E_LINE] ? ":" + e[E_LINE] : "") : "";
    return h("li", null, s(e[E_KIND]) + (outgoing ? " to " : " from "), nodeLink(other), ": ",
      h("span", { cls: status === "cross-border" ? "cross" : "" }, D.statusWords[status] || status),
      " (", code(s(e[E_DECL]) + "." + s(e[E_ARG])), w ? " at " : "", w ? code(w) : "", ")");
  }
  function badge(vi) {
    var v = viols[vi], flag = s(v[1]), c = colors(flag, "verdict");
    return h("a", { href: "#v" + (vi + 1), cls: "badge", title: flag,
      style: "background:" + c[0] + ";color:" + c[1] }, s(v[0]));
  }
  function resourceCard(i) {
    var n = nodes[i], r = regions[n[REG]], c = s(n[CLS]);
    var card = h("article", { cls: "card" + (c ? " classified" : ""), id: "d-n" + (i + 1),
      "data-id": "n" + (i + 1) });
    card.appendChild(h("h3", { text: s(n[NAME]) || s(n[LABEL]) }));
    var dl = h("dl");
    function row(k, v) { if (v) { dl.appendChild(h("dt", { text: k })); dl.appendChild(h("dd", null, v)); } }
    if (n[KIND] === 0) row("type", code(s(n[TLABEL])));
    else row("what", D.kindWords[KINDS[n[KIND]]] + ": " + s(n[SUB]));
    if (s(n[ADDR]) !== s(n[NAME])) row("address", code(s(n[ADDR])));
    row("root module", code(s(n[ROOT]) || "."));
    var w = whereInRoot(n);
    if (w) row("source", h("span", null, code(w), " (" + s(n[INPUT]) + ")"));
    row("region", h("span", null, code((r.region || "not resolved") + (r.name ? " (" + r.name + ")" : "")),
      ": ", h("span", { cls: "loc-" + r.loc, text: D.locationWords[r.loc] })));
    if (n[NOTE] > 0) row("why", s(n[NOTE]));
    if (n[PROV] > 0 && n[PROV] !== n[NOTE]) row("resolved", code(s(n[PROV])));
    if (c) row("data", h("span", null, h("span", { cls: "pill", text: c,
      style: "background:" + colors(c, "class")[0] }), n[SCOPE] > 0 ? " (" + s(n[SCOPE]) + ")" : ""));
    else row("data", "not in scope");
    var items = (out[i] || []).map(function (e) { return flowItem(e, true); })
      .concat((inc[i] || []).map(function (e) { return flowItem(e, false); }));
    if (items.length) row("flows", h.apply(null, ["ul", null].concat(items)));
    var ids = n[VIOLS].slice();
    (inc[i] || []).concat(out[i] || []).forEach(function (e) {
      edges[e][E_VIOLS].forEach(function (v) { if (ids.indexOf(v) < 0) ids.push(v); });
    });
    if (ids.length) {
      var b = h("span");
      ids.forEach(function (v) { b.appendChild(badge(v)); b.appendChild(document.createTextNode(" ")); });
      row("violations", b);
    }
    card.appendChild(dl);
    return card;
  }
  function renderMatches(o) {
    var box = h("section", { cls: "panel", id: "matches" });
    var found = [];
    for (var i = 0; i < nodes.length && found.length <= PAGE_MATCHES; i++) if (matched[i]) found.push(i);
    box.appendChild(h("div", { cls: "panel-head" }, h("h2", { text: "Matching resources" }),
      h("span", { cls: "summary", text: "the map counts them per region; pick one to see them all" })));
    if (!found.length) { box.appendChild(h("p", { cls: "empty", text: "Nothing matches." })); }
    else {
      var table = h("table", { cls: "matches" }, h("thead", null, h("tr", null,
        h("th", { text: "resource" }), h("th", { text: "type" }), h("th", { text: "region" }),
        h("th", { text: "root module" }), h("th", { text: "source" }), h("th", { text: "data" }),
        h("th", { text: "verdict" }))));
      var body = h("tbody");
      found.slice(0, PAGE_MATCHES).forEach(function (i) {
        var n = nodes[i], r = regions[n[REG]], v = s(n[VERDICT]), c = s(n[CLS]);
        body.appendChild(h("tr", { "data-id": "n" + (i + 1) },
          h("td", null, link({ node: "n" + (i + 1) }, code(s(n[NAME]) || s(n[LABEL])))),
          h("td", null, code(n[KIND] === 0 ? s(n[TLABEL]) : KINDS[n[KIND]])),
          h("td", null, link({ region: r.key }, (r.region || "not resolved"))),
          h("td", null, code(s(n[ROOT]) || ".")),
          h("td", null, code(whereInRoot(n))),
          h("td", null, c ? chip(c, c, "class") : "not in scope"),
          h("td", null, chip(mark(v) + v, v, "verdict"))));
      });
      table.appendChild(body);
      box.appendChild(table);
    }
    if (found.length > PAGE_MATCHES) box.appendChild(h("p", { cls: "summary",
      text: "The first " + PAGE_MATCHES + " are listed; pick a region on the map to see all of its matches." }));
    panel.appendChild(box);
  }

  // -- violations, files: rendered when opened ----------------------------------------------------
  function renderViolations() {
    var list = $("violation-list-items");
    if (!list || list.getAttribute("data-done")) return;
    list.setAttribute("data-done", "1");
    viols.forEach(function (v, vi) {
      var flag = s(v[1]), c = colors(flag, "verdict");
      var w = v[3] > 0 ? s(v[3]) + (v[4] ? ":" + v[4] : "") : "";
      var li = h("li", { id: "v" + (vi + 1), cls: flag, "data-policy": s(v[0]),
        "data-nodes": v[9].map(function (x) { return "n" + (x + 1); }).join(" ") },
        h("span", { cls: "badge", style: "background:" + c[0] + ";color:" + c[1] }, s(v[0])), " ",
        h("strong", { text: flag }), " ", code(s(v[2])), w ? " at " : "", w ? code(w) : "",
        h("div", { text: s(v[5]) }));
      if (v[6] > 0) li.appendChild(h("div", { cls: "why", text: "why: " + s(v[6]) }));
      if (v[7] > 0) li.appendChild(h("div", { cls: "fix", text: "fix: " + s(v[7]) }));
      if (v[8] > 0) li.appendChild(h("div", { cls: "why", text: flag + ": " + s(v[8]) }));
      var on = h("div", null, v[9].length ? "on the map: " : "not drawn on the map");
      v[9].forEach(function (x, k) { if (k) on.appendChild(document.createTextNode(", ")); on.appendChild(nodeLink(x)); });
      li.appendChild(on);
      list.appendChild(li);
    });
  }
  function renderFiles() {
    var list = $("file-list");
    if (!list || list.getAttribute("data-done")) return;
    list.setAttribute("data-done", "1");
    D.files.forEach(function (f) { list.appendChild(h("li", null, code(f))); });
  }

  // -- wiring -------------------------------------------------------------------------------------
  function copy(o) { var c = {}; KEYS.forEach(function (k) { if (o[k]) c[k] = o[k]; }); return c; }
  function go(o, scroll) {
    if (o.node && !o.region) {
      var ni = parseInt(o.node.slice(1), 10) - 1;
      if (nodes[ni]) { o.region = regions[nodes[ni][REG]].key; o.root = s(nodes[ni][ROOT]); }
    }
    if (!st || st.region !== o.region) shownRoots = PAGE_ROOTS;
    st = o;
    q.value = o.q || "";
    setSelect(cls, o.classification);
    setSelect(pol, o.policy);
    var t0 = performance.now();
    var m = computeMatches(o);
    paintMap(o, m);
    renderPanel(o);
    count.textContent = (filtering(o) ? fmt(m.total) + " of " + fmt(nodes.length) + " match" :
      fmt(nodes.length) + " resources and places");
    document.body.setAttribute("data-filter", [o.q || "", o.classification || "", o.policy || ""].join("|"));
    document.body.setAttribute("data-region", o.region || "");
    document.body.setAttribute("data-filter-ms", (performance.now() - t0).toFixed(1));
    write(o);
    if (scroll) {
      var target = (o.node && $("d-" + o.node)) || (o.root && panel.querySelector(".root.open")) ||
        (o.region && panel.firstChild) || null;
      if (target) {
        if (o.node) target.classList.add("selected");
        target.scrollIntoView({ block: o.node ? "center" : "start" });
      }
    }
  }
  function fromControls() {
    var o = copy(st || {});
    o.q = q.value.trim(); o.classification = cls.value; o.policy = pol.value;
    delete o.node;
    go(o, false);
  }
  q.addEventListener("input", fromControls);
  cls.addEventListener("change", fromControls);
  pol.addEventListener("change", fromControls);
  $("reset").addEventListener("click", function () { go({}, false); });
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest ? ev.target.closest("a") : null;
    if (!a) return;
    var href = a.getAttribute("href") || "";
    if (href.charAt(0) !== "#") return;
    ev.preventDefault();
    if (/^#v\d+$/.test(href)) { showViolation(href.slice(1)); return; }
    var saved = location.hash;
    var o = {};
    href.slice(1).split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) o[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
    });
    var nxt = copy(st || {});
    delete nxt.region; delete nxt.root; delete nxt.node;
    Object.keys(o).forEach(function (k) { nxt[k] = o[k]; });
    if (o.region && st && st.region === o.region && !o.root) { delete nxt.region; }
    go(nxt, !!(nxt.region || nxt.node));
    if (!nxt.region && saved) { /* closed */ }
  });
  function showViolation(id) {
    var d = $("violation-list");
    if (d) { d.open = true; renderViolations(); }
    var el = $(id);
    if (el) {
      Array.prototype.forEach.call(document.querySelectorAll(".violations .selected"),
        function (x) { x.classList.remove("selected"); });
      el.classList.add("selected");
      el.scrollIntoView({ block: "center" });
    }
  }
  var vd = $("violation-list");
  if (vd) vd.addEventListener("toggle", function () { if (vd.open) renderViolations(); });
  var fd = $("files");
  if (fd) fd.addEventListener("toggle", function () { if (fd.open) renderFiles(); });
  if (vd && vd.open) renderViolations();
  var baseW = svg ? parseFloat(svg.getAttribute("width")) : 0;
  var baseH = svg ? parseFloat(svg.getAttribute("height")) : 0, scale = 1;
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
  if (svg && baseW > svg.parentNode.clientWidth) zoom(0);  // the whole summary at first sight
  function fromHash() {
    if (/^#v\d+$/.test(location.hash)) { go({}, false); showViolation(location.hash.slice(1)); return; }
    var o = parse();
    go(o, !!(o.region || o.node));
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
"""


def _e(value: object) -> str:
    return escape(visible_lines(value), quote=True)


class _Strings:
    """One table for every string of the JSON block: an estate repeats names and paths a lot."""

    def __init__(self) -> None:
        self.items: list[str] = [""]
        self.index: dict[str, int] = {"": 0}

    def __call__(self, value: str | None) -> int:
        if not value:
            return 0
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.items)
            self.items.append(value)
        return found


_KIND_CODES = {NodeKind.RESOURCE: 0, NodeKind.REPLICA: 1, NodeKind.EXTERNAL: 2}


def _data(m: ResidencyMap) -> tuple[dict[str, Any], str]:
    """The page's JSON block (all three levels) and the inline SVG of the summary."""
    view = build_view(m, Detail.SUMMARY)
    s = _Strings()
    verdicts = node_verdicts(m)
    region_of: dict[str, int] = {}
    regions: list[dict[str, Any]] = []
    for i, unit in enumerate(view.units):
        regions.append(
            {
                "key": unit.key,
                "id": unit.id,
                "loc": unit.location.value,
                "cloud": unit.cloud,
                "cloudName": unit.cloud_name,
                "region": unit.region,
                "name": unit.region_name,
            }
        )
        for n in unit.nodes:
            region_of[n] = i
    index = {n.id: i for i, n in enumerate(m.nodes)}
    vindex = {v.id: i for i, v in enumerate(m.violations)}
    eindex = {e.id: i for i, e in enumerate(m.edges)}
    nodes = [
        [
            region_of[n.id],
            _KIND_CODES[n.kind],
            s(n.name),
            s(n.label),
            s(n.type_label),
            s(n.type),
            s(n.root),
            s(n.file),
            n.line or 0,
            s(n.scope_label),
            s(verdicts[n.id]),
            s(" ".join(m.policies_of(n.id))),
            s(n.address),
            s(n.provenance),
            s(n.location_note),
            s(n.scope_reason),
            s(n.subtitle),
            s(n.input),
            [vindex[v] for v in n.violations],
        ]
        for n in m.nodes
    ]
    edges = [
        [
            index[e.source],
            index[e.target],
            s(e.kind),
            s(e.argument),
            s(e.declared_by),
            s(e.file),
            e.line or 0,
            s(e.status.value),
            s(e.destination),
            s(e.destination_explain),
            1 if e.classified else 0,
            [vindex[v] for v in e.violations],
        ]
        for e in m.edges
    ]
    violations = []
    for mv in m.violations:
        v = mv.violation
        violations.append(
            [
                s(v.policy),
                s(violation_flag(v)),
                s(v.resource),
                s(v.file),
                v.line or 0,
                s(v.message),
                s(v.evidence),
                s(v.fix),
                s(v.suppression_reason or v.approval_reference),
                [index[n] for n in mv.nodes],
                [eindex[e] for e in mv.edges],
            ]
        )
    unit_index = {u.id: i for i, u in enumerate(view.units)}
    arrows = [
        [a.id, unit_index[a.source], unit_index[a.target], [eindex[e] for e in a.edges], a.verdict]
        for a in view.arrows
    ]
    # in rank order: a set's order changes with the hash seed, and the page must not
    flags = sorted(
        {violation_flag(v.violation) for v in m.violations} | {PASS, "blocking"},
        key=lambda f: (verdict_rank(f), f),
    )
    data: dict[str, Any] = {
        "regions": regions,
        "nodes": nodes,
        "edges": edges,
        "violations": violations,
        "arrows": arrows,
        "files": list(m.files),
        "ranks": {f: verdict_rank(f) for f in flags},
        "verdictColors": {f: _verdict_pair(f) for f in flags},
        "classColors": {c: [color, "#ffffff"] for c, color in CLASSIFICATION_COLOR.items()}
        | {"not in scope": ["#eceff1", "#263238"]},
        "classFallback": CLASSIFIED_FALLBACK,
        "statusWords": {k.value: v for k, v in EDGE_LEGEND.items()},
        "locationWords": {
            "mainland": "mainland China",
            "outside": "outside mainland China",
            "unknown": "location unknown",
        },
        "kindWords": {
            "replica": "replica (no resource of its own in the configuration)",
            "external": "source outside the scanned configuration",
        },
        "s": s.items,
    }
    return data, svg_element(view, standalone=False)


def _verdict_pair(flag: str) -> list[str]:
    return list(verdict_colors(flag))


def _visible_strings(value: Any) -> Any:
    if isinstance(value, str):
        return visible_lines(value)
    if isinstance(value, list):
        return [_visible_strings(v) for v in value]
    if isinstance(value, dict):
        return {visible_lines(k): _visible_strings(v) for k, v in value.items()}
    return value


def _json_block(data: dict[str, Any]) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment, whatever the strings say;
    its strings, which the page shows as text, carry control and bidi characters as visible
    escapes, as every other label does."""
    text = json.dumps(_visible_strings(data), ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def render_html(m: ResidencyMap, detail: Detail = Detail.SUMMARY) -> str:
    """The page. ``detail`` does not apply: the page starts at the summary and opens on demand."""
    data, svg = _data(m)
    title = m.title if m.complete else f"INCOMPLETE: {m.title}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="ciiguard map">',
        f"<title>{_e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(m.title)}</h1>",
        f'<p class="summary">{_e(m.summary())}</p>',
    ]
    if m.errors:
        out.append('<div class="incomplete" role="alert"><strong>INCOMPLETE scan.</strong> ')
        out.append(
            f"{len(m.errors)} input{'' if len(m.errors) == 1 else 's'} could not be read, so the "
            "map may be missing resources:<ul>"
            + "".join(f"<li><code>{_e(e.render())}</code></li>" for e in m.errors)
            + "</ul></div>"
        )
    out.append("</header>")
    out.extend(_filters(m))
    out.append("<main>")
    out.append(f'<div class="map" id="map">{svg}</div>')
    out.append(
        '<p class="hint">Each box is a region; arrows fold the flows between two regions. '
        "Pick a region to see its root modules, then their resources.</p>"
    )
    out.append(
        "<noscript><p>The details of each region need JavaScript; the summary above is "
        "complete.</p></noscript>"
    )
    out.append('<div id="panel" aria-live="polite"></div>')
    out.extend(_violations(m))
    if m.warnings:
        out.append('<details id="warnings"><summary>Warnings</summary><ul>')
        out.extend(f"<li><code>{_e(w.render())}</code></li>" for w in m.warnings)
        out.append("</ul></details>")
    out.append(
        f'<details id="files"><summary>{len(m.files):,} input files scanned</summary>'
        '<ul id="file-list"></ul></details>'
    )
    out.append("</main>")
    out.append(f'<script type="application/json" id="map-data">{_json_block(data)}</script>')
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
        f'<span id="count" aria-live="polite">{len(m.nodes):,} resources and places</span>',
        '<span class="zoom"><button type="button" id="zoom-out" title="zoom out">&minus;</button>'
        '<button type="button" id="zoom-fit" title="fit to width">fit</button>'
        '<button type="button" id="zoom-in" title="zoom in">+</button></span>',
        "</form>",
    ]


def _violations(m: ResidencyMap) -> list[str]:
    """The violation list, filled by the script when opened (open at once when it is short)."""
    if not m.violations:
        return [
            '<section id="violations-none"><h2>Violations</h2>',
            '<p class="empty">No violations.</p></section>',
        ]
    blocking = sum(1 for v in m.violations if v.violation.blocking)
    open_ = " open" if len(m.violations) <= 200 else ""
    return [
        f'<details id="violation-list"{open_}><summary><strong>Violations</strong> '
        f"({len(m.violations):,}, {blocking:,} blocking)</summary>",
        '<ol class="violations" id="violation-list-items"></ol></details>',
    ]
