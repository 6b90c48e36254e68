"""Benchmark: big inputs, time and peak memory against the input's size.

    python benchmarks/scale_benchmark.py [--ciiguard LABEL=PATH ...] [--plan-resources 100000]
                                         [--tf-mb 15] [--out F]

Two inputs, generated here: a 100,000-resource plan JSON (``plan_benchmark.generate_plan``) and
one ``main.tf`` of about 15 MB holding one bucket after another. Each is scanned once per
installation named with ``--ciiguard`` (default: this environment's), ``--no-cache``, JSON
report to a file; wall time and the child's peak RSS (wait4) are reported with the ratio of
peak memory to input size. Several installations in one run give before/after figures from
the same machine and the same minutes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from plan_benchmark import generate_plan  # noqa: E402
from run import bench_env, ciiguard_cmd, measure, say_machine, write_results  # noqa: E402

BUCKET = """resource "aws_s3_bucket" "b{i}" {{
  bucket = "acme-{i}"
  tags   = {{ "data-classification" = "personal" }}
}}

"""


def big_tf(path: Path, megabytes: float) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    limit = int(megabytes * 1_000_000)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write('provider "aws" {\n  region = "cn-north-1"\n}\n\n')
        while fh.tell() < limit:
            fh.write(BUCKET.format(i=n))
            n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ciiguard", action="append", default=[], metavar="LABEL=PATH")
    ap.add_argument("--plan-resources", type=int, default=100_000)
    ap.add_argument("--tf-mb", type=float, default=15.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    installs = [tuple(c.split("=", 1)) for c in args.ciiguard] or [("current", " ".join(ciiguard_cmd()))]
    work = Path(tempfile.mkdtemp(prefix="ciiguard-scale-"))
    try:
        plan = generate_plan(work / "plan.json", args.plan_resources)
        tf_dir = work / "big"
        buckets = big_tf(tf_dir / "main.tf", args.tf_mb)
        inputs = [
            (f"plan JSON, {args.plan_resources} resources", plan, plan.stat().st_size),
            (f"one .tf file, {buckets} buckets", tf_dir, (tf_dir / "main.tf").stat().st_size),
        ]
        env = bench_env(work)
        say_machine()
        rows = []
        for what, path, size in inputs:
            print(f"{what} ({size / 1e6:.1f} MB)")
            for label, exe in installs:
                cmd = [*exe.split(), "scan", str(path), "--format", "json", "--no-cache",
                       "--max-file-size", "512MiB", "--output", str(work / "report.json")]  # fmt: skip
                m = measure(cmd, env)
                ratio = m.peak_mb * 1024 * 1024 / size
                rows.append({"input": what, "bytes": size, "ciiguard": label, "seconds": m.seconds,
                             "peak_mb": m.peak_mb, "peak_per_input": ratio, "exit": m.code})  # fmt: skip
                print(f"  {label:10s} {m.seconds:6.2f} s  {m.peak_mb:6.0f} MB  "
                      f"{ratio:5.1f}x the input  exit {m.code}")  # fmt: skip
        write_results(args.out, rows=rows)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
