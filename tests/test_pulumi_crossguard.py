"""The CrossGuard pack: ciiguard's registered policies, exercised through pulumi_policy's own objects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, FIXTURES, ROOT

pulumi_policy = pytest.importorskip("pulumi_policy")

from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy  # noqa: E402

import ciiguard.pulumi as crossguard  # noqa: E402

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
STACK = "urn:pulumi:prod::orders"


def provider(name: str, props: dict[str, Any]) -> PolicyProviderResource:
    return PolicyProviderResource(
        "pulumi:providers:aws", props, f"{STACK}::pulumi:providers:aws::{name}", name
    )


BEIJING = provider(
    "default_7_11_0",
    {"region": "cn-north-1", "defaultTags": '{"tags":{"data-classification":"personal"}}'},
)
HONGKONG = provider("hongkong", {"region": "ap-east-1"})


def resource(
    token: str,
    name: str,
    props: dict[str, Any],
    prov: PolicyProviderResource | None = BEIJING,
    deps: dict[str, list[PolicyResource]] | None = None,
) -> PolicyResource:
    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    return PolicyResource(
        token,
        unknown_checking_proxy(props),  # what the engine hands a policy during preview
        f"{STACK}::{token}::{name}",
        name,
        opts,
        prov,
        None,
        [],
        deps or {},
    )


def run(
    policy: StackValidationPolicy,
    resources: list[PolicyResource],
    config: dict[str, Any] | None = None,
) -> list[tuple[str | None, str]]:
    got: list[tuple[str | None, str]] = []
    policy.validate(
        StackValidationArgs(resources, config or {}),
        lambda message, urn=None: got.append((urn, message)),
    )
    return got


@pytest.fixture(scope="module")
def policies() -> dict[str, StackValidationPolicy]:
    return {p.name: p for p in crossguard.policies(autoload=False)}


def test_every_builtin_policy_is_a_mandatory_stack_policy(
    policies: dict[str, StackValidationPolicy],
) -> None:
    assert set(policies) == {"CII001", "CII002", "CII003"}
    for p in policies.values():
        assert isinstance(p, StackValidationPolicy)
        assert p.enforcement_level is EnforcementLevel.MANDATORY
        assert "ciiWorkload" in p.config_schema.properties


def test_third_party_plugin_policies_join_with_their_enforcement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES / "pulumi" / "plugin"))
    found = {p.name: p for p in crossguard.policies(["acme_owner_tag"], autoload=False)}
    assert found["ACME001"].enforcement_level is EnforcementLevel.ADVISORY
    bucket = resource("aws:s3/bucketV2:BucketV2", "orders", {})
    (hit,) = run(found["ACME001"], [bucket])
    assert hit[0] == bucket.urn and "names no owner tag" in hit[1]


def test_a_plugin_that_fails_to_load_fails_the_pack() -> None:
    with pytest.raises(RuntimeError, match="no_such_ciiguard_plugin"):
        crossguard.policies(["no_such_ciiguard_plugin"], autoload=False)


def test_cii001_hong_kong_provider(policies: dict[str, StackValidationPolicy]) -> None:
    inside = resource("aws:s3/bucketV2:BucketV2", "orders", {})
    outside = resource(
        "aws:dynamodb/table:Table",
        "customers",
        {"tags": {"data-classification": "personal"}},
        HONGKONG,
    )
    hits = run(policies["CII001"], [inside, outside])
    assert [u for u, _ in hits] == [outside.urn]
    assert "ap-east-1" in hits[0][1] and "fix:" in hits[0][1]


def test_cii002_replica_region_and_unknown_destination_resolved_by_dependencies(
    policies: dict[str, StackValidationPolicy],
) -> None:
    source = resource("aws:s3/bucketV2:BucketV2", "orders", {"bucket": "orders-bj"})
    replica = resource("aws:s3/bucketV2:BucketV2", "ordersReplica", {}, HONGKONG)
    replication = resource(
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "replication",
        {
            "bucket": UNKNOWN,
            "role": "arn:aws-cn:iam::123456789012:role/r",
            "rules": [{"id": "all", "status": "Enabled", "destination": {"bucket": UNKNOWN}}],
        },
        deps={"bucket": [source], "rules": [replica]},
    )
    table = resource(
        "aws:dynamodb/table:Table", "sessions", {"replicas": [{"regionName": "ap-southeast-1"}]}
    )
    hits = run(policies["CII002"], [source, replica, replication, table])
    assert sorted(u for u, _ in hits) == sorted([replication.urn, table.urn])


def test_unknown_values_fail_closed_as_cii003(policies: dict[str, StackValidationPolicy]) -> None:
    # CrossGuard would skip a policy that touches an unknown value; ciiguard reports CII003.
    remote = provider("remote", {"region": UNKNOWN})
    records = resource(
        "aws:dynamodb/table:Table", "records", {"tags": {"data-classification": "core"}}, remote
    )
    own = resource("aws:s3/bucket:Bucket", "exports", {"region": UNKNOWN})
    hits = run(policies["CII003"], [records, own])
    assert sorted(u for u, _ in hits) == sorted([records.urn, own.urn])
    assert run(policies["CII001"], [records, own]) == []


def test_cii_workload_config_puts_untagged_data_in_scope(
    policies: dict[str, StackValidationPolicy],
) -> None:
    untagged = resource("aws:s3/bucketV2:BucketV2", "scratch", {}, HONGKONG)
    assert run(policies["CII001"], [untagged]) == []
    assert [u for u, _ in run(policies["CII001"], [untagged], {"ciiWorkload": True})] == [
        untagged.urn
    ]


def test_recorded_approval_satisfies_cii002(policies: dict[str, StackValidationPolicy]) -> None:
    table = resource(
        "aws:dynamodb/table:Table",
        "sessions",
        {
            "replicas": [{"regionName": "ap-southeast-1"}],
            "tags": {
                "cross-border-approval": "CAC-2024-0142",
                "cross-border-approval-expires": "2099-12-31",
            },
        },
    )
    assert run(policies["CII002"], [table]) == []
    expired = resource(
        "aws:dynamodb/table:Table",
        "expired",
        {
            "replicas": [{"regionName": "ap-southeast-1"}],
            "tags": {
                "cross-border-approval": "CAC-2020-0001",
                "cross-border-approval-expires": "2021-01-01",
            },
        },
    )
    assert [u for u, _ in run(policies["CII002"], [expired])] == [expired.urn]


def test_example_pack_files() -> None:
    pack = EXAMPLES / "pulumi-policy-pack"
    assert "name: python" in (pack / "PulumiPolicy.yaml").read_text()
    assert "from ciiguard.pulumi import policy_pack" in (pack / "__main__.py").read_text()
    assert "[pulumi]" in (pack / "requirements.txt").read_text()


@pytest.mark.slow
def test_served_pack_answers_the_engine_over_grpc() -> None:
    """Start the example pack the way the Pulumi CLI does and analyze a stack over its gRPC API."""
    grpc = pytest.importorskip("grpc")
    from google.protobuf import empty_pb2, struct_pb2
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    pack_dir = EXAMPLES / "pulumi-policy-pack"
    before = sorted(p.relative_to(pack_dir) for p in pack_dir.rglob("*"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulumi.policy",
            "127.0.0.1:1",
            str(EXAMPLES / "pulumi-policy-pack"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        port = proc.stdout.readline().strip() if proc.stdout else ""
        assert port.isdigit(), proc.stderr.read() if proc.stderr else ""
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
            assert info.name == "ciiguard-residency"
            assert {p.name for p in info.policies} >= {"CII001", "CII002", "CII003"}

            def struct(d: dict[str, Any]) -> struct_pb2.Struct:
                s = struct_pb2.Struct()
                s.update(d)
                return s

            hk = analyzer_pb2.AnalyzerProviderResource(
                type="pulumi:providers:aws",
                properties=struct({"region": "ap-east-1"}),
                urn=f"{STACK}::pulumi:providers:aws::hongkong",
                name="hongkong",
            )
            bucket = analyzer_pb2.AnalyzerResource(
                type="aws:s3/bucketV2:BucketV2",
                properties=struct({"tags": {"data-classification": "personal"}}),
                urn=f"{STACK}::aws:s3/bucketV2:BucketV2::orders",
                name="orders",
                provider=hk,
            )
            response = stub.AnalyzeStack(
                analyzer_pb2.AnalyzeStackRequest(resources=[bucket]), timeout=60
            )
        diagnostics = [(d.policyName, d.urn) for d in response.diagnostics]
        assert diagnostics == [("CII001", bucket.urn)]
        assert response.diagnostics[0].enforcementLevel == analyzer_pb2.MANDATORY
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # running the pack leaves nothing behind in the user's checkout (caches live elsewhere)
    assert sorted(p.relative_to(pack_dir) for p in pack_dir.rglob("*")) == before


def test_crossguard_module_documents_the_pack() -> None:
    assert "policy_pack(" in (crossguard.__doc__ or "")
    assert Path(crossguard.__file__).name == "pulumi.py"
