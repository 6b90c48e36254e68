"""Pulumi Python programs: only run with --run-programs, then under the Pulumi SDK's mocks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, FIXTURES, run_cli

PROGRAMS = FIXTURES / "pulumi" / "program"

MARKER_PROGRAM = """\
import pathlib
import pulumi

pathlib.Path("ran.marker").write_text("the program ran")
print("noise on stdout from the program")
pulumi.export("region", pulumi.Config("aws").get("region"))
"""


def scan(path: Path, *extra: str) -> tuple[int, dict]:
    run = run_cli("scan", str(path), "--format", "json", *extra)
    return run.code, run.json


def verdicts(report: dict) -> list[tuple[str, str]]:
    return sorted((v["policy"], v["resource"].rsplit("::", 1)[1]) for v in report["violations"])


def _project(tmp_path: Path, program: str, runtime: str = "python") -> Path:
    (tmp_path / "Pulumi.yaml").write_text(f"name: marker\nruntime: {runtime}\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: cn-north-1\n")
    (tmp_path / "__main__.py").write_text(program)
    return tmp_path


def test_a_python_program_is_not_run_without_run_programs(tmp_path: Path) -> None:
    project = _project(tmp_path, MARKER_PROGRAM)
    run = run_cli("scan", str(project), "--format", "json")
    assert run.code == 2
    (error,) = run.json["errors"]
    assert error["file"].endswith("Pulumi.yaml") and error["line"] == 2
    assert "not checked" in error["message"] and "--run-programs" in error["message"]
    assert "project's Python environment" in error["message"]
    assert not (project / "ran.marker").exists()
    text = run_cli("scan", str(project))
    assert text.code == 2 and "--run-programs" in text.stdout


def test_run_programs_runs_it_in_its_directory_and_keeps_json_output_clean(tmp_path: Path) -> None:
    pytest.importorskip("pulumi")
    project = _project(tmp_path, MARKER_PROGRAM)
    run = run_cli("scan", str(project), "--format", "json", "--run-programs")
    assert (project / "ran.marker").read_text() == "the program ran"
    report = run.json  # the program's print() did not end up in the report
    assert report["errors"] == [] and report["resources"] == []
    # nothing to check is not a pass of something: no resources, but no error either
    assert run.code == 0


def test_violating_program_under_mocks() -> None:
    pytest.importorskip("pulumi_aws")
    code, report = scan(PROGRAMS / "violating", "--run-programs")
    assert report["errors"] == []
    res = {r["address"].rsplit("::", 1)[1]: r for r in report["resources"]}
    assert set(res) == {"orders", "orders-replica", "orders-replication", "sessions", "exports"}
    assert {r["input"] for r in report["resources"]} == {"pulumi-program"}
    replica = res["orders-replica"]
    assert replica["region"] == "ap-east-1"
    # the provider's region came from stack config through Config.require("replicaRegion")
    assert replica["provenance"].startswith(
        "provider replica (tests/fixtures/pulumi/program/violating/__main__.py:10)"
    )
    assert (replica["file"], replica["line"]) == (
        "tests/fixtures/pulumi/program/violating/storage.py",
        9,
    )
    (flow,) = res["orders-replication"]["flows"]
    assert flow["source"] == res["orders"]["address"]
    assert flow["destination_resource"] == replica["address"]
    assert res["orders"]["classification"] == "personal"  # aws:defaultTags in Pulumi.prod.yaml
    assert res["exports"]["region"] == "us-west-2"  # per-resource region (pulumi-aws v7)
    assert verdicts(report) == [
        ("CII001", "exports"),
        ("CII001", "orders-replica"),
        ("CII002", "orders-replication"),
        ("CII002", "sessions"),
    ]
    assert code == 1


def test_compliant_program_under_mocks() -> None:
    pytest.importorskip("pulumi_aws")
    code, report = scan(PROGRAMS / "compliant", "--run-programs")
    assert (code, report["violations"], report["errors"]) == (0, [], [])
    res = {r["address"].rsplit("::", 1)[1]: r for r in report["resources"]}
    # aws.get_region() answered from the stack's aws:region
    assert res["archive"]["region"] == "cn-northwest-1"
    assert res["ledger"]["flows"][0]["destination"] == "cn-northwest-1"


def test_a_failing_program_is_an_error_at_its_line() -> None:
    pytest.importorskip("pulumi")
    run = run_cli("scan", str(PROGRAMS / "failing"), "--run-programs")
    assert run.code == 2
    line = next(ln for ln in run.stdout.splitlines() if ln.startswith("error:"))
    assert line.startswith("error: tests/fixtures/pulumi/program/failing/__main__.py:4: ")
    assert "'failing-py:bucketCount' is required as a number" in line
    assert "Traceback" not in run.stdout + run.stderr


def test_a_missing_dependency_says_to_run_inside_the_project_environment(tmp_path: Path) -> None:
    pytest.importorskip("pulumi")
    project = _project(tmp_path, "import pulumi\nimport pulumi_not_installed_anywhere\n")
    run = run_cli("scan", str(project), "--run-programs", "--format", "json")
    assert run.code == 2
    (error,) = run.json["errors"]
    assert error["line"] == 2
    assert "ModuleNotFoundError" in error["message"]
    assert "project's Python environment" in error["message"]


def test_other_languages_point_to_preview_json(tmp_path: Path) -> None:
    project = _project(tmp_path, "", runtime="go")
    run = run_cli("scan", str(project), "--run-programs", "--format", "json")
    assert run.code == 2
    (error,) = run.json["errors"]
    assert "go programs are not evaluated" in error["message"]
    assert "pulumi preview --json" in error["message"]


def test_python_examples(tmp_path: Path) -> None:
    pytest.importorskip("pulumi_aws")
    code, report = scan(EXAMPLES / "pulumi-python" / "compliant", "--run-programs")
    assert (code, report["violations"], report["errors"]) == (0, [], [])
    code, report = scan(EXAMPLES / "pulumi-python" / "violating", "--run-programs")
    assert code == 1
    assert {v["policy"] for v in report["violations"]} == {"CII001", "CII002"}
    shutil.rmtree(tmp_path, ignore_errors=True)


CONFIG_PROGRAM = """\
import pulumi

config = pulumi.Config()
replica = config.require("replicaRegion")  # no stack file sets it
token = config.require_secret("apiToken")  # secure: in the stack file
pulumi.CustomResource(
    "aws:dynamodb/table:Table",
    "ledger",
    {
        "hashKey": "id",
        "replicas": [{"regionName": replica}],
        "tags": {"data-classification": "personal", "token": token},
    },
)
pulumi.CustomResource(
    "aws:s3/bucketV2:BucketV2",
    "archive",
    {"bucket": f"archive-{replica}", "tags": {"data-classification": "personal"}},
)
"""


def test_required_and_secret_config_are_unknown_with_a_warning_not_an_error(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path, CONFIG_PROGRAM)
    (project / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: cn-north-1\n  marker:apiToken:\n    secure: AAABAK1nZ2Vk\n"
    )
    code, report = scan(project, "--run-programs")
    assert report["errors"] == []
    assert any(
        "'marker:replicaRegion' is required by the program but not set" in w["message"]
        for w in report["warnings"]
    )
    # the replica region decides a verdict: CII003 naming the key; the bucket is placed anyway
    assert code == 1
    assert verdicts(report) == [("CII003", "ledger")]
    (v,) = report["violations"]
    assert "replicaRegion" in v["message"] or "replicaRegion" in v["evidence"]
    by = {r["address"].rsplit("::", 1)[1]: r for r in report["resources"]}
    assert by["archive"]["region"] == "cn-north-1"
    assert by["ledger"]["classification"] == "personal"  # a secret tag beside it hides nothing


def test_a_typed_required_config_key_no_file_sets_is_an_error_that_says_so(
    tmp_path: Path,
) -> None:
    program = 'import pulumi\nn = pulumi.Config().require_int("replicas")\n'
    code, report = scan(_project(tmp_path, program), "--run-programs")
    assert code == 2
    (error,) = report["errors"]
    assert "'marker:replicas' is required as a number" in error["message"]
    assert error["line"] == 2


def test_invokes_stack_references_and_reads_run_to_the_end_and_decide_nothing() -> None:
    """Invokes answer with their result's shape (from the SDK's result classes): iterating runs,
    the provider's region is known, every other answer is unknown (CII003 where it decides)."""
    code, report = scan(PROGRAMS / "invokes", "--run-programs", "--no-cache")
    assert report["errors"] == []
    names = {r["address"].rsplit("::", 1)[1]: r for r in report["resources"]}
    assert sorted(names) == ["ledger", "orders", "second", "sessions", "subnet-0", "subnet-1", "subnet-2"]
    assert [f["destination"] for f in names["ledger"]["flows"]] == ["cn-northwest-1"]
    assert [f["location"] for f in names["sessions"]["flows"]] == ["unknown"]
    assert names["orders"]["region"] == "cn-north-1"
    assert code == 1
    (v,) = report["violations"]
    assert (v["policy"], v["resource"].rsplit("::", 1)[1]) == ("CII003", "sessions")
    assert "getRegions() result names[0]" in v["message"] + v["evidence"]


def test_an_invoke_given_a_string_for_a_flag_runs_on() -> None:
    """``aws.ec2.get_ami(most_recent="true")`` (pulumi/examples aws-py-ecs-instances-autoapi):
    the result echoed the string, the SDK's result class refused it, exit 2 (twelfth audit)."""
    pytest.importorskip(
        "pulumi_aws", reason="pulumi-aws is a dev dependency (pip install -e '.[dev]')"
    )
    code, report = scan(PROGRAMS / "invoke-typed-arguments", "--run-programs", "--no-cache")
    assert report["errors"] == [], report["errors"]
    (bucket,) = report["resources"]
    assert (code, bucket["region"], bucket["in_scope"]) == (0, "cn-north-1", True)


def test_a_program_failing_on_a_missing_config_stand_in_names_the_key(tmp_path: Path) -> None:
    """A required string config that is not set gets a stand-in; a program that used it as a
    path failed with the stand-in as the file name and no word of the key (twelfth audit:
    pulumi/examples aws-py-static-website). The error names it and says how to set it."""
    from ciiguard.parsers.pulumi.capture import explain_stand_ins

    message = "FileNotFoundError: No such file: 'ciiguard:missing-config:site:pathToContents'"
    got = explain_stand_ins(message)
    assert got.startswith(message) and "configuration 'pathToContents', which is not set" in got
    assert "pulumi config set" in got
    assert explain_stand_ins("ValueError: other") == "ValueError: other"
    # an invoke result's stand-in, whole or cut short as Node quotes it (sixteenth audit:
    # pulumi/examples aws-ts-airflow parses an SSM parameter with JSON.parse)
    cut = "SyntaxError: Unexpected token 'c', \"ciiguard:i\"... is not valid JSON"
    assert "stand-in before deployment" in explain_stand_ins(cut)
    whole = "Error: bad ami ciiguard:invoke-result:aws:ssm/getParameter:getParameter#value"
    assert "(an invoke: aws:ssm/getParameter:getParameter)" in explain_stand_ins(whole)
    program = 'import os, pulumi\nos.listdir(pulumi.Config().require("pathToContents"))\n'
    project = _project(tmp_path, program)
    run = run_cli("scan", str(project), "--run-programs", "--no-cache", "--format", "json")
    (error,) = run.json["errors"]
    assert run.code == 2 and error["line"] == 2, error
    assert "configuration 'pathToContents', which is not set" in error["message"], error


def test_the_invoke_answers_are_language_neutral() -> None:
    from ciiguard.parsers.pulumi.invoke import Field, answer, unknown_from_mark

    fields = [
        Field("name", "string"),
        Field("names", "list", Field("", "string")),
        Field("count", "integer"),
        Field("enabled", "boolean", optional=True),
        Field("state", "string"),
        Field("region", "string"),
        Field("nested", "object", fields=(Field("zone", "string"),)),
        Field("blocks", "list", Field("", "object", fields=(Field("cidrs", "list", Field("", "string")),))),
    ]
    got = answer("aws:index/getRegion:getRegion", {"state": "available"}, "cn-north-1", fields)
    value = got.value
    assert value["name"] == "cn-north-1" and value["region"] == "cn-north-1"  # catalogue data
    assert value["state"] == "available"  # echoes its argument
    assert value["enabled"] is None and value["count"] == 1 and got.stand_ins == ["count"]
    zone, _, third = value["names"]  # a result's own list: three elements
    u = unknown_from_mark(f"prefix-{zone}")
    assert u is not None and "getRegion() result names[0]" in u.reason
    assert "names[2]" in getattr(unknown_from_mark(third), "reason", "")
    assert [len(b["cidrs"]) for b in value["blocks"]] == [1, 1, 1]  # deeper lists: one element
    assert unknown_from_mark(value["nested"]["zone"]) is not None
    # an echoed argument takes the result field's type, as the provider converts it (a string
    # for a flag stopped the program: get_ami(most_recent="true"), twelfth audit)
    typed = answer(
        "aws:ec2/getAmi:getAmi",
        {"mostRecent": "true", "count": "2", "ratio": "0.5", "size": "big", "on": "yes"},
        "cn-north-1",
        [
            Field("mostRecent", "boolean"),
            Field("count", "integer"),
            Field("ratio", "number"),
            Field("size", "integer"),
            Field("on", "boolean"),
        ],
    ).value
    assert typed == {"mostRecent": True, "count": 2, "ratio": 0.5, "size": "big", "on": "yes"}
    other = answer("aws:ec2/getVpc:getVpc", {}, "cn-north-1", [Field("name", "string")])
    assert unknown_from_mark(other.value["name"]) is not None  # name is a region only for getRegion


RESOURCE_INPUT_PROGRAM = """\
import pulumi

role = pulumi.CustomResource("aws:iam/role:Role", "role", {"assumeRolePolicy": "{}"})
fn = pulumi.CustomResource(
    "aws:lambda/function:Function",
    "fn",
    {"role": role, "runtime": "python3.12", "tags": {"data-classification": "personal"}},
)
pulumi.CustomResource("aws:lambda/permission:Permission", "allow", {"function": fn})
"""


def test_a_resource_passed_as_an_input_does_not_break_the_run(tmp_path: Path) -> None:
    """As pulumi/examples aws-py-apigatewayv2-http-api-quickcreate does (function=fn): the
    SDK's mock layer used to rehydrate the reference on another event loop and fail."""
    code, report = scan(_project(tmp_path, RESOURCE_INPUT_PROGRAM), "--run-programs")
    assert report["errors"] == [], report["errors"]
    assert code == 0
    assert len(report["resources"]) == 3


INVOKE_CHAIN_PROGRAM = """\
import pulumi_aws as aws

vpc = aws.ec2.get_vpc(default=True)
subnets = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc.id]}])
aws.s3.BucketV2("orders", tags={"data-classification": "personal", "subnet": subnets.ids[0]})
"""


def test_one_invoke_s_result_passed_to_another_runs_on(tmp_path: Path) -> None:
    """``get_subnets(filters=[... vpc.id])`` after ``get_vpc()``: the second invoke echoed the
    first's stand-in back as an unknown object the SDK cannot send, and the program stopped
    (fifth audit: pulumi/examples aws-py-fargate). An echoed unknown is a stand-in again."""
    pytest.importorskip(
        "pulumi_aws", reason="pulumi-aws is a dev dependency (pip install -e '.[dev]')"
    )
    code, report = scan(_project(tmp_path, INVOKE_CHAIN_PROGRAM), "--run-programs", "--no-cache")
    assert report["errors"] == [], report["errors"]
    (bucket,) = report["resources"]
    assert (code, bucket["region"], bucket["in_scope"]) == (0, "cn-north-1", True)


TRANSFORMS_PROGRAM = """\
import pulumi
import pulumi_aws as aws


def to_hong_kong(args):
    return pulumi.ResourceTransformResult(props={**args.props, "region": "ap-east-1"}, opts=args.opts)


pulumi.runtime.register_resource_transform(to_hong_kong)
aws.s3.BucketV2("orders", tags={"data-classification": "personal"})
aws.s3.BucketV2("invoices", tags={"data-classification": "personal"},
                opts=pulumi.ResourceOptions(transforms=[to_hong_kong]))
"""


def test_resource_transforms_are_not_applied_and_say_so(tmp_path: Path) -> None:
    """A transform that moves every bucket to Hong Kong passed: the SDK's mocks do not apply
    transforms (seventh audit). Each one is now an error naming it: the scan is incomplete."""
    pytest.importorskip(
        "pulumi_aws", reason="pulumi-aws is a dev dependency (pip install -e '.[dev]')"
    )
    code, report = scan(_project(tmp_path, TRANSFORMS_PROGRAM), "--run-programs", "--no-cache")
    messages = sorted(e["message"] for e in report["errors"])
    assert code == 2 and len(messages) == 2, messages
    assert "'invoices' has resource transforms" in messages[0]
    assert (
        "registers a stack-wide resource transform, which ciiguard's mocks do not apply"
        in messages[1]
    )


APPLY_PROGRAM = """\
import functools
import json

import pulumi
import pulumi_aws as aws

PERSONAL = {"data-classification": "personal"}
seed = aws.s3.BucketV2("seed", tags=PERSONAL)  # its name and ARN are known only after deployment
known = aws.s3.BucketV2("known", bucket="orders-known", tags=PERSONAL)


def abroad(arn):
    hk = aws.Provider("hk", region="ap-east-1")
    aws.s3.BucketV2("in-apply", tags=PERSONAL, opts=pulumi.ResourceOptions(provider=hk))
    return arn


seed.arn.apply(abroad)
seed.bucket.apply(lambda name: aws.s3.BucketV2(
    "named-after", bucket=name + "-copy", tags=PERSONAL,
    opts=pulumi.ResourceOptions(provider=aws.Provider("sg", region="ap-southeast-1"))))
# the region itself comes from the unknown: unknown, so CII003
seed.bucket.apply(lambda name: aws.s3.BucketV2(
    "region-from-output", tags=PERSONAL,
    opts=pulumi.ResourceOptions(provider=aws.Provider("derived", region=name))))
# a chain: the second callback gets the first one's (unknown) result
seed.arn.apply(lambda arn: arn.upper()).apply(
    lambda up: aws.s3.BucketV2("chained", tags=PERSONAL,
        opts=pulumi.ResourceOptions(provider=aws.Provider("fra", region="eu-central-1"))))
# a list holding an unknown, a partial, and a callback that fails on the stand-in
pulumi.Output.all(seed.arn, "x").apply(lambda pair: pair[1] + pair[0])
pulumi.Output.all(seed.arn).apply(functools.partial(lambda tag, arns: len(arns), "t"))
seed.arn.apply(lambda arn: int(arn.split(":")[4]))
# names made of two unknowns: two resources, not one URN twice
seed.bucket.apply(lambda name: aws.s3.BucketV2(name + "-log"))
seed.id.apply(lambda name: aws.s3.BucketV2(name + "-log"))
# a callback on a known output runs once, with its value, as the SDK runs it
known.bucket.apply(lambda name: aws.s3.BucketV2(
    name + "-mirror", tags=PERSONAL,
    opts=pulumi.ResourceOptions(provider=aws.Provider("us", region="us-east-1"))))
pulumi.export("policy", seed.arn.apply(lambda arn: json.dumps({"Resource": arn})))
"""


def test_apply_callbacks_on_unknown_outputs_are_run_on_a_stand_in(tmp_path: Path) -> None:
    """A preview skips an apply whose output is not known before deployment, so resources made
    inside one were never seen: personal buckets in Hong Kong and Singapore passed with exit 0.
    Each callback of the program's own code now runs on a stand-in; what it creates is checked,
    what it reads from the stand-in is unknown, and one that fails on it is named in a warning."""
    code, report = scan(_project(tmp_path, APPLY_PROGRAM), "--run-programs", "--no-cache")
    assert report["errors"] == [], report["errors"]
    names = sorted(r["address"].rsplit("::", 1)[1] for r in report["resources"]
                   if r["type"] == "aws_s3_bucket")  # fmt: skip
    logs = [n for n in names if n.endswith("-log")]
    assert len(set(logs)) == 2 and all(n.startswith("ciiguard:unknown-output-") for n in logs)
    assert [n for n in names if n not in logs] == [
        "chained", "in-apply", "known", "named-after", "orders-known-mirror",
        "region-from-output", "seed"]  # fmt: skip
    assert verdicts(report) == [
        ("CII001", "chained"),
        ("CII001", "in-apply"),
        ("CII001", "named-after"),
        ("CII001", "orders-known-mirror"),
        ("CII003", "region-from-output"),
    ]
    unknown = next(v for v in report["violations"] if v["policy"] == "CII003")
    assert "stand-in" in unknown["message"] + unknown["evidence"], unknown
    # the stand-in is never taken as a value (a name made of it says so)
    assert "unknown-output" not in json.dumps([r["region"] for r in report["resources"]])
    assert "unknown-output" not in json.dumps(report["violations"])
    warned = [w for w in report["warnings"] if "stand-in value" in w["message"]]
    assert [(Path(w["file"]).name, w["line"]) for w in warned] == [("__main__.py", 33)], warned
    assert "ValueError" in warned[0]["message"] or "IndexError" in warned[0]["message"]
    assert code == 1


def test_callbacks_of_packages_installed_in_the_project_are_left_to_the_sdk(tmp_path: Path) -> None:
    """A Pulumi project keeps its virtualenv beside its code (``virtualenv: venv``): the SDK's
    own callbacks (``Output.get``, ``concat``) are then under the project's directory, and are
    not run on a stand-in; a package's callback that makes a resource stays unchecked, as in a
    preview, while the program's own is checked."""
    package = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "vendored"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "import pulumi, pulumi_aws as aws\n"
        "def make(out):\n"
        "    return out.apply(lambda v: aws.s3.BucketV2('from-package', tags={'data-classification': 'personal'},\n"
        "        opts=pulumi.ResourceOptions(provider=aws.Provider('p', region='ap-east-1'))))\n"
    )
    program = (
        "import sys, pathlib\n"
        "sys.path.insert(0, str(pathlib.Path(__file__).parent / 'venv/lib/python3.11/site-packages'))\n"
        "import pulumi, pulumi_aws as aws, vendored\n"
        "seed = aws.s3.BucketV2('seed')\n"
        "vendored.make(seed.arn)\n"
        "pulumi.Output.concat(seed.arn, '-x').apply(lambda v: aws.s3.BucketV2('own', tags={'data-classification': 'personal'},\n"
        "    opts=pulumi.ResourceOptions(provider=aws.Provider('q', region='ap-east-1'))))\n"
        "pulumi.export('name', seed.tags['a'])\n"
    )
    code, report = scan(_project(tmp_path, program), "--run-programs", "--no-cache")
    assert report["errors"] == [] and report["warnings"] == [], report
    assert verdicts(report) == [("CII001", "own")]
    assert code == 1
