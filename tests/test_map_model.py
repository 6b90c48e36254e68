"""The residency map's graph: built from a ScanResult alone, whatever input the resources came from."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from ciiguard.model import (
    Enforcement,
    Flow,
    Location,
    RegionInfo,
    Resource,
    ScanIssue,
    ScanResult,
    Severity,
    Violation,
)
from ciiguard.residency_map import RENDERERS, Detail, build_map, render
from ciiguard.residency_map.model import EdgeStatus, NodeKind, ResidencyMap
from ciiguard.residency_map.names import cloud_of, region_name
from tests.conftest import EXAMPLES

CN, HK, SG, US = "cn-north-1", "ap-east-1", "ap-southeast-1", "us-east-1"
LOC = {
    CN: Location.MAINLAND,
    "cn-northwest-1": Location.MAINLAND,
    HK: Location.OUTSIDE,
    SG: Location.OUTSIDE,
    US: Location.OUTSIDE,
}


def res(
    address: str,
    region: str | None,
    *,
    classification: str | None = "personal",
    data: bool = True,
    flows: tuple[Flow, ...] = (),
    file: str = "main.tf",
    line: int = 1,
    root: str = "",
    input: str = "terraform",
    provider: str = "aws",
) -> Resource:
    rtype, _, name = address.rpartition(".")
    return Resource(
        address=address,
        type=rtype,
        name=name,
        provider=provider,
        provider_config=provider,
        region=RegionInfo(region, unknown_reason=None if region else "region not set"),
        location=LOC.get(region or "", Location.UNKNOWN),
        tags={},
        attributes={},
        file=file,
        line=line,
        input=input,
        data_bearing=data,
        classification=classification,
        in_scope=classification is not None,
        flows=flows,
        root=root,
    )


def flow(
    declared_by: str,
    source: str | None,
    destination: str | None,
    *,
    to: str | None = None,
    kind: str = "replication",
    line: int = 9,
    file: str = "main.tf",
    source_region: str | None = None,
    source_location: Location = Location.UNKNOWN,
) -> Flow:
    return Flow(
        kind=kind,
        declared_by=declared_by,
        argument="rule[0].destination[0].bucket",
        source=source,
        destination=destination,
        destination_resource=to,
        destination_location=LOC.get(destination or "", Location.UNKNOWN),
        destination_explain=f"{destination} per the catalogue",
        provider="aws",
        file=file,
        line=line,
        source_region=source_region,
        source_location=source_location,
    )


def violation(policy: str, resource: str, line: int, region: str | None, file: str = "main.tf"):
    return Violation(
        policy=policy,
        resource=resource,
        message=f"{policy} on {resource}",
        severity=Severity.CRITICAL,
        enforcement=Enforcement.MANDATORY,
        blocking=True,
        file=file,
        line=line,
        region=region,
    )


def result(resources, violations=(), errors=()) -> ScanResult:
    return ScanResult(list(resources), list(violations), list(errors), [], ["main.tf"])


def by_address(m: ResidencyMap, address: str, kind: NodeKind = NodeKind.RESOURCE):
    found = [n for n in m.nodes if n.kind is kind and n.address == address]
    assert len(found) == 1, [n.address for n in m.nodes]
    return found[0]


def cross_border_example(input_name: str = "terraform") -> ScanResult:
    """The shape of examples/terraform/cross-border-replication, from any input format."""
    repl = "aws_s3_bucket_replication_configuration.orders"
    return result(
        [
            res("aws_s3_bucket.orders", CN, classification="important", line=12, input=input_name),
            res("aws_s3_bucket.orders_replica", HK, classification="important", line=17),
            res(
                repl,
                CN,
                classification=None,
                data=False,
                line=22,
                flows=(
                    flow(
                        repl,
                        "aws_s3_bucket.orders",
                        HK,
                        to="aws_s3_bucket.orders_replica",
                        line=28,
                        source_region=CN,
                        source_location=Location.MAINLAND,
                    ),
                ),
            ),
            res(
                "aws_dynamodb_table.sessions",
                CN,
                line=39,
                flows=(
                    flow(
                        "aws_dynamodb_table.sessions",
                        "aws_dynamodb_table.sessions",
                        "cn-northwest-1",
                        kind="replica",
                        line=49,
                    ),
                    flow(
                        "aws_dynamodb_table.sessions",
                        "aws_dynamodb_table.sessions",
                        SG,
                        kind="replica",
                        line=49,
                    ),
                ),
            ),
            res("aws_cloudwatch_log_group.docs", CN, classification=None, line=60),
        ],
        [
            violation("CII001", "aws_s3_bucket.orders_replica", 17, HK),
            violation("CII002", repl, 28, HK),
            violation("CII002", "aws_dynamodb_table.sessions", 49, SG),
            violation("CII003", "module.remote", 70, None),
        ],
    )


def test_nodes_are_data_bearing_resources_and_the_places_flows_reach() -> None:
    m = build_map(cross_border_example())
    resources = sorted(n.address for n in m.nodes if n.kind is NodeKind.RESOURCE)
    assert resources == [
        "aws_cloudwatch_log_group.docs",
        "aws_dynamodb_table.sessions",
        "aws_s3_bucket.orders",
        "aws_s3_bucket.orders_replica",
    ]  # the replication configuration holds no data: it is an arrow, not a box
    replicas = [n for n in m.nodes if n.kind is NodeKind.REPLICA]
    assert sorted((n.region, n.location) for n in replicas) == [
        ("ap-southeast-1", Location.OUTSIDE),
        ("cn-northwest-1", Location.MAINLAND),
    ]
    # a replica holds what its source holds
    assert all(n.in_scope and n.classification == "personal" for n in replicas)
    assert by_address(m, "aws_cloudwatch_log_group.docs").in_scope is False


def test_sides_group_clouds_and_regions() -> None:
    m = build_map(cross_border_example())
    assert [s.location for s in m.sides] == [Location.MAINLAND, Location.OUTSIDE]
    mainland, outside = m.sides
    assert [r.region for c in mainland.clouds for r in c.regions] == [CN, "cn-northwest-1"]
    assert [r.region for c in outside.clouds for r in c.regions] == [HK, SG]
    assert [c.name for c in outside.clouds] == ["AWS"]
    hk = outside.clouds[0].regions[0]
    assert hk.name is not None and "Hong Kong" in hk.name
    assert [m.node(n).address for n in hk.nodes] == ["aws_s3_bucket.orders_replica"]


def test_flows_become_edges_and_cross_border_ones_are_marked() -> None:
    m = build_map(cross_border_example())
    edges = {(m.node(e.source).address, m.node(e.target).region): e for e in m.edges}
    s3 = edges[("aws_s3_bucket.orders", HK)]
    assert m.node(s3.target).address == "aws_s3_bucket.orders_replica"
    assert s3.status is EdgeStatus.CROSS_BORDER and s3.cross_border
    assert s3.declared_by == "aws_s3_bucket_replication_configuration.orders"
    assert edges[("aws_dynamodb_table.sessions", SG)].status is EdgeStatus.CROSS_BORDER
    assert edges[("aws_dynamodb_table.sessions", "cn-northwest-1")].status is EdgeStatus.MAINLAND
    assert len(m.edges) == 3


def test_violations_link_to_their_node_their_flow_and_the_data_that_flows() -> None:
    m = build_map(cross_border_example())
    placed = {(v.violation.policy, v.violation.resource): v for v in m.violations}
    replica = by_address(m, "aws_s3_bucket.orders_replica")
    orders = by_address(m, "aws_s3_bucket.orders")
    s3_edge = next(e for e in m.edges if e.source == orders.id)
    cii001 = placed[("CII001", "aws_s3_bucket.orders_replica")]
    assert cii001.nodes == (replica.id,) and cii001.edges == ()
    # the replication configuration is not drawn: its finding goes on its arrow and the source
    cii002 = placed[("CII002", "aws_s3_bucket_replication_configuration.orders")]
    assert cii002.edges == (s3_edge.id,) and cii002.nodes == (orders.id,)
    assert s3_edge.violations == (cii002.id,)
    # a finding on one replica of a table goes on that arrow only, not on the domestic one
    sessions = by_address(m, "aws_dynamodb_table.sessions")
    dyn = placed[("CII002", "aws_dynamodb_table.sessions")]
    (edge_id,) = dyn.edges
    assert m.node(next(e for e in m.edges if e.id == edge_id).target).region == SG
    assert dyn.nodes == (sessions.id,)
    # a finding about something that is not on the map is kept, listed apart
    assert [v.violation.resource for v in m.unplaced] == ["module.remote"]
    # filtering by policy finds the nodes at both ends of a flagged flow
    assert m.policies_of(replica.id) == ("CII001", "CII002")
    assert m.policies_of(by_address(m, "aws_cloudwatch_log_group.docs").id) == ()


def test_the_map_does_not_care_which_input_a_resource_came_from() -> None:
    tf = build_map(cross_border_example("terraform"))
    for other in ("terraform-plan", "pulumi-yaml", "some-plugin-format"):
        m = build_map(cross_border_example(other))
        assert [(n.address, n.region, n.location) for n in m.nodes] == [
            (n.address, n.region, n.location) for n in tf.nodes
        ]
        assert [(e.source, e.target, e.status) for e in m.edges] == [
            (e.source, e.target, e.status) for e in tf.edges
        ]


def test_edge_status_follows_the_border_as_the_gate_judges_it() -> None:
    resources = [
        res(
            "aws_s3_bucket.us",
            US,
            line=1,
            flows=(flow("aws_s3_bucket.us", "aws_s3_bucket.us", SG),),
        ),
        res(
            "aws_s3_bucket.hk",
            HK,
            line=2,
            flows=(flow("aws_s3_bucket.hk", "aws_s3_bucket.hk", CN, line=3),),
        ),
        res(
            "aws_s3_bucket.cn",
            CN,
            line=4,
            flows=(flow("aws_s3_bucket.cn", "aws_s3_bucket.cn", None, line=5),),
        ),
        # a flow whose origin is outside the configuration and cannot be placed
        res(
            "aws_db_instance.replica",
            SG,
            line=6,
            flows=(flow("aws_db_instance.replica", None, SG, to="aws_db_instance.replica"),),
        ),
    ]
    m = build_map(result(resources))
    status = {(m.node(e.source).address, m.node(e.target).region): e.status for e in m.edges}
    assert status[("aws_s3_bucket.us", SG)] is EdgeStatus.OUTSIDE  # already abroad: not an export
    assert status[("aws_s3_bucket.hk", CN)] is EdgeStatus.INBOUND
    assert status[("aws_s3_bucket.cn", None)] is EdgeStatus.UNKNOWN
    origin = next(n for n in m.nodes if n.kind is NodeKind.EXTERNAL)
    assert origin.location is Location.UNKNOWN
    # fail-closed, like CII002: data from a place ciiguard cannot tell that lands abroad
    assert status[(origin.address, SG)] is EdgeStatus.CROSS_BORDER
    unknown_side = m.sides[-1]
    assert unknown_side.location is Location.UNKNOWN
    assert origin.id in unknown_side.nodes
    assert any(m.node(n).kind is NodeKind.REPLICA for n in unknown_side.nodes)


def test_an_origin_named_by_region_is_drawn_there() -> None:
    job = "alicloud_dts_synchronization_job.sync"
    f = dataclasses.replace(
        flow(
            job, job, "cn-hongkong", source_region="cn-shanghai", source_location=Location.MAINLAND
        ),
        destination_location=Location.OUTSIDE,
        provider="alicloud",
    )
    m = build_map(
        result(
            [
                res(
                    job,
                    "cn-beijing",
                    data=False,
                    classification=None,
                    flows=(f,),
                    provider="alicloud",
                )
            ]
        )
    )
    (edge,) = m.edges
    src, dst = m.node(edge.source), m.node(edge.target)
    assert (src.kind, src.region, src.location) == (
        NodeKind.EXTERNAL,
        "cn-shanghai",
        Location.MAINLAND,
    )
    assert (dst.region, dst.region_name, dst.cloud_name) == (
        "cn-hongkong",
        "China (Hong Kong)",
        "Alibaba Cloud",
    )
    assert edge.status is EdgeStatus.CROSS_BORDER


def test_same_address_in_two_roots_stays_in_its_own_root() -> None:
    def root(name: str, replica_region: str) -> list[Resource]:
        repl = "aws_s3_bucket_replication_configuration.r"
        f = flow(
            repl, "aws_s3_bucket.a", replica_region, to="aws_s3_bucket.b", file=f"{name}/main.tf"
        )
        return [
            res("aws_s3_bucket.a", CN, root=name, file=f"{name}/main.tf", line=1),
            res("aws_s3_bucket.b", replica_region, root=name, file=f"{name}/main.tf", line=2),
            res(
                repl,
                CN,
                data=False,
                classification=None,
                root=name,
                file=f"{name}/main.tf",
                flows=(f,),
            ),
        ]

    m = build_map(result(root("one", HK) + root("two", "cn-northwest-1")))
    assert len([n for n in m.nodes if n.kind is NodeKind.RESOURCE]) == 4
    pairs = sorted((m.node(e.source).file, m.node(e.target).file, e.status.value) for e in m.edges)
    assert pairs == [
        ("one/main.tf", "one/main.tf", "cross-border"),
        ("two/main.tf", "two/main.tf", "within-mainland"),
    ]


def test_output_is_deterministic_whatever_the_order_of_resources() -> None:
    base = cross_border_example()
    levels = [(fmt, d) for fmt in RENDERERS for d in Detail]
    expected = {(fmt, d): render(build_map(base, "t"), fmt, d) for fmt, d in levels}
    rng = random.Random(7)
    for _ in range(5):
        shuffled = list(base.resources)
        rng.shuffle(shuffled)
        again = dataclasses.replace(base, resources=shuffled)
        for fmt, d in levels:
            assert render(build_map(again, "t"), fmt, d) == expected[(fmt, d)]


def test_an_incomplete_scan_says_so() -> None:
    broken = dataclasses.replace(
        cross_border_example(), errors=[ScanIssue("broken.tf", 3, "HCL syntax error")]
    )
    m = build_map(broken)
    assert not m.complete and "INCOMPLETE: 1 scan error" in m.summary()
    assert build_map(cross_border_example()).complete


def test_an_empty_scan_still_draws_both_sides() -> None:
    m = build_map(result([]))
    assert [s.location for s in m.sides] == [Location.MAINLAND, Location.OUTSIDE]
    for fmt in RENDERERS:
        for detail in Detail:
            assert "no data-bearing resources" in render(m, fmt, detail)


@pytest.mark.parametrize(
    ("cloud", "region", "name"),
    [
        ("aws", "ap-east-1", "Hong Kong"),
        ("aws", "ap-east-2", "Taipei"),
        ("aws", "cn-northwest-1", "Ningxia"),
        ("alicloud", "cn-hongkong", "Hong Kong"),
        ("huaweicloud", "ap-southeast-1", "Hong Kong"),
        ("azure", "East Asia", "Hong Kong"),
        ("google", "asia-east1", "Taiwan"),
    ],
)
def test_region_names_show_hong_kong_macao_and_taiwan_for_what_they_are(
    cloud, region, name
) -> None:
    assert name in (region_name(cloud, region) or "")


def test_cloud_names_merge_provider_packages_of_one_cloud() -> None:
    assert cloud_of("azurerm") == cloud_of("azure-native")
    assert cloud_of("gcp").name == "Google Cloud"
    assert cloud_of("somecloud").name == "somecloud"  # unknown providers keep their own name


def test_the_example_configuration_end_to_end_in_process() -> None:
    from ciiguard.plugins.manager import build
    from ciiguard.scan import gather, scan
    from ciiguard.settings import Settings

    host = build([], [])
    path = EXAMPLES / "terraform" / "cross-border-replication"
    scanned = scan([Path(path)], Settings(environment={}, use_cache=False), host, gather(host))
    m = build_map(scanned)
    crossing = [
        (m.node(e.source).address, m.node(e.target).region) for e in m.edges if e.cross_border
    ]
    assert sorted(crossing) == [("aws_dynamodb_table.sessions", SG), ("aws_s3_bucket.orders", HK)]
    assert {v.violation.policy for v in m.violations} == {"CII001", "CII002"}
    assert all(v.placed for v in m.violations)
