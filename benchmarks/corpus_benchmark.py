"""Benchmark: public Terraform code, fetched at benchmark time (never committed), against a
synthetic tree with the same number of resources, and where the difference goes.

    python benchmarks/corpus_benchmark.py [--checkouts DIR] [--repo OWNER/NAME[:SUBDIR] ...]
                                          [--out F]

Each repository is cloned (``git clone --depth 1``; with ``:SUBDIR``, a sparse checkout of that
directory only) into a temporary corpus, unless ``--checkouts DIR`` already holds it as
``DIR/OWNER+NAME``. The corpus is scanned cold (empty cache) and warm; then a synthetic tree
(``generate.py``) with as many resources is scanned the same way. For both, the scan is run once
more in-process with each stage timed (discovery, reading and parsing HCL, evaluating root
modules, resolution, policies, gate, report), and the input is described: bytes of HCL per
resource and the blocks by kind. The rows say where the time per resource goes.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
from run import bench_env, installation, measure, say_machine, stage_times, write_results  # noqa: E402

REPOS = [
    "terraform-aws-modules/terraform-aws-s3-bucket",
    "terraform-aws-modules/terraform-aws-rds",
    "Azure/terraform-azurerm-aks",
    "Azure/terraform-azurerm-avm-res-storage-storageaccount",
    "aztfmod/terraform-azurerm-caf",
    "terraform-google-modules/terraform-google-sql-db",
    "terraform-google-modules/terraform-google-cloud-storage",
    "terraform-alicloud-modules/terraform-alicloud-rds",
    "hashicorp/terraform-provider-azurerm:examples",
    "aliyun/terraform-provider-alicloud:examples",
]


BLOCK = re.compile(rb"^(resource|data|module|variable|output|locals|provider|terraform)\b", re.M)


def fetch(spec: str, corpus: Path, checkouts: Path | None) -> Path | None:
    name, _, subdir = spec.partition(":")
    local = name.replace("/", "+")
    if checkouts is not None and (checkouts / local).is_dir():
        return checkouts / local
    into = corpus / local
    url = f"https://github.com/{name}.git"
    try:
        if subdir:
            subprocess.run(["git", "clone", "-q", "--depth", "1", "--filter=blob:none", "--sparse",
                            url, str(into)], check=True, timeout=600)  # fmt: skip
            subprocess.run(["git", "-C", str(into), "sparse-checkout", "set", subdir], check=True,
                           timeout=600)  # fmt: skip
        else:
            subprocess.run(["git", "clone", "-q", "--depth", "1", url, str(into)], check=True,
                           timeout=600)  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"  not fetched: {spec} ({exc})", file=sys.stderr)
        return None
    shutil.rmtree(into / ".git", ignore_errors=True)
    return into


def describe(tree: Path) -> dict[str, object]:
    size, files, kinds = 0, 0, Counter[str]()
    for f in tree.rglob("*.tf"):
        if ".terraform" in f.parts:
            continue
        data = f.read_bytes()
        size, files = size + len(data), files + 1
        kinds.update(m.group(1).decode() for m in BLOCK.finditer(data))
    return {"tf_files": files, "tf_bytes": size, "blocks": dict(kinds.most_common())}


def scan(tree: Path, env: dict[str, str], work: Path, exe: list[str]) -> dict[str, object]:
    report = work / "report.json"
    cmd = [*exe, "scan", str(tree), "--format", "json", "--output", str(report)]
    shutil.rmtree(env["CIIGUARD_CACHE_DIR"], ignore_errors=True)
    cold = measure(cmd, env)
    doc = json.loads(report.read_text())
    warm = measure(cmd, env)
    again = measure(cmd, env)  # the parse cache admits a directory the second time it is parsed
    stages = stage_times(["scan", str(tree), "--format", "json", "--output", str(report),
                          "--no-cache"], env)  # fmt: skip
    resources = doc["summary"]["resources"]
    described = describe(tree)
    return {
        "resources": resources,
        "errors": doc["summary"]["errors"],
        "cold_s": cold.seconds,
        "cold_mb": cold.peak_mb,
        "warm_s": warm.seconds,
        "third_s": again.seconds,
        "resources_per_s": resources / cold.seconds if cold.seconds else 0.0,
        "hcl_bytes_per_resource": described["tf_bytes"] / resources if resources else 0.0,  # type: ignore[operator]
        "stages_s": stages,
        **described,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkouts", type=Path, help="directory holding OWNER+NAME checkouts")
    ap.add_argument("--repo", action="append", help="OWNER/NAME[:SUBDIR] (repeatable)")
    args, exe = installation(ap, "timed cold and warm (the stage breakdown always runs this environment's)")
    work = Path(tempfile.mkdtemp(prefix="ciiguard-corpus-"))
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        for spec in args.repo or REPOS:
            found = fetch(spec, corpus, args.checkouts)
            if found is not None and found.parent != corpus:
                (corpus / found.name).symlink_to(found, target_is_directory=True)
        real = corpus
        if not any(real.iterdir()):
            print("nothing fetched", file=sys.stderr)
            return 1
        env = bench_env(work)
        say_machine()
        rows = {}
        # symbolic links are not followed by discovery: scan a directory of real copies
        flat = work / "flat"
        shutil.copytree(corpus, flat, symlinks=False, ignore=shutil.ignore_patterns(".git"))
        rows["public"] = scan(flat, env, work, exe)
        n = int(rows["public"]["resources"])  # type: ignore[call-overload]
        synthetic = work / "synthetic"
        generate(synthetic, max(n, 12))
        rows["synthetic"] = scan(synthetic, env, work, exe)
        for name, row in rows.items():
            print(f"{name:10s} {row['resources']:6d} resources  {row['tf_bytes'] / 1e6:5.1f} MB HCL "  # type: ignore[operator]
                  f"({row['hcl_bytes_per_resource']:5.0f} B/resource)  cold {row['cold_s']:5.2f} s "
                  f"{row['cold_mb']:4.0f} MB  warm {row['warm_s']:5.2f} s, {row['third_s']:5.2f} s  "
                  f"{row['resources_per_s']:6.0f} resources/s")  # fmt: skip
            stages = row["stages_s"]
            assert isinstance(stages, dict)
            print("           " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))
            print(f"           blocks: {row['blocks']}")
        write_results(args.out, ciiguard=" ".join(exe), repositories=args.repo or REPOS, rows=rows)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
