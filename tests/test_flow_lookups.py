"""The tables flow resolution looks resources up in give what a pass over the resources gave.

Each lookup was a pass over every resource of some types (by name, by group name, by region, by
reference) or over every block of a resource (a flow's line); they are tables now. These tests keep
the passes as the reference and compare them over random and tricky inputs: the same resources, in
the same order, the first match winning, duplicates kept.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from ciiguard.catalogue import Catalogue, ReplicationRule
from ciiguard.model import Location, RegionInfo, Resource, Unknown
from ciiguard.resolve.flows import (
    NAME_ATTRIBUTES,
    FlowBuilder,
    ResourceIndex,
    _base,
    _line_for,
    refs_in,
    walk_path,
)

TYPES = ("aws_a", "aws_b", "aws_c")
NAMES = ("x", "y", "X", "x ", "", "a/b", "arn:aws-cn:s3:::x", "0", "1")


def res(
    address: str,
    rtype: str = "aws_a",
    attributes: dict[str, Any] | None = None,
    region: str | None = "cn-north-1",
    in_scope: bool = False,
    meta: dict[str, Any] | None = None,
    line: int | None = 1,
) -> Resource:
    return Resource(
        address=address,
        type=rtype,
        name=address.rsplit(".", 1)[-1],
        provider="aws",
        provider_config=None,
        region=RegionInfo(region),
        location=Location.MAINLAND,
        tags={},
        attributes=attributes if attributes is not None else {},
        file="main.tf",
        line=line,
        input="terraform",
        in_scope=in_scope,
        meta=meta or {},
    )


def a_value(rng: random.Random) -> Any:
    """A name, or a value that is no name (never equal to one)."""
    return rng.choice(
        [
            *NAMES,
            *NAMES,
            None,
            0,
            1,
            True,
            ["x"],
            {"x": "x"},
            Unknown("after apply", frozenset({"aws_a.r0"})),
        ]
    )


def random_resources(rng: random.Random, n: int) -> list[Resource]:
    out = []
    for _ in range(n):
        attrs = {
            a: a_value(rng) for a in [*rng.sample(NAME_ATTRIBUTES, rng.randint(0, 4)), "other"]
        }
        # duplicate addresses too: the index keeps every one of them by type
        address = f"{rng.choice(TYPES)}.r{rng.randint(0, n // 2)}"
        if rng.random() < 0.3:
            address += f'["{rng.randint(0, 2)}"]'
        out.append(
            res(
                address,
                rtype=rng.choice(TYPES),
                attributes=attrs,
                region=rng.choice(["cn-north-1", "cn-northwest-1", "", None]),
                in_scope=rng.random() < 0.4,
            )
        )
    return out


def type_tuples(rng: random.Random) -> list[tuple[str, ...]]:
    return [
        (),
        ("aws_a",),
        ("aws_b", "aws_a"),
        TYPES,
        ("aws_a", "aws_a"),  # a type named twice finds its resources twice
        ("aws_missing", "aws_c"),
        tuple(rng.sample(TYPES, 2)),
    ]


# -- by name ------------------------------------------------------------------------------------
def by_name_pass(index: ResourceIndex, name: str, types: tuple[str, ...]) -> list[Resource]:
    found = []
    for t in types:
        for r in index.by_type.get(t, []):
            if any(r.attributes.get(a) == name for a in NAME_ATTRIBUTES):
                found.append(r)
    return found


@pytest.mark.parametrize("seed", range(40))
def test_by_name_finds_what_a_pass_found(seed: int) -> None:
    rng = random.Random(seed)
    index = ResourceIndex.build(random_resources(rng, rng.randint(0, 30)))
    for types in type_tuples(rng):
        for name in (*NAMES, "absent"):
            assert index.by_name(name, types) == by_name_pass(index, name, types), (name, types)


def test_by_name_keeps_order_and_duplicates_and_finds_a_resource_once() -> None:
    one = res("aws_a.one", attributes={"bucket": "n", "name": "n", "identifier": "n"})
    two = res("aws_b.two", "aws_b", {"topic_name": "n"})
    three = res("aws_a.three", attributes={"name": "n"})
    twin = res("aws_a.three", attributes={"bucket": "n"})  # the same address again
    index = ResourceIndex.build([one, two, three, twin])
    assert index.by_name("n", ("aws_b", "aws_a")) == [two, one, three, twin]
    assert index.by_name("n", ("aws_a", "aws_a")) == [one, three, twin, one, three, twin]
    assert index.by_name("N", ("aws_a", "aws_b")) == []  # no case folding, no trimming
    assert index.by_name("n ", ("aws_a", "aws_b")) == []


def test_by_name_answers_a_fresh_list_each_time() -> None:
    index = ResourceIndex.build([res("aws_a.one", attributes={"bucket": "n"})])
    found = index.by_name("n", ("aws_a",))
    found.clear()
    assert [r.address for r in index.by_name("n", ("aws_a",))] == ["aws_a.one"]


def test_no_value_but_a_string_is_a_name() -> None:
    weird = res(
        "aws_a.w",
        attributes={"bucket": 1, "name": True, "identifier": Unknown("u"), "vault_name": ["n"]},
    )
    index = ResourceIndex.build([weird])
    for name in ("1", "True", "n", "['n']", "u"):
        assert index.by_name(name, ("aws_a",)) == []


# -- group names --------------------------------------------------------------------------------
def builder(resources: list[Resource]) -> FlowBuilder:
    return FlowBuilder(Catalogue([]), ResourceIndex.build(resources))


def group_key_pass(
    index: ResourceIndex, rule: ReplicationRule, value: Any
) -> tuple[str | None, str | None]:
    if isinstance(value, Unknown):
        found = index.resolve(value.refs, rule.group_types)
        return (f"res:{found[0].address}", found[0].address) if found else (None, None)
    if isinstance(value, str) and value:
        if rule.group_name_attribute:
            for g in index.of_types(rule.group_types):
                if g.attributes.get(rule.group_name_attribute) == value:
                    return f"res:{g.address}", g.address
        return f"name:{value}", None
    return None, None


def group_rule(types: tuple[str, ...], attribute: str | None) -> ReplicationRule:
    return ReplicationRule(
        type="aws_member",
        path="global_cluster_identifier",
        kind="replication",
        destination="group-member",
        source_path=None,
        source="group",
        group_types=types,
        group_name_attribute=attribute,
    )


@pytest.mark.parametrize("seed", range(30))
def test_group_key_is_what_a_pass_over_the_groups_gave(seed: int) -> None:
    rng = random.Random(seed)
    groups = random_resources(rng, rng.randint(0, 30))
    index = ResourceIndex.build(groups)
    b = FlowBuilder(Catalogue([]), index)
    values: list[Any] = [*NAMES, "absent", None, 3, Unknown("u", frozenset({"aws_a.r1"}))]
    for types in type_tuples(rng):
        for attribute in (None, "", "name", "bucket", "other"):
            rule = group_rule(types, attribute)
            for value in values:
                assert b._group_key(rule, value) == group_key_pass(index, rule, value)


def test_the_first_group_of_a_name_wins() -> None:
    first = res("aws_g.first", "aws_g", {"global_cluster_identifier": "gc"})
    second = res("aws_g.second", "aws_g", {"global_cluster_identifier": "gc"})
    other = res("aws_h.other", "aws_h", {"global_cluster_identifier": "gc"})
    b = builder([first, second, other])
    rule = group_rule(("aws_h", "aws_g"), "global_cluster_identifier")
    assert b._group_key(rule, "gc") == ("res:aws_h.other", "aws_h.other")
    rule = group_rule(("aws_g",), "global_cluster_identifier")
    assert b._group_key(rule, "gc") == ("res:aws_g.first", "aws_g.first")
    assert b._group_key(rule, "gc2") == ("name:gc2", None)


# -- same region --------------------------------------------------------------------------------
def same_region_pass(index: ResourceIndex, types: tuple[str, ...], r: Resource) -> Resource | None:
    same = [
        x
        for x in index.of_types(types)
        if x.region.region is not None and x.region.region == r.region.region
    ]
    same.sort(key=lambda x: (not x.in_scope, x.address))
    return same[0] if same else None


@pytest.mark.parametrize("seed", range(30))
def test_same_region_source_is_what_the_sort_gave(seed: int) -> None:
    rng = random.Random(seed)
    index = ResourceIndex.build(random_resources(rng, rng.randint(0, 30)))
    b = FlowBuilder(Catalogue([]), index)
    for types in type_tuples(rng):
        for region in ("cn-north-1", "cn-northwest-1", "", None, "us-east-1"):
            r = res("aws_x.declarer", "aws_x", region=region)
            got = b._same_region(types).get(region) if region is not None else None
            assert got is same_region_pass(index, types, r), (types, region)


def test_same_region_ties_keep_the_first() -> None:
    # the same address twice (hostile input): a stable sort kept the first of them
    a1 = res("aws_a.a", in_scope=True, attributes={"n": 1})
    a2 = res("aws_a.a", in_scope=True, attributes={"n": 2})
    out_of_scope = res("aws_a.0", in_scope=False)
    b = builder([out_of_scope, a1, a2])
    assert b._same_region(("aws_a",))["cn-north-1"] is a1


# -- referrers ----------------------------------------------------------------------------------
def referrers_pass(index: ResourceIndex, rtype: str, path: str, address: str) -> list[Resource]:
    out = []
    for x in index.of_types((rtype,)):
        refs: frozenset[str] = frozenset()
        for _, v in walk_path(x.attributes, path):
            refs |= refs_in(v)
        if address in refs or _base(address) in refs:
            out.append(x)
    return out


def referrers(rng: random.Random, n: int) -> list[Resource]:
    out = []
    for i in range(n):
        refs = frozenset(
            rng.sample(
                ["aws_t.v0", "aws_t.v1", "aws_t.v2", 'aws_t.v1["k"]', "aws_t.v3[0]", "other.x"],
                rng.randint(0, 3),
            )
        )
        value = rng.choice(
            [
                Unknown("u", refs),
                [Unknown("u", refs), "literal"],
                {"k": Unknown("u", refs)},
                "literal",
                None,
            ]
        )
        attrs: dict[str, Any] = rng.choice(
            [
                {"policy_id": value},
                {"rule": [{"vault": value}, {"vault": Unknown("u", frozenset({"aws_t.v4"}))}]},
                {"rule": {"vault": value}},
                {},
            ]
        )
        out.append(res(f"aws_r.r{i}", rng.choice(["aws_r", "aws_s"]), attrs))
    return out


@pytest.mark.parametrize("seed", range(30))
def test_the_referrers_found_are_those_a_pass_finds(seed: int) -> None:
    rng = random.Random(seed)
    index = ResourceIndex.build(referrers(rng, rng.randint(0, 25)))
    b = FlowBuilder(Catalogue([]), index)
    queries = [
        (rtype, path, address)
        for rtype in ("aws_r", "aws_s", "aws_none")
        for path in ("policy_id", "rule[].vault", "rule")
        for address in ("aws_t.v0", "aws_t.v1", 'aws_t.v1["k"]', "aws_t.v3[0]", "aws_t.v4", "x")
    ]
    rng.shuffle(queries)  # whatever order the lookups come in
    for rtype, path, address in queries + queries:
        got = b._referrers(rtype, path, address)
        want = referrers_pass(index, rtype, path, address)
        assert [x.address for x in got] == [x.address for x in want], (rtype, path, address)


# -- a flow's line ------------------------------------------------------------------------------
def line_for_pass(resource: Resource, arg: str) -> int | None:
    lines = resource.meta.get("block_lines") if isinstance(resource.meta, dict) else None
    if not lines:
        return resource.line
    best = None
    for p, line in lines.items():
        if (arg == p or arg.startswith(p + ".")) and (best is None or len(p) > len(best[0])):
            best = (p, line)
    return best[1] if best else resource.line


ARGS = (
    "rule[0].destination[0].bucket",
    "rule[0].destination[0]",
    "rule[1].destination[0].bucket",
    "rule[10].destination[0].bucket",
    "rule",
    "bucket",
    ".bucket",
    "a..b",
    "",
)


@pytest.mark.parametrize("seed", range(30))
def test_a_flows_line_is_what_a_pass_over_the_blocks_gave(seed: int) -> None:
    rng = random.Random(seed)
    paths = [
        "rule",
        "rule[0]",
        "rule[1]",
        "rule[10]",
        "rule[0].destination[0]",
        "rule[1].destination[0]",
        "rule[0].destination",
        "rule[1",
        "rule[0].destination[0].bucket",
        "",
        "a",
        "a.",
        "a..b",
        ".",
        "bucket",
    ]
    lines = {p: rng.randint(1, 99) for p in rng.sample(paths, rng.randint(0, len(paths)))}
    for meta in ({"block_lines": lines}, {}, {"block_lines": {}}):
        r = res("aws_a.r", meta=meta, line=rng.choice([7, None]))
        for arg in ARGS:
            assert _line_for(r, arg) == line_for_pass(r, arg), (lines, arg)
