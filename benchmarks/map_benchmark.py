"""ciiguard map benchmark: what drawing the residency map costs on top of the scan, and how big
each format is, on generated estates (benchmarks/generate.py).

    python benchmarks/map_benchmark.py [--sizes 240,1000,10000] [--repeat 3] [--out FILE]

Two measurements per estate, from ``--repeat`` runs each:

- in process (the median): the scan once, then ``build_map`` and each renderer, and writing the
  file. This is the cost of the map itself, "on top of the scan".
- end to end (the fastest of the runs, which a shared machine disturbs least): ``ciiguard scan
  --format json --no-cache`` and ``ciiguard map --no-cache`` on the same tree, one after the other,
  as a user runs them; the difference is the map's share of a command.

Targets (issue 22): at about 10,000 resources the HTML is under 3 MB and is written in under 2 s
on top of the scan.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

FORMATS = (
    ("html", "summary"),
    ("svg", "summary"),
    ("svg", "resources"),
    ("mermaid", "summary"),
    ("mermaid", "resources"),
    ("dot", "summary"),
)


def ciiguard_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("ciiguard")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ciiguard"]


def wall(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def in_process(tree: Path, out: Path, repeat: int) -> dict[str, Any]:
    """The scan once, then the map's own stages, timed."""
    from ciiguard.plugins.manager import build
    from ciiguard.residency_map import Detail, build_map, render
    from ciiguard.scan import gather, scan
    from ciiguard.settings import Settings

    here = Path.cwd()
    os.chdir(tree)  # relative paths, as a user in the tree would see them
    try:
        host = build([], [])
        start = time.perf_counter()
        result = scan([Path(".")], Settings(use_cache=False), host, gather(host))
        scan_s = time.perf_counter() - start
        row: dict[str, Any] = {"scan_s": scan_s, "resources": len(result.resources)}
        build_s = []
        for _ in range(repeat):
            start = time.perf_counter()
            m = build_map(result, "Residency map: .")
            build_s.append(time.perf_counter() - start)
        row["build_map_s"] = statistics.median(build_s)
        row["nodes"], row["flows"] = len(m.nodes), len(m.edges)
        for fmt, detail in FORMATS:
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                text = render(m, fmt, Detail(detail))
                out.write_text(text, encoding="utf-8")
                times.append(time.perf_counter() - start)
            key = f"{fmt}_{detail}"
            row[f"{key}_s"] = statistics.median(times)
            row[f"{key}_bytes"] = out.stat().st_size
            if fmt == "mermaid":
                row[f"{key}_chars"] = len(text)
        row["html_on_top_s"] = row["build_map_s"] + row["html_summary_s"]
    finally:
        os.chdir(here)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="240,1000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "out" / "map-latest.json")
    args = ap.parse_args()
    machine = (
        f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"machine: {machine}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ciiguard-map-bench-") as work:
        base = Path(work)
        for n in (int(s) for s in args.sizes.split(",") if s):
            tree = base / f"tree{n}"
            exact = generate(tree, n)
            row = in_process(tree, base / "map.out", args.repeat)
            cmd = ciiguard_cmd()
            scans, maps = [], []
            for _ in range(args.repeat):  # interleaved, so both see the same load
                scans.append(
                    wall(
                        [*cmd, "scan", ".", "-f", "json", "-o", str(base / "s.json"), "--no-cache"],
                        tree,
                    )
                )
                maps.append(
                    wall([*cmd, "map", ".", "-o", str(base / "m.html"), "--no-cache"], tree)
                )
            row.update(generated=exact, cli_scan_s=min(scans), cli_map_html_s=min(maps))
            row["cli_on_top_s"] = row["cli_map_html_s"] - row["cli_scan_s"]
            rows.append(row)
            print(
                json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
            )
    print()
    print(
        "| resources | html | html on top of the scan (in process) | ciiguard map - ciiguard scan | svg | mermaid summary | mermaid --detail resources |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['resources']:,} | {r['html_summary_bytes'] / 1e6:.2f} MB | "
            f"{r['html_on_top_s']:.2f} s | {r['cli_on_top_s']:.2f} s | "
            f"{r['svg_summary_bytes'] / 1e3:.0f} kB | {r['mermaid_summary_chars']:,} chars | "
            f"{r['mermaid_resources_chars']:,} chars |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
