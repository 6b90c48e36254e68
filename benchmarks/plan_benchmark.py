"""Benchmark: scan a generated ``terraform show -json`` plan of N resources (default 100,000).

    python benchmarks/plan_benchmark.py [--resources 100000] [--keep DIR]

``generate_plan(path, n)`` writes the plan (``benchmarks/run.py`` imports it); ``time_scan(path)``
runs the installed ``ciiguard scan`` on it and returns wall seconds and the child's peak memory.

The plan has the shape Terraform 1.11 writes, on one line as ``terraform show -json`` prints it:
a module called with count whose instances each hold buckets, a replication configuration with
an unknown destination ARN that refers to a sibling bucket, a DynamoDB table with replicas, a
database and a log group; providers keyed ``aws``, ``aws.hk`` and ``module.svc:aws``; every
change with ``after_unknown`` and sensitivity skeletons; ``prior_state`` for the half that exists.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

AWS = "registry.terraform.io/hashicorp/aws"
PER_INSTANCE = 10  # resources per instance of module "svc"
ROLE = "arn:aws-cn:iam::123456789012:role/replication"
BUCKET_COMPUTED = (
    "acceleration_status", "acl", "arn", "bucket_domain_name", "bucket_prefix",
    "bucket_regional_domain_name", "cors_rule", "grant", "hosted_zone_id", "id",
    "lifecycle_rule", "logging", "object_lock_configuration", "object_lock_enabled", "policy",
    "region", "replication_configuration", "request_payer", "server_side_encryption_configuration",
    "versioning", "website", "website_domain", "website_endpoint",
)


def _bucket(i: int, n: int, cls: str) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
    tags = {"data-classification": cls, "service": f"svc-{i}"}
    values = {"bucket": f"acme-{i}-{n}", "force_destroy": False, "tags": tags, "tags_all": tags,
              "timeouts": None}
    unknown: dict[str, Any] = {k: True for k in BUCKET_COMPUTED}
    unknown.update({"tags": {}, "tags_all": {}})
    return f"aws_s3_bucket.b{n}", values, unknown, {"tags": {}, "tags_all": {}}


def _instance(i: int) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(type, address-in-module, values, after_unknown, sensitive) of one module instance."""
    for n, cls in enumerate(("personal", "important", "internal", "public")):
        addr, v, u, s = _bucket(i, n, cls)
        yield "aws_s3_bucket", addr, v, u, s
    rule = {"delete_marker_replication": [], "existing_object_replication": [], "filter": [],
            "id": "dr", "prefix": None, "priority": None, "source_selection_criteria": [],
            "status": "Enabled",
            "destination": [{"access_control_translation": [], "account": None,
                             "encryption_configuration": [], "metrics": [],
                             "replication_time": [], "storage_class": None}]}
    skel_rule = {"delete_marker_replication": [], "existing_object_replication": [],
                 "filter": [], "source_selection_criteria": [],
                 "destination": [{"access_control_translation": [], "encryption_configuration": [],
                                  "metrics": [], "replication_time": []}]}
    yield ("aws_s3_bucket_replication_configuration", "aws_s3_bucket_replication_configuration.dr",
           {"role": ROLE, "rule": [rule], "token": None},
           {"bucket": True, "id": True,
            "rule": [{**skel_rule, "destination": [{**skel_rule["destination"][0], "bucket": True}]}]},
           {"rule": [skel_rule]})
    tags = {"data-classification": "personal"}
    replica = {"region_name": "cn-northwest-1", "propagate_tags": False,
               "point_in_time_recovery": False}
    yield ("aws_dynamodb_table", "aws_dynamodb_table.t",
           {"name": f"t-{i}", "billing_mode": "PAY_PER_REQUEST", "hash_key": "id",
            "attribute": [{"name": "id", "type": "S"}], "replica": [replica], "tags": tags,
            "tags_all": tags},
           {"arn": True, "id": True, "stream_arn": True, "ttl": True,
            "attribute": [{}], "replica": [{"arn": True, "kms_key_arn": True}], "tags": {},
            "tags_all": {}},
           {"attribute": [{}], "replica": [{}], "tags": {}, "tags_all": {}})
    yield ("aws_db_instance", "aws_db_instance.db",
           {"identifier": f"db-{i}", "engine": "postgres", "instance_class": "db.t3.micro",
            "allocated_storage": 20, "replicate_source_db": None, "tags": tags, "tags_all": tags},
           {"address": True, "arn": True, "endpoint": True, "id": True, "tags": {}, "tags_all": {}},
           {"tags": {}, "tags_all": {}})
    for n in range(3):
        yield ("aws_cloudwatch_log_group", f"aws_cloudwatch_log_group.l{n}",
               {"name": f"/svc/{i}/{n}", "retention_in_days": 30, "tags": tags, "tags_all": tags},
               {"arn": True, "id": True, "tags": {}, "tags_all": {}},
               {"tags": {}, "tags_all": {}})


def _config_resources() -> list[dict[str, Any]]:
    out = []
    for rtype, addr, values, _, _ in _instance(0):
        exprs: dict[str, Any] = {}
        if rtype == "aws_s3_bucket_replication_configuration":
            exprs = {"bucket": {"references": ["aws_s3_bucket.b0.id", "aws_s3_bucket.b0"]},
                     "role": {"constant_value": ROLE},
                     "rule": [{"id": {"constant_value": "dr"},
                               "status": {"constant_value": "Enabled"},
                               "destination": [{"bucket": {"references": [
                                   "aws_s3_bucket.b1.arn", "aws_s3_bucket.b1"]}}]}]}
        else:
            exprs = {k: {"constant_value": v} for k, v in values.items()
                     if k not in ("tags_all", "timeouts", "force_destroy") and v is not None}
        out.append({"address": addr, "mode": "managed", "type": rtype,
                    "name": addr.split(".", 1)[1], "provider_config_key": "module.svc:aws",
                    "expressions": exprs, "schema_version": 0})
    return sorted(out, key=lambda r: r["address"])


def _dump(fh: TextIO, items: Iterator[dict[str, Any]]) -> None:
    fh.write("[")
    for k, item in enumerate(items):
        if k:
            fh.write(",")
        fh.write(json.dumps(item, separators=(",", ":")))
    fh.write("]")


def generate_plan(path: Path, n: int = 100_000) -> Path:
    """Write a plan JSON of about ``n`` managed resources to ``path`` (streamed, constant memory)."""
    instances = max(1, n // PER_INSTANCE)
    path.parent.mkdir(parents=True, exist_ok=True)
    ident = {"mode": "managed", "provider_name": AWS}

    def planned(i: int) -> Iterator[dict[str, Any]]:
        for rtype, addr, values, _, sensitive in _instance(i):
            yield {"address": f"module.svc[{i}].{addr}", **ident, "type": rtype,
                   "name": addr.split(".", 1)[1], "schema_version": 0, "values": values,
                   "sensitive_values": sensitive}

    def changes() -> Iterator[dict[str, Any]]:
        for i in range(instances):
            existing = i % 2 == 1
            for rtype, addr, values, unknown, sensitive in _instance(i):
                yield {"address": f"module.svc[{i}].{addr}", "module_address": f"module.svc[{i}]",
                       **ident, "type": rtype, "name": addr.split(".", 1)[1],
                       "change": {"actions": ["no-op"] if existing else ["create"],
                                  "before": values if existing else None, "after": values,
                                  "after_unknown": {} if existing else unknown,
                                  "before_sensitive": sensitive if existing else False,
                                  "after_sensitive": sensitive}}

    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"format_version":"1.2","terraform_version":"1.11.4",')
        variables = {"region": {"value": "cn-north-1"}, "instances": {"value": instances}}
        fh.write('"variables":' + json.dumps(variables, separators=(",", ":")) + ",")
        fh.write('"planned_values":{"root_module":{"child_modules":')
        _dump(fh, ({"resources": list(planned(i)), "address": f"module.svc[{i}]"}
                   for i in range(instances)))
        fh.write('}},"resource_changes":')
        _dump(fh, changes())
        fh.write(',"prior_state":{"format_version":"1.0","terraform_version":"1.11.4",'
                 '"values":{"root_module":{"child_modules":')
        _dump(fh, ({"resources": list(planned(i)), "address": f"module.svc[{i}]"}
                   for i in range(1, instances, 2)))
        fh.write("}}},")
        config = {
            "provider_config": {
                "aws": {"name": "aws", "full_name": AWS,
                        "expressions": {"region": {"references": ["var.region"]}}},
                "aws.hk": {"name": "aws", "full_name": AWS, "alias": "hk",
                           "expressions": {"region": {"constant_value": "ap-east-1"}}},
                "module.svc:aws": {"name": "aws", "full_name": AWS, "module_address": "module.svc",
                                   "expressions": {"region": {"references": ["var.region"]}}},
            },
            "root_module": {
                "module_calls": {"svc": {
                    "source": "./svc",
                    "expressions": {"region": {"references": ["var.region"]}},
                    "count_expression": {"references": ["var.instances"]},
                    "module": {"resources": _config_resources(), "variables": {"region": {}}},
                }},
                "variables": {"region": {}, "instances": {}},
            },
        }
        fh.write('"configuration":' + json.dumps(config, separators=(",", ":")))
        fh.write(',"timestamp":"2026-11-20T08:00:00Z","applyable":true,"complete":true,'
                 '"errored":false}\n')
    return path


def ciiguard_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("ciiguard")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("ciiguard")
    return [found] if found else [sys.executable, "-m", "ciiguard"]


def time_scan(plan: Path, out: Path | None = None) -> dict[str, Any]:
    """Scan ``plan`` with the installed command; wall seconds, child peak RSS, exit code."""
    out = out or plan.with_name("plan-report.json")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(
        [*ciiguard_cmd(), "scan", str(plan), "--format", "json", "--no-cache", "--output", str(out)],
        capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"ciiguard scan failed ({proc.returncode}): {proc.stderr.strip()}")
    summary = json.loads(out.read_text(encoding="utf-8"))["summary"]
    return {
        "plan_bytes": plan.stat().st_size,
        "resources": summary["resources"],
        "violations": summary["violations"],
        "exit_code": proc.returncode,
        "seconds": round(seconds, 2),
        "peak_mb": round(max(peak_kb, before) / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resources", type=int, default=100_000)
    ap.add_argument("--keep", metavar="DIR", help="write the plan and report here and keep them")
    args = ap.parse_args(argv)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ciiguard-plan-bench-"))
    try:
        start = time.perf_counter()
        plan = generate_plan(work / "plan.json", args.resources)
        gen = time.perf_counter() - start
        row = {"plan_resources": args.resources, "generate_s": round(gen, 2), **time_scan(plan)}
        print(json.dumps(row))
        return 0 if row["resources"] >= args.resources * 0.99 else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
