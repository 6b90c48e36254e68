"""Benchmark: what a compiled build of the same source gives (issue 24's open targets).

    python benchmarks/compiled_benchmark.py [--module PATH ...] [--plan-resources 100000]
                                            [--rounds 3] [--keep DIR] [--out F]

ciiguard is pure Python. This measures the one compiled core that needs no second
implementation: mypyc (mypy's compiler, in the dev dependencies; it needs a C compiler and
Python's headers) compiling ciiguard's own modules, which ``mypy --strict`` already checks.

``ciiguard/`` is copied twice from this checkout into a temporary directory. The modules named
with ``--module`` (default: the stages a plan's time goes through) are compiled in the second
copy. A generated plan is then scanned by both copies, in alternating rounds, with the same
interpreter, ``--no-cache`` and a JSON report: wall time and the child's peak RSS. The reports
must be identical (apart from where the built-in plugin is installed); a difference, or a copy
that exits otherwise than the other, is reported and fails the run (exit 1).

Nothing here is installed: a build that cannot compile is an error, and the pure source stays
the product.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from plan_benchmark import generate_plan  # noqa: E402
from run import bench_env, measure, say_machine, write_results  # noqa: E402

SOURCE = HERE.parent / "ciiguard"
# where a plan's time goes (docs/performance.md): reading and building, resolution, policies,
# the gate, the JSON report. mypyc compiles each of these as they are.
PLAN_STAGES = [
    "ciiguard/parsers/terraform/plan.py",
    "ciiguard/resolve/locate.py",
    "ciiguard/resolve/flows.py",
    "ciiguard/resolve/parent_region.py",
    "ciiguard/resolve/classify.py",
    "ciiguard/policies/run.py",
    "ciiguard/policies/unknown.py",
    "ciiguard/policies/residency.py",
    "ciiguard/policies/crossborder.py",
    "ciiguard/gate/stage.py",
    "ciiguard/reporters/json_report.py",
]


def copy_source(dest: Path) -> Path:
    shutil.copytree(SOURCE, dest / "ciiguard", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    return dest


def compile_modules(tree: Path, modules: list[str]) -> None:
    """mypyc builds the extension modules in place, next to their sources (which stay: the
    compiled module is imported first)."""
    proc = subprocess.run([sys.executable, "-m", "mypyc", *modules], cwd=tree, capture_output=True,
                          text=True, check=False)  # fmt: skip
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "error" in ln.lower()]
        raise SystemExit("mypyc failed:\n" + "\n".join(lines[:20] or [proc.stderr[-2000:]]))
    built = [p for p in tree.rglob("*.so") if "build" not in p.relative_to(tree).parts]
    print(f"compiled {len(modules)} modules into {len(built)} extension files")


def runner(tree: Path) -> list[str]:
    """This interpreter with ``tree`` first on its path. Run it outside the checkout: ``-m``
    and ``-c`` import from the working directory before ``PYTHONPATH``."""
    return ["env", f"PYTHONPATH={tree}", sys.executable]


def check_loaded(tree: Path, modules: list[str], compiled: bool) -> None:
    """Each module comes from ``tree``, as an extension module in the compiled copy and as its
    source in the other: otherwise the comparison would not compare what it says."""
    names = [m.removesuffix(".py").replace("/", ".") for m in modules]
    code = f"import importlib\nfor n in {names!r}: print(importlib.import_module(n).__file__)"
    files = subprocess.run([*runner(tree), "-c", code], capture_output=True, text=True, cwd=tree,
                           check=True).stdout.split()  # fmt: skip
    for name, file in zip(names, files, strict=True):
        if not file.startswith(str(tree)) or file.endswith(".py") == compiled:
            raise SystemExit(
                f"{name} is loaded from {file}, not from {'compiled' if compiled else 'pure'} {tree}"
            )


def comparable(report: Path) -> object:
    doc = json.loads(report.read_text(encoding="utf-8"))
    for plugin in doc.get("plugins", []):
        plugin.pop("location", None)
    return doc


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--module", action="append", default=[], metavar="PATH",
                    help="a module to compile, as a path under the checkout (repeatable)")  # fmt: skip
    ap.add_argument("--plan-resources", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--keep", type=Path, help="build here and keep it (default: a temporary directory)"
    )
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    modules = args.module or PLAN_STAGES
    work = args.keep or Path(tempfile.mkdtemp(prefix="ciiguard-compiled-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        pure = copy_source(work / "pure")
        compiled = copy_source(work / "compiled")
        compile_modules(compiled, modules)
        check_loaded(pure, modules, compiled=False)
        check_loaded(compiled, modules, compiled=True)
        plan = generate_plan(work / "plan.json", args.plan_resources)
        size = plan.stat().st_size
        env = bench_env(work)
        say_machine()
        print(
            f"plan JSON, {args.plan_resources} resources ({size / 1e6:.1f} MB), {args.rounds} rounds"
        )
        runs: dict[str, list[dict[str, float]]] = {"pure": [], "compiled": []}
        codes: dict[str, list[int]] = {}
        for _ in range(args.rounds):
            for label, tree in (("pure", pure), ("compiled", compiled)):
                out = work / f"report-{label}.json"
                cmd = [*runner(tree), "-m", "ciiguard", "scan", str(plan), "--format", "json",
                       "--no-cache", "--max-file-size", "512MiB", "--output", str(out)]  # fmt: skip
                m = measure(cmd, env, cwd=work)  # not a checkout's directory: -m imports from it
                runs[label].append({"seconds": m.seconds, "peak_mb": m.peak_mb})
                codes.setdefault(label, []).append(m.code)
                print(f"  {label:9s} {m.seconds:6.2f} s  {m.peak_mb:6.0f} MB  exit {m.code}")
        # compared after the runs: a child's peak RSS counts what this process held when it
        # forked the child, and two parsed reports of 100,000 resources are hundreds of MB
        reports = {label: comparable(work / f"report-{label}.json") for label in runs}
        same = reports["pure"] == reports["compiled"] and codes["pure"] == codes["compiled"]
        median = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
        ratio = median["compiled"] / median["pure"]
        print(f"median: pure {median['pure']:.2f} s, compiled {median['compiled']:.2f} s "
              f"({ratio:.2f}x); reports {'identical' if same else 'DIFFERENT'}")  # fmt: skip
        write_results(args.out, input_bytes=size, modules=modules, runs=runs, median=median,
                      ratio=ratio, identical_reports=same)  # fmt: skip
        return 0 if same else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
