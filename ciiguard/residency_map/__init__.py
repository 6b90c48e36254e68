"""The residency map: where every piece of classified data lives and where it flows.

Built from a finished :class:`ciiguard.model.ScanResult` only, so it knows nothing of file formats
and accepts every input the scan accepts (Terraform, plan JSON, Pulumi, plugin parsers). One graph
model (:mod:`.model`), seen at a level of detail (:mod:`.view`: the summary, root modules or
resources), one pure-Python layout (:mod:`.layout`), four renderers.
"""

from __future__ import annotations

from collections.abc import Callable

from ciiguard.residency_map.dot import render_dot
from ciiguard.residency_map.html_page import render_html
from ciiguard.residency_map.mermaid import render_mermaid
from ciiguard.residency_map.model import ResidencyMap, build_map
from ciiguard.residency_map.svg import render_svg
from ciiguard.residency_map.view import Detail

RENDERERS: dict[str, Callable[[ResidencyMap, Detail], str]] = {
    "html": render_html,
    "svg": render_svg,
    "mermaid": render_mermaid,
    "dot": render_dot,
}

# What ``--output FILE`` implies when ``--format`` is not given.
SUFFIX_FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".svg": "svg",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
}

__all__ = ["RENDERERS", "SUFFIX_FORMATS", "Detail", "ResidencyMap", "build_map", "render"]


def render(residency_map: ResidencyMap, fmt: str, detail: Detail = Detail.SUMMARY) -> str:
    """Render ``residency_map`` in ``fmt`` (a key of :data:`RENDERERS`) at ``detail`` (the HTML
    page starts at the summary whatever ``detail`` says, and opens the rest on demand)."""
    return RENDERERS[fmt](residency_map, detail)
