"""Benchmark: does a scan's time grow in step with its input? Dense shapes at N, 2N and 4N.

    python benchmarks/growth_benchmark.py [--scale 1] [--only TEXT] [--ciiguard EXE] [--out F]

Each shape puts many of one thing where a lookup per item could pass over all the others: a
comment above every block, resources referring to each other by name, by ``each.key`` or by
name and ARN, module outputs and arguments, JSON object keys, root directories named one by one,
replication rules, plan rules of unknown destination, Terragrunt inputs, exemptions, SARIF from
outside the tree, Pulumi YAML, `count` instances holding an unknown in a list, a residency map
of crossing arrows (``ciiguard map``). Each is generated at N, 2N and 4N (N per shape, times
``--scale``) and scanned once per size (``--no-cache``, a JSON report unless the shape asks for
another format). Linear work takes about 2x per doubling: the script prints the ratio for each
doubling and exits 1 when a shape grows by more than ``--limit`` (3x) at its larger doubling,
so a search per item that comes back is caught here, on the machine's own timings, not by a
timed test.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import bench_env, ciiguard_cmd, measure, say_machine, write_results  # noqa: E402

PROVIDER = 'provider "aws" {\n  region = "cn-north-1"\n}\n'
TAGGED = '  tags = { "data-classification" = "personal" }\n'
Shape = Callable[[Path, int], "list[str]"]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def one_file(
    root: Path, count: int, block: Callable[[int], str], head: str = PROVIDER
) -> list[str]:
    """``main.tf``: ``head``, then ``block(i)`` for i below ``count``; the scan's arguments."""
    write(root / "main.tf", head + "".join(block(i) for i in range(count)))
    return ["."]


def commented_buckets(root: Path, n: int) -> list[str]:
    """One file; a comment above each bucket and one inside it (inline suppressions live there)."""
    return one_file(
        root,
        n,
        lambda i: (
            f'# bucket {i}\nresource "aws_s3_bucket" "b{i}" {{\n'
            f'  bucket = "acme-{i}" # inline {i}\n{TAGGED}}}\n'
        ),
    )


def referring_resources(root: Path, n: int) -> list[str]:
    """One module: each bucket is named by a resource that refers to it."""
    return one_file(
        root,
        n // 2,
        lambda i: (
            f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "acme-{i}"\n{TAGGED}}}\n'
            f'resource "aws_s3_bucket_versioning" "v{i}" {{\n  bucket = aws_s3_bucket.b{i}.id\n}}\n'
        ),
    )


def for_each_references(root: Path, n: int) -> list[str]:
    """``aws_s3_bucket.b[each.key]`` from a second resource with the same ``for_each``."""
    keys = ", ".join(f'"k{i}"' for i in range(n // 2))
    write(
        root / "main.tf",
        PROVIDER
        + f"""locals {{
  names = toset([{keys}])
}}
resource "aws_s3_bucket" "b" {{
  for_each = local.names
  bucket   = "acme-${{each.key}}"
{TAGGED}}}
resource "aws_s3_bucket_versioning" "v" {{
  for_each = local.names
  bucket   = aws_s3_bucket.b[each.key].id
}}
""",
    )
    return ["."]


def function_over_a_map(root: Path, n: int) -> list[str]:
    """``lookup(local.cls, each.key, ...)`` for each of N keys: a call given the whole map."""
    items = "\n".join(f'    k{i} = "personal"' for i in range(n))
    write(
        root / "main.tf",
        PROVIDER
        + f"""locals {{
  cls = {{
{items}
  }}
}}
resource "aws_s3_bucket" "b" {{
  for_each = local.cls
  bucket   = "acme-${{each.key}}"
  tags     = {{ "data-classification" = lookup(local.cls, each.key, "public") }}
}}
""",
    )
    return ["."]


def module_outputs(root: Path, n: int) -> list[str]:
    """N module calls, each one's output named by a bucket."""
    write(root / "mod" / "main.tf", 'variable "name" {}\noutput "name" {\n  value = var.name\n}\n')
    return one_file(
        root,
        n,
        lambda i: (
            f'module "m{i}" {{\n  source = "./mod"\n  name   = "acme-{i}"\n}}\n'
            f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = module.m{i}.name\n{TAGGED}}}\n'
        ),
    )


def module_arguments(root: Path, n: int) -> list[str]:
    """One module call passing N arguments to a module of N variables."""
    mod = "".join(f'variable "v{i}" {{\n  default = "x"\n}}\n' for i in range(n))
    write(
        root / "mod" / "main.tf",
        mod + f'resource "aws_s3_bucket" "b" {{\n  bucket = var.v0\n{TAGGED}}}\n',
    )
    args = "".join(f'  v{i} = "val-{i}"\n' for i in range(n))
    write(root / "main.tf", PROVIDER + f'module "m" {{\n  source = "./mod"\n{args}}}\n')
    return ["."]


def json_object_keys(root: Path, n: int) -> list[str]:
    """A ``.tf.json`` resource whose tags object has N keys."""
    tags = {f"tag{i}": f"v{i}" for i in range(n)} | {"data-classification": "personal"}
    doc = {
        "provider": {"aws": {"region": "cn-north-1"}},
        "resource": {"aws_s3_bucket": {"b": {"bucket": "acme", "tags": tags}}},
    }
    write(root / "main.tf.json", json.dumps(doc, indent=1))
    return ["."]


def many_scan_paths(root: Path, n: int) -> list[str]:
    """N root directories named one by one on the command line (``scan envs/*``, pre-commit)."""
    write(
        root / "mod" / "main.tf",
        f'variable "name" {{}}\nresource "aws_s3_bucket" "b" {{\n  bucket = var.name\n{TAGGED}}}\n',
    )
    for i in range(n):
        write(
            root / f"r{i}" / "main.tf",
            PROVIDER + f'module "m" {{\n  source = "../mod"\n  name   = "acme-{i}"\n}}\n',
        )
        write(root / f"r{i}" / "terraform.tfvars", "")
    return [*(f"r{i}" for i in range(n)), "mod"]


def replication_by_name(root: Path, n: int) -> list[str]:
    """Replication configurations naming their buckets by name and ARN, not by reference."""
    return one_file(
        root,
        n // 3,
        lambda i: (
            f"""resource "aws_s3_bucket" "src{i}" {{
  bucket = "src-{i}"
{TAGGED}}}
resource "aws_s3_bucket" "dst{i}" {{
  bucket = "dst-{i}"
}}
resource "aws_s3_bucket_replication_configuration" "r{i}" {{
  bucket = "src-{i}"
  role   = "arn:aws-cn:iam::123456789012:role/r"
  rule {{
    status = "Enabled"
    destination {{
      bucket = "arn:aws-cn:s3:::dst-{i}"
    }}
  }}
}}
"""
        ),
    )


def backup_policies(root: Path, n: int) -> list[str]:
    """Huawei backup vaults, each replicated by the policy that names it (a flow found from the
    vaults that refer to the policy)."""
    return one_file(
        root,
        n // 2,
        lambda i: (
            f"""resource "huaweicloud_cbr_policy" "p{i}" {{
  name                   = "p{i}"
  type                   = "replication"
  destination_region     = "cn-east-3"
  destination_project_id = "x"
}}
resource "huaweicloud_cbr_vault" "v{i}" {{
  name            = "v{i}"
  type            = "server"
  protection_type = "backup"
  size            = 100
  policy_id       = huaweicloud_cbr_policy.p{i}.id
{TAGGED}}}
"""
        ),
        head='provider "huaweicloud" {\n  region = "cn-north-4"\n}\n',
    )


def global_clusters(root: Path, n: int) -> list[str]:
    """Aurora clusters joined to their global clusters by a literal identifier."""
    return one_file(
        root,
        n // 2,
        lambda i: (
            f'resource "aws_rds_global_cluster" "g{i}" {{\n  global_cluster_identifier = "gc-{i}"\n}}\n'
            f'resource "aws_rds_cluster" "c{i}" {{\n  cluster_identifier        = "c-{i}"\n'
            f'  global_cluster_identifier = "gc-{i}"\n{TAGGED}}}\n'
        ),
    )


def registry_replication(root: Path, n: int) -> list[str]:
    """ECR repositories beside registry-wide replication configurations (same region)."""
    return one_file(
        root,
        n // 2,
        lambda i: (
            f"""resource "aws_ecr_repository" "e{i}" {{
  name = "e{i}"
{TAGGED}}}
resource "aws_ecr_replication_configuration" "c{i}" {{
  replication_configuration {{
    rule {{
      destination {{
        region      = "cn-northwest-1"
        registry_id = "123456789012"
      }}
    }}
  }}
}}
"""
        ),
    )


def replication_rules(root: Path, n: int) -> list[str]:
    """One replication configuration with N rule blocks (N flows of one resource)."""
    rules = "".join(
        f'  rule {{\n    id     = "r{i}"\n    status = "Enabled"\n'
        "    destination {\n      bucket = aws_s3_bucket.dst.arn\n    }\n  }\n"
        for i in range(n)
    )
    write(
        root / "main.tf",
        PROVIDER
        + f"""resource "aws_s3_bucket" "src" {{
  bucket = "src"
{TAGGED}}}
resource "aws_s3_bucket" "dst" {{
  bucket = "dst"
}}
resource "aws_s3_bucket_replication_configuration" "r" {{
  bucket = aws_s3_bucket.src.id
  role   = "arn:aws-cn:iam::123456789012:role/r"
{rules}}}
""",
    )
    return ["."]


def plan_rules(root: Path, n: int) -> list[str]:
    """A plan whose one replication configuration has N rules with unknown destinations."""
    bucket = {"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b"}
    repl = {"address": "aws_s3_bucket_replication_configuration.r", "mode": "managed",
            "type": "aws_s3_bucket_replication_configuration", "name": "r"}  # fmt: skip
    provider = {"provider_name": "registry.terraform.io/hashicorp/aws"}
    rules = [{"status": "Enabled", "id": f"r{k}", "destination": [{}]} for k in range(n)]
    doc = {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        **bucket,
                        **provider,
                        "values": {"bucket": "b", "tags": {"data-classification": "personal"}},
                    },
                    {**repl, **provider, "values": {"role": "x", "rule": rules}},
                ]
            }
        },
        "resource_changes": [
            {
                **bucket,
                "change": {"actions": ["create"], "after_unknown": {"arn": True, "id": True}},
            },
            {
                **repl,
                "change": {
                    "actions": ["create"],
                    "after_unknown": {
                        "bucket": True,
                        "rule": [{"destination": [{"bucket": True}]} for _ in range(n)],
                    },
                },
            },
        ],
        "configuration": {
            "provider_config": {
                "aws": {"name": "aws", "expressions": {"region": {"constant_value": "cn-north-1"}}}
            },
            "root_module": {
                "resources": [
                    {
                        **bucket,
                        "provider_config_key": "aws",
                        "expressions": {
                            "bucket": {"constant_value": "b"},
                            "tags": {"constant_value": {"data-classification": "personal"}},
                        },
                    },
                    {
                        **repl,
                        "provider_config_key": "aws",
                        "expressions": {
                            "bucket": {"references": ["aws_s3_bucket.b.id", "aws_s3_bucket.b"]},
                            "rule": [
                                {
                                    "id": {"constant_value": f"r{k}"},
                                    "destination": [
                                        {
                                            "bucket": {
                                                "references": [
                                                    "aws_s3_bucket.b.arn",
                                                    "aws_s3_bucket.b",
                                                ]
                                            }
                                        }
                                    ],
                                }
                                for k in range(n)
                            ],
                        },
                    },
                ]
            },
        },
    }
    write(root / "plan.json", json.dumps(doc))
    return ["plan.json"]


def terragrunt_inputs(root: Path, n: int) -> list[str]:
    """One Terragrunt unit whose ``inputs`` has N keys."""
    mod = PROVIDER + "".join(f'variable "v{i}" {{}}\n' for i in range(n))
    write(
        root / "modules" / "m" / "main.tf",
        mod + f'resource "aws_s3_bucket" "b" {{\n  bucket = var.v0\n{TAGGED}}}\n',
    )
    inputs = "".join(f'  v{i} = "val-{i}"\n' for i in range(n))
    write(root / "live" / "u" / "terragrunt.hcl",
          f'terraform {{\n  source = "../../modules//m"\n}}\ninputs = {{\n{inputs}}}\n')  # fmt: skip
    return ["."]


def exemptions(root: Path, n: int) -> list[str]:
    """N findings and an exemption in ciiguard.toml for every other one."""
    parts = ['provider "aws" {\n  region = "us-east-1"\n}\n']
    parts += [
        f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "acme-{i}"\n{TAGGED}}}\n' for i in range(n)
    ]
    write(root / "tree" / "main.tf", "".join(parts))
    write(
        root / "policy.toml",
        "".join(
            f'[[exemptions]]\nresource = "aws_s3_bucket.b{i}"\npolicy = "CII001"\nreason = "r"\n'
            f'expires = "{date.today() + timedelta(days=100)}"\n'
            for i in range(0, n, 2)
        ),
    )
    return ["tree", "--policy-config", "policy.toml"]


def sarif_outside_cwd(root: Path, n: int) -> list[str]:
    """N root modules scanned by absolute path from another directory, as SARIF."""
    for i in range(n):
        write(root / "tree" / f"r{i}" / "main.tf",
              'provider "aws" {\n  region = "us-east-1"\n}\n'
              f'resource "aws_s3_bucket" "b" {{\n  bucket = "acme-{i}"\n{TAGGED}}}\n')  # fmt: skip
    (root / "cwd").mkdir()  # the scan runs from here: the roots are outside its directory
    return [str(root / "tree"), "--format", "sarif"]


def counted_with_unknown_list(root: Path, n: int) -> list[str]:
    """N ``count`` instances whose security group ids are not known before apply (a list with an
    unknown in it), each referred to by one volume."""
    head = PROVIDER + 'resource "aws_security_group" "sg" {\n  name = "sg"\n}\n'
    head += f'resource "aws_instance" "web" {{\n  count = {n}\n  ami   = "ami-1"\n'
    head += "  vpc_security_group_ids = [aws_security_group.sg.id]\n}\n"
    return one_file(
        root,
        n,
        lambda i: (
            f'resource "aws_ebs_volume" "v{i}" {{\n'
            f"  availability_zone = aws_instance.web[{i}].availability_zone\n{TAGGED}}}\n"
        ),
        head,
    )


def map_crossing_arrows(root: Path, n: int) -> list[str]:
    """``ciiguard map --detail resources``: N replications from mainland buckets to buckets in two
    other regions, in reverse order, so that every arrow crosses the others."""
    head = PROVIDER + "".join(
        f'provider "aws" {{\n  alias = "{a}"\n  region = "{r}"\n}}\n'
        for a, r in (("us", "us-east-1"), ("hk", "ap-east-1"))
    )
    one_file(
        root,
        n,
        lambda i: (
            f"""resource "aws_s3_bucket" "s{i}" {{
  bucket = "src-{i}"
{TAGGED}}}
resource "aws_s3_bucket" "d{n - 1 - i}" {{
  provider = aws.{"us" if i % 2 else "hk"}
  bucket   = "dst-{n - 1 - i}"
{TAGGED}}}
resource "aws_s3_bucket_replication_configuration" "r{i}" {{
  bucket = aws_s3_bucket.s{i}.id
  role   = "r"
  rule {{
    status = "Enabled"
    destination {{
      bucket = aws_s3_bucket.d{n - 1 - i}.arn
    }}
  }}
}}
"""
        ),
        head,
    )
    return ["map", ".", "--detail", "resources", "--format", "svg"]


def pulumi_yaml(root: Path, n: int) -> list[str]:
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
    write(root / "Pulumi.yaml", "\n".join(lines) + "\n")
    write(root / "Pulumi.dev.yaml", "config:\n  aws:region: cn-north-1\n")
    return ["."]


# shape -> (generator, N: the smallest size, chosen for about half a second of work)
SHAPES: dict[str, tuple[Shape, int]] = {
    "one .tf file, a comment at every block": (commented_buckets, 4000),
    "one module, resources referring to each other": (referring_resources, 4000),
    "for_each resources referring by each.key": (for_each_references, 2000),
    "a function given a whole map, per key": (function_over_a_map, 2000),
    "module outputs, one per bucket": (module_outputs, 4000),
    "one module call with N arguments": (module_arguments, 8000),
    ".tf.json object with N keys": (json_object_keys, 8000),
    "N root directories on the command line": (many_scan_paths, 150),
    "replication naming buckets by name and ARN": (replication_by_name, 1500),
    "backup vaults found through their policy": (backup_policies, 1000),
    "Aurora clusters joined by identifier": (global_clusters, 4000),
    "ECR replication beside repositories": (registry_replication, 2000),
    "one replication configuration, N rules": (replication_rules, 1000),
    "plan: one resource, N rules of unknown destination": (plan_rules, 500),
    "Terragrunt unit with N inputs": (terragrunt_inputs, 2000),
    "N findings, N/2 exemptions in the policy config": (exemptions, 500),
    "SARIF, N roots scanned from outside the tree": (sarif_outside_cwd, 500),
    "Pulumi YAML, a comment at every resource": (pulumi_yaml, 2000),
    "count instances holding an unknown in a list": (counted_with_unknown_list, 1000),
    "map of N crossing replications, per resource": (map_crossing_arrows, 1000),
}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every shape's N by this")
    ap.add_argument("--only", help="the shapes whose name contains this text")
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
        for what, (make, smallest) in SHAPES.items():
            if args.only and args.only not in what:
                continue
            seconds = []
            for n in (smallest * args.scale, smallest * args.scale * 2, smallest * args.scale * 4):
                n = int(n)
                root = work / f"{make.__name__}-{n}"
                root.mkdir()
                scan = make(root, n)
                if "--format" not in scan:
                    scan += ["--format", "json"]
                command = scan.pop(0) if scan[0] == "map" else "scan"
                cmd = [*exe, command, *scan, "--no-cache", "--no-config",
                       "--output", str(work / "report")]  # fmt: skip
                m = measure(cmd, env, cwd=root / "cwd" if (root / "cwd").is_dir() else root)
                if m.code not in (0, 1):
                    print(f"{what}: exit {m.code} at N={n}", file=sys.stderr)
                    return 2
                seconds.append(m.seconds)
                rows.append({"shape": what, "n": n, "seconds": m.seconds, "peak_mb": m.peak_mb})
                shutil.rmtree(root)
            growth = [b / a for a, b in itertools.pairwise(seconds)]
            worst.append((growth[-1], what))
            shown = "  ".join(f"{s:6.2f} s" for s in seconds)
            print(f"{what:52s} {shown}   per doubling: " + ", ".join(f"{g:.2f}x" for g in growth))
        write_results(args.out, scale=args.scale, rows=rows)
        over = [(g, w) for g, w in worst if g > args.limit]
        for g, w in over:
            print(f"grows faster than its input: {w} ({g:.2f}x per doubling)", file=sys.stderr)
        return 1 if over else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
