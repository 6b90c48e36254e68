"""The shape of the package (docs/architecture.md): one-way arrows between the stages, no import
cycles, and the public contracts the layout must never move (public names, hooks, entry points,
CLI options, report schema)."""

from __future__ import annotations

import argparse
import ast
import importlib
from collections.abc import Mapping
from pathlib import Path

import pytest

import ciiguard
import ciiguard.testing
from tests.conftest import ROOT

PACKAGE = ROOT / "ciiguard"

# The stages, lowest first (docs/architecture.md). A module may import modules of a lower rank, or
# of its own stage; never upward. The longest matching prefix decides a module's rank.
RANKS: dict[str, int] = {
    "ciiguard.model": 0,
    "ciiguard.errors": 0,
    "ciiguard.settings": 0,
    "ciiguard.escaping": 0,  # how scanned values are written into each output format
    "ciiguard.paths": 0,  # path helpers the caches and the parsers both use
    "ciiguard.catalogue": 1,
    "ciiguard.cache": 2,  # the store and the result cache: content-addressed, format-blind
    "ciiguard.parsers": 3,
    "ciiguard.resolve": 4,
    "ciiguard.policies": 5,
    "ciiguard.gate": 6,
    "ciiguard.reporters": 7,
    "ciiguard.residency_map": 7,
    "ciiguard.plugins": 8,  # wires every stage: registers the built-ins, types the hooks
    "ciiguard.scan": 9,  # runs the stages in order
    "ciiguard.pulumi": 10,  # public: the CrossGuard bridge
    "ciiguard.testing": 10,  # public: the plugin test helpers
    "ciiguard.cache.replay": 10,  # replays a whole command: sits with the command line
    "ciiguard.cli": 11,
    "ciiguard.__main__": 12,  # python -m ciiguard
}


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    mods = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        mods[name] = path
    return mods


def imports_of(name: str, path: Path, known: Mapping[str, Path]) -> dict[str, int]:
    """Our modules that ``name`` imports (lazily or not), each with the line of the import.

    ``from pkg import mod`` counts as importing ``pkg.mod`` (and ``pkg``, whose ``__init__``
    runs); imports under ``if TYPE_CHECKING:`` count too, as in shared/tools/layers.py.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: dict[str, int] = {}

    def add(target: str, line: int) -> None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.setdefault(target, line)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")
                if path.name != "__init__.py":
                    parts = parts[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, *([base] if base else [])])
            add(base, node.lineno)
            for alias in node.names:
                add(f"{base}.{alias.name}", node.lineno)
    return found


def rank(module: str) -> tuple[str, int]:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in RANKS:
            return key, RANKS[key]
    raise KeyError(module)


def broken_arrows(graph: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Every import that points up the stages (the package root is the lazy public facade: any
    module may import it for ``__version__``; its own imports are checked separately)."""
    bad = []
    for module, deps in graph.items():
        if module == "ciiguard":
            continue
        stage, level = rank(module)
        for dep, line in deps.items():
            if dep == "ciiguard":
                continue
            dep_stage, dep_level = rank(dep)
            if dep_level > level or (dep_level == level and dep_stage != stage):
                bad.append(
                    f"{module}:{line} imports {dep} ({stage} {level} -> {dep_stage} {dep_level})"
                )
    return sorted(bad)


def cycles(graph: Mapping[str, Mapping[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


MODULES = module_files()
GRAPH = {m: imports_of(m, p, MODULES) for m, p in MODULES.items()}


def test_every_module_has_a_stage() -> None:
    unplaced = []
    for m in MODULES:
        if m == "ciiguard":
            continue
        try:
            rank(m)
        except KeyError:
            unplaced.append(m)
    assert unplaced == [], "add the new module or package to RANKS and docs/architecture.md"


def test_no_import_cycles() -> None:
    assert cycles(GRAPH) == []


def test_arrows_point_only_down_the_stages() -> None:
    assert broken_arrows(GRAPH) == []


@pytest.mark.parametrize(
    ("stage", "forbidden"),
    [
        ("ciiguard.parsers", ("policies", "gate", "reporters", "residency_map", "cli", "scan")),
        ("ciiguard.policies", ("parsers", "gate", "reporters", "cli")),
        ("ciiguard.resolve", ("policies", "gate", "reporters", "cli")),
        ("ciiguard.model", ("catalogue", "parsers", "resolve", "policies", "gate", "cli")),
        ("ciiguard.catalogue", ("parsers", "resolve", "policies", "gate", "reporters", "cli")),
    ],
)
def test_the_named_rules_of_the_brief(stage: str, forbidden: tuple[str, ...]) -> None:
    """Parsers never import policies, the gate, reports or the CLI; policies never see a parser."""
    bad = [
        f"{m} -> {d}"
        for m, deps in GRAPH.items()
        if m == stage or m.startswith(stage + ".")
        for d in deps
        if d.split(".")[1:2] and d.split(".")[1] in forbidden
    ]
    assert bad == []


def test_nothing_imports_the_cli() -> None:
    importers = sorted(
        m
        for m, deps in GRAPH.items()
        if any(d == "ciiguard.cli" or d.startswith("ciiguard.cli.") for d in deps)
        and not m.startswith("ciiguard.cli")
    )
    assert importers == ["ciiguard.__main__"]


def test_the_package_root_imports_only_for_type_checkers() -> None:
    """``ciiguard.__init__`` re-exports lazily: a runtime import there would load every stage
    on ``ciiguard --version`` and could close a cycle through the root."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    runtime = [
        n.lineno
        for n in tree.body
        if (isinstance(n, ast.ImportFrom) and (n.module or "").startswith("ciiguard"))
        or (isinstance(n, ast.Import) and any(a.name.startswith("ciiguard") for a in n.names))
    ]
    assert runtime == []


def test_the_checker_catches_an_upward_arrow_and_a_cycle() -> None:
    planted = {
        "ciiguard.parsers.x": {"ciiguard.policies.base": 3},
        "ciiguard.policies.base": {"ciiguard.model": 1},
        "ciiguard.model": {},
        "ciiguard.gate.a": {"ciiguard.gate.b": 1},
        "ciiguard.gate.b": {"ciiguard.gate.a": 1},
        "ciiguard.reporters.t": {"ciiguard.residency_map.m": 2},
    }
    assert broken_arrows(planted) == [
        "ciiguard.parsers.x:3 imports ciiguard.policies.base (ciiguard.parsers 3 -> ciiguard.policies 5)",
        "ciiguard.reporters.t:2 imports ciiguard.residency_map.m "
        "(ciiguard.reporters 7 -> ciiguard.residency_map 7)",
    ]
    assert cycles(planted) == [["ciiguard.gate.a", "ciiguard.gate.b"]]
    lazy = "def f():\n    from ciiguard.policies import base\n"
    fake = ROOT / "tests" / "_fake_parser_module.py"
    try:
        fake.write_text(lazy)
        found = imports_of("ciiguard.parsers.fake", fake, MODULES)
    finally:
        fake.unlink()
    assert set(found) == {"ciiguard.policies", "ciiguard.policies.base"}


def test_every_stage_package_says_what_enters_and_what_leaves() -> None:
    for init in sorted(PACKAGE.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert len(doc.split()) >= 15, f"{init.relative_to(ROOT)} needs a docstring"
    for stage in (
        "parsers",
        "parsers/terraform",
        "parsers/terragrunt",
        "parsers/pulumi",
        "resolve",
        "gate",
        "reporters",
    ):
        doc = ast.get_docstring(ast.parse((PACKAGE / stage / "__init__.py").read_text())) or ""
        assert "Enters:" in doc and "Leaves:" in doc, stage


def test_the_architecture_guide_names_every_stage_package() -> None:
    guide = (ROOT / "docs" / "architecture.md").read_text()
    assert "```mermaid" in guide
    packages = sorted(
        str(p.parent.relative_to(PACKAGE))
        for p in PACKAGE.rglob("__init__.py")
        if p.parent != PACKAGE
    )
    missing = [p for p in packages if f"{p}/" not in guide]
    assert missing == []


def test_the_result_cache_digests_all_of_ciiguard() -> None:
    """The result and replay caches are keyed by a digest of ciiguard's code: it must cover the
    whole package (every stage, the catalogue data), not the folder the cache code sits in."""
    from ciiguard.cache import results

    assert Path(ciiguard.__file__).resolve().parent == results.CODE_ROOT
    assert (results.CODE_ROOT / "catalogue" / "data" / "aws.json").is_file()


# -- public contracts: the layout moved files, never these -------------------------------------

PUBLIC_NAMES = [
    "Catalogue",
    "Classification",
    "Enforcement",
    "Finding",
    "Flow",
    "Gap",
    "Hop",
    "Location",
    "ParseContext",
    "ParseOutput",
    "Parser",
    "Policy",
    "PolicyContext",
    "RegionInfo",
    "Report",
    "Reporter",
    "Resource",
    "ScanIssue",
    "ScanResult",
    "Settings",
    "Severity",
    "Unknown",
    "Violation",
    "__version__",
    "hookimpl",
]
TESTING_NAMES = [
    "Outcome",
    "ScanIncomplete",
    "Scanner",
    "ciiguard_plugins",
    "ciiguard_scan",
    "claimed_by",
    "scan_files",
    "scan_path",
    "scan_plan",
    "scan_pulumi_yaml",
    "scan_terraform",
]
# hook name -> firstresult
HOOKS = {
    "ciiguard_catalogue": False,
    "ciiguard_classify": True,
    "ciiguard_parsers": False,
    "ciiguard_policies": False,
    "ciiguard_reporters": False,
}
CLI_OPTIONS = {
    "": ["--help", "--version"],
    "explain": ["--config", "--disable-plugin", "--no-config", "--plugin", "-p"],
    "map": [
        "--allow-outside-root", "--baseline", "--changed-only", "--cii-workload", "--config",
        "--detail", "--disable-plugin", "--format", "--jobs", "--max-file-size", "--no-cache",
        "--no-config",
        "--output", "--plugin", "--run-programs", "--source", "--stack", "--title", "--var",
        "--var-file", "-f", "-j", "-o", "-p",
    ],
    "plugins": ["--config", "--disable-plugin", "--no-config", "--plugin", "-p"],
    "policies": ["--config", "--disable-plugin", "--no-config", "--plugin", "-p"],
    "scan": [
        "--allow-outside-root", "--baseline", "--changed-only", "--cii-workload", "--config",
        "--create-baseline", "--disable-plugin", "--explain", "--fail-on", "--format", "--jobs",
        "--max-file-size", "--no-cache", "--no-config", "--output", "--plugin", "--run-programs",
        "--soft-fail", "--source", "--stack", "--var", "--var-file", "-f", "-j", "-o", "-p",
    ],
}  # fmt: skip


def test_public_names_are_pinned() -> None:
    assert ciiguard.__all__ == PUBLIC_NAMES
    assert ciiguard.testing.__all__ == TESTING_NAMES
    for name in PUBLIC_NAMES:
        assert getattr(ciiguard, name) is not None
    pulumi_bridge = importlib.import_module("ciiguard.pulumi")
    assert pulumi_bridge.__all__ == [
        "check_stack",
        "policies",
        "policy_pack",
        "resources_from_stack",
    ]


def test_hooks_are_pinned() -> None:
    from ciiguard.plugins import hookspecs

    found = {
        name: bool(getattr(fn, "ciiguard_spec", {}).get("firstresult"))
        for name, fn in vars(hookspecs).items()
        if hasattr(fn, "ciiguard_spec")
    }
    assert found == HOOKS
    assert sorted(hookspecs.__all__) == sorted(HOOKS)


def test_entry_points_and_schema_ids_are_pinned() -> None:
    import tomllib

    from ciiguard.plugins import manager
    from ciiguard.reporters import json_report

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"ciiguard": "ciiguard.cli:console"}
    assert project["entry-points"]["pytest11"] == {"ciiguard.testing": "ciiguard.testing"}
    assert manager.PROJECT == "ciiguard"  # the plugins' entry-point group and pluggy project
    assert json_report.SCHEMA == "ciiguard/report@1"


def test_cli_commands_and_options_are_kept() -> None:
    """Options may be added (additive change), never removed or renamed."""
    from ciiguard.cli.app import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = {"": {s for a in parser._actions for s in a.option_strings}}
    for name, subparser in sub.choices.items():
        found[name] = {s for a in subparser._actions for s in a.option_strings}
    for command, options in CLI_OPTIONS.items():
        assert command in found, command
        assert set(options) <= found[command], (command, sorted(set(options) - found[command]))
