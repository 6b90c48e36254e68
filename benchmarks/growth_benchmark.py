"""Benchmark: does a scan's time grow in step with its input? Dense shapes at N, 2N and 4N.

    python benchmarks/growth_benchmark.py [--resources 5000] [--ciiguard EXE] [--out F]

Each shape puts many resources where one lookup per resource could pass over all the others:
one file with a comment above each block, one module whose resources refer to each other, a
Pulumi YAML program with commented resources, and so on. Each is generated at N, 2N and 4N
resources and scanned once per size (``--no-cache``, JSON report to a file). Linear work takes
about 2x per doubling; the script prints the ratio for each doubling and exits 1 when a shape
grows by more than ``--limit`` (3x) per doubling at its largest step, so a quadratic search
that comes back is caught here, on the machine's own timings, not by a timed test.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import bench_env, ciiguard_cmd, measure, say_machine, write_results  # noqa: E402

PROVIDER = 'provider "aws" {\n  region = "cn-north-1"\n}\n'


def commented_buckets(root: Path, n: int) -> None:
    """One file; a comment above each bucket and one inside it (inline suppressions live there)."""
    parts = [PROVIDER]
    for i in range(n):
        parts.append(
            f'# bucket {i}\nresource "aws_s3_bucket" "b{i}" {{\n'
            f'  bucket = "acme-{i}" # inline {i}\n'
            '  tags = { "data-classification" = "personal" }\n}\n'
        )
    (root / "main.tf").write_text("".join(parts))


def referring_resources(root: Path, n: int) -> None:
    """One module: each bucket is named by a resource that refers to it."""
    parts = [PROVIDER]
    for i in range(n // 2):
        parts.append(
            f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "acme-{i}"\n'
            '  tags = { "data-classification" = "personal" }\n}\n'
            f'resource "aws_s3_bucket_versioning" "v{i}" {{\n  bucket = aws_s3_bucket.b{i}.id\n}}\n'
        )
    (root / "main.tf").write_text("".join(parts))


def pulumi_yaml(root: Path, n: int) -> None:
    """A Pulumi YAML program with a comment above each resource."""
    lines = ["name: dense", "runtime: yaml", "resources:"]
    for i in range(n):
        lines += [
            f"  # bucket {i}",
            f"  b{i}:",
            "    type: aws:s3:BucketV2",
            "    properties:",
            f"      bucket: acme-{i}",
            "      tags:",
            "        data-classification: personal",
        ]
    (root / "Pulumi.yaml").write_text("\n".join(lines) + "\n")
    (root / "Pulumi.dev.yaml").write_text("config:\n  aws:region: cn-north-1\n")


SHAPES: dict[str, Callable[[Path, int], None]] = {
    "one .tf file, a comment at every block": commented_buckets,
    "one module, resources referring to each other": referring_resources,
    "Pulumi YAML, a comment at every resource": pulumi_yaml,
}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--resources", type=int, default=5000, help="N (the sizes are N, 2N, 4N)")
    ap.add_argument("--limit", type=float, default=3.0, help="largest growth per doubling")
    ap.add_argument("--ciiguard", help="the ciiguard executable to measure")
    ap.add_argument("--out", type=Path, help="write the results as JSON")
    args = ap.parse_args()
    exe = [args.ciiguard] if args.ciiguard else ciiguard_cmd()
    work = Path(tempfile.mkdtemp(prefix="ciiguard-growth-"))
    env = bench_env(work)
    say_machine()
    rows, worst = [], []
    try:
        for what, make in SHAPES.items():
            seconds = []
            for n in (args.resources, args.resources * 2, args.resources * 4):
                root = work / f"{make.__name__}-{n}"
                root.mkdir()
                make(root, n)
                cmd = [*exe, "scan", str(root), "--format", "json", "--no-cache", "--no-config",
                       "--output", str(work / "report.json")]  # fmt: skip
                m = measure(cmd, env)
                if m.code not in (0, 1):
                    print(f"{what}: exit {m.code} at {n} resources", file=sys.stderr)
                    return 2
                seconds.append(m.seconds)
                rows.append({"shape": what, "resources": n, "seconds": m.seconds,
                             "peak_mb": m.peak_mb})  # fmt: skip
                shutil.rmtree(root)
            growth = [b / a for a, b in itertools.pairwise(seconds)]
            worst.append((growth[-1], what))
            shown = "  ".join(f"{s:6.2f} s" for s in seconds)
            print(f"{what:48s} {shown}   per doubling: " + ", ".join(f"{g:.2f}x" for g in growth))
        write_results(args.out, resources=args.resources, rows=rows)
        over = [(g, w) for g, w in worst if g > args.limit]
        for g, w in over:
            print(f"grows faster than its input: {w} ({g:.2f}x per doubling)", file=sys.stderr)
        return 1 if over else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
