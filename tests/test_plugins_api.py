"""The plugin-facing contract: the public API imports, plugin-facing docs and the example plugin
use only public names, every hook is documented pytest-style, and the guide's code works."""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ciiguard
import ciiguard.testing
from ciiguard.plugins import hookspecs
from tests.conftest import EXAMPLES, ROOT, clean_env, run_cli

GUIDE = ROOT / "docs" / "plugins.md"
PLUGIN = EXAMPLES / "policy-plugin"
FILE_NAMES = {"ciiguard.toml"}  # dotted words in prose that are file names, not imports


def test_every_public_name_imports_in_a_fresh_interpreter() -> None:
    code = (
        "import ciiguard, ciiguard.testing\n"
        "for n in ciiguard.__all__: getattr(ciiguard, n)\n"
        "for n in ciiguard.testing.__all__: getattr(ciiguard.testing, n)\n"
        f"from ciiguard import {', '.join(n for n in ciiguard.__all__ if n != '__version__')}\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_public_names_are_the_lazy_exports_and_nothing_else() -> None:
    assert sorted(ciiguard.__all__) == ciiguard.__all__
    assert set(ciiguard.__all__) == set(ciiguard._EXPORTS) | {"__version__"}
    with pytest.raises(AttributeError):
        ciiguard.PolicyV2  # noqa: B018
    assert [n for n in ciiguard.__all__ if n.startswith("_")] == ["__version__"]
    assert [n for n in ciiguard.testing.__all__ if n.startswith("_")] == []


def test_hookimpl_is_the_marker_of_the_ciiguard_project() -> None:
    assert ciiguard.hookimpl.project_name == "ciiguard"
    assert hookspecs.hookspec.project_name == "ciiguard"


def is_public(ref: str) -> bool:
    """``ciiguard.X.Y...``: may a plugin author use it?"""
    if ref in FILE_NAMES:
        return True
    parts = ref.split(".")
    if parts[-1] in ("__all__", "__version__"):
        return is_public(".".join(parts[:-1])) if len(parts) > 2 else True
    if parts[1] == "testing":
        return len(parts) == 2 or parts[2] in ciiguard.testing.__all__
    if parts[1:3] == ["plugins", "hookspecs"]:
        return len(parts) == 3 or parts[3] in hookspecs.__all__
    return parts[1] in ciiguard.__all__


DOTTED = re.compile(r"(?<![\w/.-])ciiguard(?:\.[A-Za-z_]\w*)+")
FROM_IMPORT = re.compile(r"from\s+ciiguard\s+import\s+\(?([\w\s,]+?)\)?\s*(?:#|$)", re.M)


def non_public_refs(text: str) -> list[str]:
    bad = [ref for ref in DOTTED.findall(text) if not is_public(ref)]
    for group in FROM_IMPORT.findall(text):
        names = [n.strip() for n in group.replace("\n", ",").split(",") if n.strip()]
        bad.extend(f"ciiguard.{n}" for n in names if n not in ciiguard.__all__)
    return bad


def docstrings(path: Path) -> str:
    tree = ast.parse(path.read_text())
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef))]
    return "\n".join(ast.get_docstring(n) or "" for n in nodes)


def plugin_facing_texts() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Plugins") :]
    texts = {
        "docs/plugins.md": GUIDE.read_text(),
        "README.md#plugins": section.split("\n## ", 1)[0],
        "ciiguard/plugins/hookspecs.py": docstrings(ROOT / "ciiguard/plugins/hookspecs.py"),
        "ciiguard/plugins/__init__.py": docstrings(ROOT / "ciiguard/plugins/__init__.py"),
        "ciiguard/testing.py": docstrings(ROOT / "ciiguard/testing.py"),
        "ciiguard/__init__.py": docstrings(ROOT / "ciiguard/__init__.py"),
    }
    for path in sorted(PLUGIN.rglob("*")):
        rel = path.relative_to(PLUGIN).parts
        if any(p.startswith((".", "__pycache__", "build")) or p.endswith(".egg-info") for p in rel):
            continue
        if path.suffix in (".py", ".md", ".toml"):
            texts[str(path.relative_to(ROOT))] = path.read_text()
    return texts


def test_the_reference_checker_catches_private_names() -> None:
    text = "use ciiguard.Policy and ciiguard.scan.gather\nfrom ciiguard import Policy, _EXPORTS\n"
    assert non_public_refs(text) == ["ciiguard.scan.gather", "ciiguard._EXPORTS"]
    assert non_public_refs("from ciiguard.policies.base import Policy") == [
        "ciiguard.policies.base"
    ]


@pytest.mark.parametrize("name", list(plugin_facing_texts()))
def test_plugin_facing_docs_and_example_mention_only_public_names(name: str) -> None:
    text = plugin_facing_texts()[name]
    assert "ciiguard" in text
    assert non_public_refs(text) == []


def test_the_guide_lists_every_public_name_and_every_hook() -> None:
    text = GUIDE.read_text()
    api = text[text.index("## The public API") :]
    for name in ciiguard.__all__ + ciiguard.testing.__all__:
        assert f"`{name}`" in api, name
    for hook in hookspecs.__all__:
        assert f"`{hook}`" in text, hook


HOOKS = [getattr(hookspecs, n) for n in hookspecs.__all__]


def test_hookspecs_all_is_every_hook() -> None:
    found = sorted(n for n, f in vars(hookspecs).items() if hasattr(f, "ciiguard_spec"))
    assert found == sorted(hookspecs.__all__)


@pytest.mark.parametrize("hook", HOOKS, ids=[h.__name__ for h in HOOKS])
def test_every_hookspec_is_documented_pytest_style(hook) -> None:
    doc = inspect.getdoc(hook) or ""
    assert "Called " in doc, "when it is called"
    assert ":returns:" in doc, "what it returns"
    assert "Example" in doc and "@ciiguard.hookimpl" in doc, "an example implementation"
    for param in inspect.signature(hook).parameters:
        assert f":param {param}:" in doc, f"argument {param}"
    firstresult = hook.ciiguard_spec["firstresult"]
    assert ("Not ``firstresult``" in doc) is not firstresult
    assert ("``firstresult``: the first non-None result wins" in doc) is firstresult
    # the example really implements this hook, with a subset of its arguments
    example = doc[doc.index("@ciiguard.hookimpl") :]
    m = re.search(r"def (\w+)\(([^)]*)\)", example)
    assert m is not None and m.group(1) == hook.__name__
    args = {a.strip() for a in m.group(2).split(",") if a.strip()}
    assert args <= set(inspect.signature(hook).parameters)


def guide_files() -> dict[str, str]:
    blocks = re.findall(r"```(?:python|toml)\n# (\S+)\n(.*?)```", GUIDE.read_text(), re.S)
    return {path: body for path, body in blocks}


def test_the_guides_plugin_works_as_written(tmp_path: Path) -> None:
    files = guide_files()
    assert set(files) == {
        "src/acme_ciiguard/policy.py",
        "src/acme_ciiguard/plugin.py",
        "pyproject.toml",
        "tests/test_policy.py",
    }
    for rel, body in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    (tmp_path / "src/acme_ciiguard/__init__.py").write_text('__version__ = "0.1.0"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CIIGUARD_"))}
    env["PYTHONPATH"] = str(tmp_path / "src")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr
    cli_env = clean_env(PYTHONPATH=str(tmp_path / "src"), CIIGUARD_DISABLE_PLUGIN_AUTOLOAD="1")
    listed = run_cli("plugins", "-p", "acme_ciiguard.plugin", env=cli_env)
    assert "acme_ciiguard.plugin  0.1.0" in listed.stdout and "ACME001" in listed.stdout
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text(
        files["tests/test_policy.py"].split('"""')[1].replace("eu-central-1", "cn-north-1")
    )
    mainland = run_cli("scan", str(infra), "-p", "acme_ciiguard.plugin", env=cli_env)
    assert mainland.code == 0, mainland.stdout + mainland.stderr
