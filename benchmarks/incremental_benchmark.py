"""Benchmark: re-scans after an edit in a generated monorepo (default 10,000 resources).

    python benchmarks/incremental_benchmark.py [--resources 10000] [--ciiguard PATH] [--out F]

One tree, one cache directory, and a sequence of edits a developer makes between two runs:
change one file, revert it, rename a file, delete a root module, add a module call, break one
file (a scan error) and scan again with it still broken, then fix it. After each edit the cached
scan is timed, then a ``--no-cache`` scan of the same tree: their exit codes, stdout and JSON
reports must be byte-identical (the script fails otherwise). ``own`` is the wall time minus the
``ciiguard --version`` start-up measured in the same run.

``--ciiguard`` runs another installation (an older commit's virtualenv) for before/after
figures on the same machine. Without it, one more change is scanned in-process with each stage
timed: the scan itself (discovery to findings), the gate, the report.

``--compare OLD NEW`` (two executables) measures small differences on a noisy machine: the same
one-file change, made again and again, is scanned by each in turn (each with its own cache
directory), with the default text output and with a JSON report, and the medians are reported
with every sample.

    python benchmarks/incremental_benchmark.py --compare OLD/bin/ciiguard NEW/bin/ciiguard
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
from run import bench_env, installation, measure, say_machine, stage_times, write_results  # noqa: E402

SERVICE = "svc00007"


def edits(tree: Path) -> list[tuple[str, Callable[[], None]]]:
    svc = tree / "services" / SERVICE
    main = svc / "main.tf"
    original = main.read_text()

    def change() -> None:
        main.write_text(original.replace('"svc-7-public"', '"svc-7-public-2"'))

    def revert() -> None:
        main.write_text(original)

    def rename() -> None:
        (svc / "variables.tf").rename(svc / "inputs.tf")

    def delete() -> None:
        shutil.rmtree(tree / "services" / "svc00011")

    def add_call() -> None:
        with main.open("a") as fh:
            fh.write('\nmodule "extra" {\n  source = "../../modules/store"\n  name = "x"\n}\n')

    def error() -> None:
        (svc / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')

    def fix() -> None:
        (svc / "broken.tf").unlink()

    return [
        ("unchanged", lambda: None),
        ("change one file", change),
        ("revert it", revert),
        ("rename a file", rename),
        ("delete a root module", delete),
        ("add a module call", add_call),
        ("break one file", error),
        ("scan again, still broken", lambda: None),
        ("fix it", fix),
    ]


def compare(
    old: str, new: str, resources: int, rounds: int, out: Path | None, pause: float = 0.0
) -> int:
    """Alternating one-file re-scans by two installations (see the module's docstring)."""
    work = Path(tempfile.mkdtemp(prefix="ciiguard-compare-"))
    try:
        tree = work / "tree"
        exact = generate(tree, resources)
        main = tree / "services" / SERVICE / "main.tf"
        say_machine()
        print(f"{exact} resources; {rounds} alternating rounds per output; {pause} s between runs")
        results: dict[str, dict[str, list[float]]] = {}
        for output in ("text", "json"):
            extra = [] if output == "text" else ["--format", "json", "--output", str(work / "r.json")]
            samples: dict[str, list[float]] = {"old": [], "new": []}
            envs = {label: bench_env(work / f"{label}-{output}") for label in samples}
            for label, exe in (("old", old), ("new", new)):  # cold: fills each one's caches
                measure([exe, "scan", str(tree), *extra], envs[label])
            for n in range(rounds):
                for label, exe in (("old", old), ("new", new)):
                    with main.open("a") as fh:  # a change each run: never a replay
                        fh.write(f"\n# edit {output} {n} {label}\n")
                    time.sleep(pause)  # a developer's edit (the last run's cache writers finish)
                    samples[label].append(measure([exe, "scan", str(tree), *extra], envs[label]).seconds)
            results[output] = samples
            mid = {k: statistics.median(v) for k, v in samples.items()}
            print(f"{output:5s} median: old {mid['old']:.3f} s, new {mid['new']:.3f} s "
                  f"({mid['new'] / mid['old']:.2f}x)")  # fmt: skip
        write_results(out, resources=exact, old=old, new=new, rounds=rounds, pause_s=pause,
                      samples_s=results,
                      medians_s={o: {k: statistics.median(v) for k, v in s.items()}
                                 for o, s in results.items()})  # fmt: skip
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resources", type=int, default=10_000)
    ap.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="alternate two installations")
    ap.add_argument("--rounds", type=int, default=9, help="with --compare: changes per output")
    ap.add_argument("--pause", type=float, default=0.0,
                    help="with --compare: seconds between an edit and its scan (0: back to back, "
                         "so a run may wait for the cache writers the last one left)")  # fmt: skip
    args, exe = installation(ap, "to measure")
    if args.compare:
        return compare(*args.compare, args.resources, args.rounds, args.out, args.pause)
    work = Path(tempfile.mkdtemp(prefix="ciiguard-incr-"))
    try:
        tree = work / "tree"
        exact = generate(tree, args.resources)
        env = bench_env(work)
        startup = min(measure([*exe, "--version"], env).seconds for _ in range(3))
        report, fresh = work / "cached.json", work / "fresh.json"
        cached_cmd = [*exe, "scan", str(tree), "--format", "json", "--output", str(report)]
        fresh_cmd = [*exe, "scan", str(tree), "--format", "json", "--output", str(fresh), "--no-cache"]
        cold = measure(cached_cmd, env)
        rows = [{"step": "cold", "seconds": cold.seconds, "peak_mb": cold.peak_mb, "exit": cold.code}]
        say_machine()
        print(f"{exact} resources; start-up (ciiguard --version) {startup * 1000:.0f} ms")
        print(f"{'cold':28s} {cold.seconds:6.2f} s  {cold.peak_mb:5.0f} MB  exit {cold.code}")
        for name, edit in edits(tree):
            edit()
            m = measure(cached_cmd, env, capture=True)
            ref = measure(fresh_cmd, env, capture=True)
            same = (m.code, m.stdout, report.read_bytes()) == (ref.code, ref.stdout, fresh.read_bytes())
            if not same:
                print(f"{name}: the cached scan differs from --no-cache", file=sys.stderr)
                return 1
            rows.append({"step": name, "seconds": m.seconds, "own_s": m.seconds - startup,
                         "peak_mb": m.peak_mb, "exit": m.code, "no_cache_s": ref.seconds,
                         "identical": same})  # fmt: skip
            print(f"{name:28s} {m.seconds:6.2f} s  (own {m.seconds - startup:5.2f} s)  "
                  f"{m.peak_mb:5.0f} MB  exit {m.code}  --no-cache {ref.seconds:5.2f} s  identical")  # fmt: skip
        stages: dict[str, float] = {}
        if not args.ciiguard:  # where one more one-file change goes, stage by stage (in-process)
            main = tree / "services" / SERVICE / "main.tf"
            main.write_text(main.read_text().replace('"svc-7-primary"', '"svc-7-primary-2"'))
            stages = stage_times(cached_cmd[len(exe):], env)
            print("one more change, by stage: " + ", ".join(f"{k} {v:.3f} s" for k, v in stages.items()))
        write_results(args.out, resources=exact, startup_s=startup, ciiguard=" ".join(exe), rows=rows,
                      stages_of_a_change_s=stages)  # fmt: skip
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
