"""ciiguard benchmark: cold and warm scans of synthetic monorepos, a 100k-resource plan, startup,
and (where installed) Checkov on the same trees, with ratios measured in the same run.

    python benchmarks/run.py [--sizes 1000,10000,50000] [--checkov PATH] [--out benchmarks/out]

Checkov goes in its own environment: ``python3 -m venv /tmp/checkov && /tmp/checkov/bin/pip
install checkov``, then ``--checkov /tmp/checkov/bin/checkov`` (or have ``checkov`` on PATH).
Wall time and peak memory (max RSS of the child) come from one run each on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    code: int
    stdout: bytes = b""  # with measure(..., capture=True)


def measure(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None, capture: bool = False
) -> Measure:
    """Run a command once; wall time, and peak RSS of that child alone (via wait4); its stdout
    too with ``capture``."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, cwd=cwd)  # fmt: skip
    out = proc.stdout.read() if proc.stdout is not None else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return Measure(seconds, usage.ru_maxrss / 1024, code, out)


def machine() -> dict[str, object]:
    """The machine a result was measured on (every results file starts with it)."""
    return {"machine": platform.platform(), "cores": os.cpu_count(), "python": platform.python_version()}


def say_machine() -> None:
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")


def write_results(path: Path | None, **fields: object) -> None:
    if path is not None:
        path.write_text(json.dumps({**machine(), **fields}, indent=2) + "\n")


def bench_env(work: Path) -> dict[str, str]:
    """The environment the measured runs get: their own cache; bytecode written as users have it."""
    env = {**os.environ, "CIIGUARD_CACHE_DIR": str(work / "cache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def installation(ap: argparse.ArgumentParser, what: str) -> tuple[argparse.Namespace, list[str]]:
    """``--ciiguard EXE`` (another installation, for before/after figures) and ``--out FILE``;
    the parsed arguments and the command to run."""
    ap.add_argument("--ciiguard", help=f"the ciiguard executable {what} (default: this environment's)")
    ap.add_argument("--out", type=Path, help="write the results as JSON")
    args = ap.parse_args()
    return args, [args.ciiguard] if args.ciiguard else ciiguard_cmd()


# Runs inside the measured interpreter: the same scan as the command line, each stage timed.
STAGES = r"""
import json, sys, time, functools
times = {}
def timed(owner, name, label):
    f = getattr(owner, name)
    @functools.wraps(f)
    def w(*a, **k):
        t = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            times[label] = times.get(label, 0.0) + time.perf_counter() - t
    setattr(owner, name, w)
import ciiguard.scan as scan, ciiguard.cli.pipeline as pipeline
from ciiguard.parsers.terraform import parser as tf
from ciiguard.parsers.terraform.hcl import loader
timed(scan, "discover", "discover")
timed(scan, "_scan", "scan (discovery to findings)")
timed(loader.HclLoader, "preload", "read and parse HCL")
timed(tf.TerraformParser, "_evaluate", "evaluate root modules")
timed(scan, "resolve", "resolve")
timed(scan, "run_policies", "policies")
timed(pipeline, "gate_stage", "gate")
timed(pipeline, "write_reports", "report")
from ciiguard.cli.app import main
t = time.perf_counter()
main(sys.argv[1:])
times["total"] = time.perf_counter() - t
print(json.dumps(times))
"""


def stage_times(args: list[str], env: dict[str, str]) -> dict[str, float]:
    """One run of ``ciiguard ARGS`` in this interpreter with each stage timed (seconds)."""
    proc = subprocess.run([sys.executable, "-c", STAGES, *args], capture_output=True, text=True,
                          env=env, check=False)  # fmt: skip
    lines = proc.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def ciiguard_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("ciiguard")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ciiguard"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--checkov", default=shutil.which("checkov"))
    ap.add_argument("--checkov-max", type=int, default=50000, help="skip Checkov above this size")
    ap.add_argument("--plan-resources", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ciiguard-bench-"))
    cache = work / "cache"
    env = {**os.environ, "CIIGUARD_CACHE_DIR": str(cache)}
    rows = []
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")

    startup = measure([*ciiguard_cmd(), "--version"], env)
    print(f"startup: ciiguard --version {startup.seconds * 1000:.0f} ms, {startup.peak_mb:.0f} MB")

    for n in sizes:
        tree = work / f"tree{n}"
        exact = generate(tree, n)
        shutil.rmtree(cache, ignore_errors=True)
        cmd = [*ciiguard_cmd(), "scan", str(tree), "--format", "json", "--output", str(work / "out.json")]
        cold = measure(cmd, env)
        warm = measure(cmd, env)
        row = {"resources": exact, "cold_s": cold.seconds, "cold_mb": cold.peak_mb,
               "warm_s": warm.seconds, "warm_mb": warm.peak_mb, "exit": cold.code}
        if args.checkov and exact <= args.checkov_max:
            ck = measure([args.checkov, "-d", str(tree), "--framework", "terraform", "--quiet",
                          "--compact", "-o", "json"], env)
            row.update(checkov_s=ck.seconds, checkov_mb=ck.peak_mb,
                       cold_speedup=ck.seconds / cold.seconds, warm_speedup=ck.seconds / warm.seconds,
                       memory_ratio=cold.peak_mb / ck.peak_mb)
        rows.append(row)
        print(json.dumps(row))

    try:
        from plan_benchmark import generate_plan  # written alongside: a plan JSON of N resources
    except ImportError:
        generate_plan = None
    if generate_plan is not None:
        plan = work / "plan.json"
        generate_plan(plan, args.plan_resources)
        m = measure([*ciiguard_cmd(), "scan", str(plan), "--format", "json", "--no-cache",
                     "--output", str(work / "plan-out.json")], env)
        print(json.dumps({"plan_resources": args.plan_resources, "seconds": m.seconds, "peak_mb": m.peak_mb}))
        rows.append({"plan_resources": args.plan_resources, "plan_s": m.seconds, "plan_mb": m.peak_mb})

    scans = [r for r in rows if "resources" in r]
    if len(scans) >= 2:
        a, b = scans[0], scans[-1]
        slope = (b["cold_s"] - a["cold_s"]) / (b["resources"] - a["resources"]) * 1000
        per = [r["cold_s"] / r["resources"] * 1000 for r in scans]
        print(f"cold-scan slope: {slope:.3f} s per 1000 resources; per-resource cost by size (ms): "
              + ", ".join(f"{p:.3f}" for p in per))
    (args.out / "latest.json").write_text(json.dumps(
        {"machine": platform.platform(), "cores": os.cpu_count(), "rows": rows}, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
