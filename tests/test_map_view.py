"""The map at a level of detail: regions counted, root modules, resources, flows folded into arrows."""

from __future__ import annotations

import dataclasses
import inspect
import os
from pathlib import Path

import pytest

from ciiguard.model import Enforcement, Location, Severity, Violation, ViolationStatus
from ciiguard.residency_map import build_map
from ciiguard.residency_map import model as map_model
from ciiguard.residency_map.model import EdgeStatus, NodeKind, flow_kind
from ciiguard.residency_map.view import (
    NOT_IN_SCOPE,
    PASS,
    Detail,
    arrow_details,
    build_view,
    node_verdicts,
    unit_details,
)
from tests.test_map_model import CN, HK, SG, cross_border_example, flow, res, result, violation

NW = "cn-northwest-1"


def estate(services: int = 3):
    """``services`` root modules like benchmarks/generate.py's: buckets replicated to Ningxia, and
    in the first one to Hong Kong (a blocking CII002), each with an out-of-scope log group."""
    resources = []
    violations = []
    for i in range(services):
        root = f"services/svc{i:02d}"
        file = f"{root}/main.tf"
        dr = HK if i == 0 else NW
        repl = "aws_s3_bucket_replication_configuration.primary"
        resources += [
            res("aws_s3_bucket.primary", CN, file=file, line=10, root=root),
            res("aws_s3_bucket.replica", dr, file=file, line=20, root=root),
            res(
                "aws_cloudwatch_log_group.logs",
                CN,
                classification=None,
                file=file,
                line=30,
                root=root,
            ),
            res(
                repl,
                CN,
                data=False,
                classification=None,
                file=file,
                line=40,
                root=root,
                flows=(
                    flow(
                        repl,
                        "aws_s3_bucket.primary",
                        dr,
                        to="aws_s3_bucket.replica",
                        file=file,
                        line=45,
                        source_region=CN,
                        source_location=Location.MAINLAND,
                    ),
                ),
            ),
            res(
                "aws_dynamodb_table.sessions",
                CN,
                file=file,
                line=50,
                root=root,
                flows=(
                    flow(
                        "aws_dynamodb_table.sessions",
                        "aws_dynamodb_table.sessions",
                        NW,
                        kind="replica",
                        file=file,
                        line=55,
                    ),
                ),
            ),
        ]
        if i == 0:
            violations += [
                violation("CII002", repl, 45, HK, file=file),
                violation("CII001", "aws_s3_bucket.replica", 20, HK, file=file),
            ]
    return result(resources, violations)


def test_the_summary_has_one_unit_per_cloud_and_region_with_counts() -> None:
    v = build_view(build_map(estate()))
    assert v.detail is Detail.SUMMARY
    assert [u.key for u in v.units] == [
        f"mainland/aws/{CN}",
        f"mainland/aws/{NW}",
        f"outside/aws/{HK}",
    ]
    cn, nw, hk = v.units
    assert (cn.tally.resources, cn.tally.replicas, cn.tally.roots) == (9, 0, 3)
    assert cn.tally.classifications == (("personal", 6), (NOT_IN_SCOPE, 3))
    assert cn.tally.verdicts == (("blocking", 1), (PASS, 8))  # the bucket that is copied abroad
    assert (nw.tally.resources, nw.tally.replicas) == (2, 3)  # two buckets, three table replicas
    assert hk.tally.verdicts == (("blocking", 1),)
    assert cn.tally.describe() == "9 resources · 3 root modules"
    assert nw.tally.describe() == "2 resources, 3 replicas · 3 root modules"


def test_flows_between_two_regions_fold_into_one_weighted_arrow() -> None:
    m = build_map(estate())
    v = build_view(m)
    arrows = {(v.unit(a.source).region, v.unit(a.target).region): a for a in v.arrows}
    assert set(arrows) == {(CN, NW), (CN, HK)}
    home = arrows[(CN, NW)]
    assert home.count == 5 and home.kinds == ("replica", "replication")  # 2 buckets + 3 tables
    assert home.status is EdgeStatus.MAINLAND and home.verdict == PASS and home.classified
    abroad = arrows[(CN, HK)]
    assert abroad.count == 1 and abroad.cross_border
    assert (abroad.verdict, abroad.policies) == ("blocking", ("CII002",))
    assert (
        abroad.label() == "1 flow: replication" and home.label() == "5 flows: replica, replication"
    )
    assert sum(a.count for a in v.arrows) == len(m.edges)  # nothing lost in the folding


def test_opening_regions_shows_root_modules_then_resources() -> None:
    m = build_map(estate())
    roots = build_view(m, Detail.ROOTS)
    assert [(u.region, u.root) for u in roots.units if u.region == CN] == [
        (CN, "services/svc00"),
        (CN, "services/svc01"),
        (CN, "services/svc02"),
    ]
    assert all(u.tally.resources == 3 for u in roots.units if u.region == CN)
    assert roots.units[0].key == f"mainland/aws/{CN}|services/svc00"
    # flows fold per pair of root modules now: each root sends its own
    assert sum(a.count for a in roots.arrows) == len(m.edges)
    assert {a.count for a in roots.arrows} == {1, 2}
    resources = build_view(m, Detail.RESOURCES)
    assert sorted(u.id for u in resources.units) == sorted(n.id for n in m.nodes)
    assert len(resources.arrows) == len(m.edges)


def test_flows_inside_one_unit_are_counted_not_drawn() -> None:
    r = res(
        "aws_s3_bucket.a",
        CN,
        flows=(flow("aws_s3_bucket.a", "aws_s3_bucket.a", CN, to="aws_s3_bucket.b"),),
    )
    m = build_map(result([r, res("aws_s3_bucket.b", CN, line=2)]))
    summary = build_view(m)
    assert summary.arrows == () and summary.inner_flows == {summary.units[0].id: 1}
    assert "1 flows stay inside" in unit_details(summary, summary.units[0])
    detailed = build_view(m, Detail.RESOURCES)
    assert len(detailed.arrows) == 1 and detailed.inner_flows == {}


def test_a_replica_abroad_is_as_bad_as_the_transfer_that_put_it_there() -> None:
    m = build_map(cross_border_example())
    verdicts = node_verdicts(m)
    replica_sg = next(n for n in m.nodes if n.kind is NodeKind.REPLICA and n.region == SG)
    replica_nw = next(n for n in m.nodes if n.kind is NodeKind.REPLICA and n.region == NW)
    assert verdicts[replica_sg.id] == "blocking"  # the CII002 of the flow that reaches it
    assert verdicts[replica_nw.id] == PASS


def test_the_worst_verdict_wins_and_approvals_are_not_blocking() -> None:
    approved = dataclasses.replace(
        violation("CII002", "aws_s3_bucket_replication_configuration.primary", 45, HK),
        blocking=False,
        status=ViolationStatus.APPROVED_TRANSFER,
        file="services/svc00/main.tf",
    )
    advisory = Violation(
        policy="ACME001",
        resource="aws_s3_bucket.primary",
        message="advice",
        severity=Severity.LOW,
        enforcement=Enforcement.ADVISORY,
        blocking=False,
        file="services/svc00/main.tf",
        line=10,
        region=CN,
    )
    base = estate(1)
    m = build_map(dataclasses.replace(base, violations=[approved, advisory]))
    v = build_view(m)
    cn = v.units[0]
    assert dict(cn.tally.verdicts)["advisory"] == 1  # ranked above an approved transfer
    (abroad,) = [a for a in v.arrows if a.cross_border]
    assert abroad.verdict == "approved-transfer"


def test_every_arrow_kind_comes_from_the_one_flow_kind_function(monkeypatch) -> None:
    defined_at = _line_of(flow_kind, "return flow.kind")
    monkeypatch.setattr(map_model, "flow_kind", lambda flow: "stream")
    m = build_map(estate())
    assert {e.kind for e in m.edges} == {"stream"}
    assert {k for a in build_view(m).arrows for k in a.kinds} == {"stream"}
    # and nothing else in the package reads a flow's kind
    package = Path(map_model.__file__).parent
    readers = [
        f"{p.name}:{i}"
        for p in sorted(package.glob("*.py"))
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if ".flow.kind" in line or "flow.kind" in line.replace("flow_kind", "")
    ]
    assert readers == [f"model.py:{defined_at}"]


def _line_of(fn, text: str) -> int:
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


def test_arrow_details_list_the_first_flows_and_count_the_rest() -> None:
    v = build_view(build_map(estate(12)))
    home = next(a for a in v.arrows if a.count > 5)
    lines = arrow_details(v, home)
    assert lines[0].startswith(f"{home.count} flows (within-mainland): AWS {CN} -> AWS {NW}")
    assert lines[-1] == f"  and {home.count - 5} more"


def test_labels_place_a_resource_by_root_module_and_file() -> None:
    m = build_map(estate())
    node = next(n for n in m.nodes if n.address == "aws_s3_bucket.primary")
    assert (node.root, node.where_in_root, node.placement) == (
        "services/svc00",
        "main.tf:10",
        "services/svc00 · main.tf:10",
    )
    # a module's file outside the root keeps its path; a root that is a file counts from its folder
    moved = dataclasses.replace(node, file="modules/store/main.tf")
    assert moved.where_in_root == "modules/store/main.tf:10"
    pulumi = dataclasses.replace(node, root="infra/Pulumi.yaml", file="infra/Pulumi.yaml", line=13)
    assert pulumi.where_in_root == "Pulumi.yaml:13"
    plan = dataclasses.replace(node, root="plans/prod.json", file="plans/src/main.tf", line=4)
    assert plan.where_in_root == "src/main.tf:4"


def test_pulumi_resources_are_named_by_logical_name_and_type_token() -> None:
    from ciiguard.plugins.manager import build
    from ciiguard.scan import gather, scan
    from ciiguard.settings import Settings

    here = Path.cwd()
    os.chdir(Path(__file__).parent / "fixtures" / "map")
    try:
        host = build([], [])
        scanned = scan(
            [Path("pulumi-cross-border")],
            Settings(environment={}, use_cache=False),
            host,
            gather(host),
        )
    finally:
        os.chdir(here)
    m = build_map(scanned)
    orders = next(n for n in m.nodes if n.name == "orders")
    assert orders.type_label == "aws:s3/bucketV2:BucketV2" and orders.type == "aws_s3_bucket"
    assert orders.root == "pulumi-cross-border/Pulumi.yaml"
    assert orders.where_in_root == f"Pulumi.yaml:{orders.line}"


@pytest.mark.parametrize("detail", list(Detail))
def test_every_level_draws_every_node_once(detail: Detail) -> None:
    m = build_map(estate(4))
    v = build_view(m, detail)
    seen = [n for u in v.units for n in u.nodes]
    assert sorted(seen) == sorted(n.id for n in m.nodes)
    assert len({u.id for u in v.units}) == len(v.units)


def test_data_in_scope_without_a_classification_is_counted_as_in_scope() -> None:
    """``--cii-workload`` puts untagged data in scope with no classification value."""
    workload = dataclasses.replace(res("aws_s3_bucket.untagged", CN), classification=None)
    assert workload.in_scope
    m = build_map(result([workload, res("aws_s3_bucket.logs", CN, classification=None, line=2)]))
    (unit,) = build_view(m).units
    assert unit.tally.classifications == (("in scope", 1), (NOT_IN_SCOPE, 1))
    node = next(n for n in m.nodes if n.address == "aws_s3_bucket.untagged")
    assert node.scope_label == "in scope"
