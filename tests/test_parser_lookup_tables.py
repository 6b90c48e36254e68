"""Lookups the parsers answer by table instead of by a pass per question: each table must give
exactly what the pass gave, including on the odd inputs (first match wins, repeated names, NaN,
keys that look like separators), since the verdicts follow from them."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest

from ciiguard.parsers.terraform.hcl.nodes import (
    Attribute,
    Block,
    Body,
    HclFile,
    Literal,
    ObjectExpr,
)
from ciiguard.parsers.terraform.overrides import _first_repeated, repeated_arguments
from ciiguard.parsers.terraform.plan import (
    SourceModule,
    _BlockMatcher,
    _compact,
    _match_config_block,
    overlay_unknown,
    split_address,
)
from ciiguard.parsers.terragrunt.config import _key_line_scan, _key_table, _plain_key
from ciiguard.testing import Scanner

NAN = float("nan")  # one object, as json.loads shares it between every NaN of a document


# -- plan JSON: the configuration block behind each planned list element ------------------------
def _values(rnd: random.Random) -> list[Any]:
    other_nan = float("nan")
    return [
        0, 1, True, False, 1.0, -0.0, None, "a", "b", "1", [], [1], [True], [1, 2], {}, {"k": 1},
        {"k": True}, {"k": [1]}, NAN, other_nan, [NAN], [other_nan], {"k": NAN},
        rnd.randint(0, 3),
    ]  # fmt: skip


def _random_cfg(rnd: random.Random) -> list[Any]:
    values = _values(rnd)
    cfg: list[Any] = []
    for _ in range(rnd.randint(0, 7)):
        if rnd.random() < 0.05:
            cfg.append(rnd.choice(["x", None, [], 3]))  # not a block: never matched
            continue
        block: dict[str, Any] = {}
        for k in rnd.sample(["id", "status", "priority", "d"], rnd.randint(0, 4)):
            r = rnd.random()
            if r < 0.7:
                block[k] = {"constant_value": rnd.choice(values)}
            elif r < 0.85:
                block[k] = {"references": [f"aws_s3_bucket.b{rnd.randint(0, 3)}"]}
            elif r < 0.95:
                block[k] = [{"bucket": {"constant_value": rnd.choice(values)}}]
            else:
                block[k] = "not an expression"
        cfg.append(block)
    return cfg


def _random_item(rnd: random.Random, cfg: list[Any]) -> Any:
    if rnd.random() < 0.1:
        return rnd.choice([None, "x", [1], 2])
    values = _values(rnd)
    item: dict[str, Any] = {}
    blocks = [c for c in cfg if isinstance(c, dict)]
    model = rnd.choice(blocks) if blocks and rnd.random() < 0.6 else None
    for k in ["id", "status", "priority", "d", "extra"]:
        if rnd.random() < 0.3:
            continue
        e = model.get(k) if model is not None else None
        if isinstance(e, dict) and "constant_value" in e and rnd.random() < 0.8:
            item[k] = e["constant_value"]  # the same object, as planned values rarely are
        else:
            item[k] = rnd.choice(values)
    return item


def test_the_block_table_picks_what_the_scan_over_every_block_picked() -> None:
    rnd = random.Random(1729)
    for _ in range(3000):
        cfg: Any = _random_cfg(rnd) if rnd.random() < 0.95 else rnd.choice([None, {}, "x"])
        matcher = _BlockMatcher(cfg)
        count = rnd.randint(0, 8)
        for index in range(count + 1):
            item = _random_item(rnd, cfg if isinstance(cfg, list) else [])
            want = _match_config_block(cfg, index, item, count)
            assert matcher.match(index, item, count) is want, (cfg, index, item, count)


def test_the_block_table_keeps_nan_unequal_and_numbers_equal_across_types() -> None:
    cfg = [
        {"p": {"constant_value": NAN}, "q": {"constant_value": 0}},
        {"p": {"constant_value": [NAN]}, "q": {"constant_value": 0}},
        {"q": {"constant_value": 1}},
    ]
    m = _BlockMatcher(cfg)
    for item in ({"p": NAN}, {"p": [NAN]}, {"q": True}, {"q": 1.0}, {"p": NAN, "q": True}):
        assert m.match(0, item, 2) is _match_config_block(cfg, 0, item, 2)
    assert m.match(0, {"p": [NAN], "q": 0}, 2) is cfg[1]  # the same NaN inside a list is equal
    # a NaN itself is never equal, not even to itself
    assert m.match(0, {"p": NAN, "q": 0}, 2) is None
    assert m.match(0, {"q": True}, 2) is cfg[2]  # True == 1


def test_unknown_rules_follow_the_block_whose_constants_they_carry() -> None:
    # planned (set) order differs from the configuration's: the id decides, not the position
    cfg = [
        {"id": {"constant_value": f"r{k}"}, "destination": [{"bucket": {"references": [f"aws_s3_bucket.d{k}.arn"]}}]}
        for k in range(4)
    ]  # fmt: skip
    planned = [{"id": f"r{k}", "destination": [{}]} for k in (2, 0, 3, 1)]
    unknown = [{"destination": [{"bucket": True}]}] * 4
    out = overlay_unknown({"rule": planned}, {"rule": unknown}, {"rule": cfg}, "x.r", "")
    refs = [sorted(r["destination"][0]["bucket"].refs) for r in out["rule"]]
    assert refs == [
        ["aws_s3_bucket.d2"],
        ["aws_s3_bucket.d0"],
        ["aws_s3_bucket.d3"],
        ["aws_s3_bucket.d1"],
    ]


def _joined_pieces(address: str) -> list[str]:
    """``split_address`` without quotes, as it was written: a piece that leaves a bracket open
    takes the next one."""
    out: list[str] = []
    for piece in address.split("."):
        if out and out[-1].count("[") > out[-1].count("]"):
            out[-1] += "." + piece
        else:
            out.append(piece)
    return out


def test_an_address_is_split_as_the_joining_pass_split_it() -> None:
    """Every string of up to seven of these characters (brackets open, closed, nested, stray;
    dots inside and outside them), and the usual shapes."""
    for n in range(8):
        for chars in itertools.product("a.[]0", repeat=n):
            address = "".join(chars)
            assert split_address(address) == _joined_pieces(address), address
    for address in ("module.svc[0].aws_s3_bucket.b0", "aws_s3_bucket.b[12]", "module.a.m.b.x.y"):
        assert split_address(address) == _joined_pieces(address)


def test_the_overlay_of_shared_unknowns_is_the_overlay_attribute_by_attribute() -> None:
    """``overlay_unknown`` with its memo (a whole-attribute ``after_unknown`` shared by many
    changes, worked out once per configuration) against the attribute-by-attribute overlay,
    over random plans: same values, same key order, same unknowns and references."""
    rng = random.Random(7)
    names = ["id", "arn", "bucket", "tags_all", "region", "policy"]
    memo: dict[Any, Any] = {}
    configs = [
        {n: {"references": [f"aws_s3_bucket.x{rng.randrange(3)}.arn"]} for n in rng.sample(names, k)}
        | {n: {"constant_value": "v"} for n in rng.sample(names, 1)}
        for k in (0, 1, 2, 3)
    ] + [{}, {"references": ["aws_kms_key.k.arn"]}]  # fmt: skip
    for _ in range(400):
        unknown = _compact(
            {n: rng.choice([True, True, False, {}, []]) for n in rng.sample(names, 4)}
        )
        values = {n: f"v-{n}" for n in rng.sample(names, 3)} if rng.random() < 0.9 else None
        exprs = rng.choice(configs)
        prefix = rng.choice(["", "module.a[0].", 'module.b["k"].'])
        address = f"{prefix}aws_s3_bucket.b{rng.randrange(5)}"
        fast = overlay_unknown(values, unknown, exprs, address, prefix, memo=memo)
        slow = overlay_unknown(values, dict(unknown) if isinstance(unknown, dict) else unknown,
                               exprs, address, prefix)  # fmt: skip
        assert fast == slow
        if isinstance(slow, dict):
            assert list(fast) == list(slow)
            for k, v in slow.items():  # Unknown compares by its fields: reason, refs, path
                assert type(fast[k]) is type(v)


# -- plan JSON with --source: the argument of a module call behind each variable --------------------
def _attr(name: str, line: int) -> Attribute:
    return Attribute(name, Literal(name), line, line)


def test_a_calls_argument_table_gives_the_first_argument_of_a_name_like_body_attr() -> None:
    args = (_attr("a", 2), _attr("b", 3), _attr("a", 4), _attr("c", 5))
    call = Block("module", ("m",), Body(args, ()), 1, 6)
    later = Block("module", ("m",), Body((_attr("a", 9),), ()), 8, 10)  # a second declaration
    mod = SourceModule(dir=Path("."))
    mod.add(HclFile("main.tf", Body((), (call,))))
    for name in ("a", "b", "c", "zz", ""):
        assert mod.call_argument("m", name) is call.body.attr(name)
    assert mod.call_argument("other", "a") is None
    mod.add(
        HclFile(
            "more.tf",
            Body((), (later, Block("module", ("n",), Body((_attr("x", 12),), ()), 11, 13))),
        )
    )
    assert mod.call_argument("m", "a") is call.body.attr("a")  # the first call block still wins
    assert mod.call_argument("n", "x") is not None  # a call from a file added after a lookup


def _modargs_plan(n: int, region_var: str) -> dict[str, Any]:
    provider = {
        "name": "aws",
        "full_name": "registry.terraform.io/hashicorp/aws",
        "module_address": "module.m",
        "expressions": {"region": {"references": [f"var.{region_var}"]}},
    }
    resource = {"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b",
                "provider_config_key": "module.m:aws", "expressions": {"bucket": {"constant_value": "bkt"}}}  # fmt: skip
    region = {
        f"v{i}": {"constant_value": "cn-north-1" if i == 4 else "us-east-1"} for i in range(n)
    }
    call = {"source": "./mod", "expressions": region,
            "module": {"resources": [resource], "variables": {f"v{i}": {} for i in range(n)}}}  # fmt: skip
    planned = {"address": "module.m.aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b",
               "values": {"bucket": "bkt", "tags": {"data-classification": "personal"}}}  # fmt: skip
    return {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {"child_modules": [{"address": "module.m", "resources": [planned]}]}
        },
        "resource_changes": [
            {
                "address": "module.m.aws_s3_bucket.b",
                "mode": "managed",
                "type": "aws_s3_bucket",
                "name": "b",
                "change": {"actions": ["create"], "after_unknown": {}},
            }
        ],
        "configuration": {
            "provider_config": {"module.m:aws": provider},
            "root_module": {"module_calls": {"m": call}},
        },
    }


def test_a_module_variable_names_the_line_of_its_argument_in_the_call() -> None:
    n = 6
    args = "".join(f'  v{i} = "{"cn-north-1" if i == 4 else "us-east-1"}"\n' for i in range(n))
    files = {
        "src/main.tf": f'module "m" {{\n  source = "./mod"\n{args}}}\n',
        "src/mod/main.tf": "".join(f'variable "v{i}" {{}}\n' for i in range(n))
        + 'provider "aws" {\n  region = var.v4\n}\nresource "aws_s3_bucket" "b" {\n  bucket = "bkt"\n}\n',
        "plan.json": json.dumps(_modargs_plan(n, "v4")),
    }
    out = Scanner().files(files, source_dir="src", check=False)
    r = out.resource("module.m.aws_s3_bucket.b")
    assert r.region.region == "cn-north-1"
    assert "module.m.var.v4 (src/main.tf:7)" in r.region.explain()


# -- .tf.json: the first key repeated in one object ---------------------------------------------
def _first_repeated_by_scan(keys: list[object]) -> object:
    return next((k for i, k in enumerate(keys) if k in keys[:i]), None)


def test_the_first_repeated_key_is_the_one_the_scan_over_earlier_keys_found() -> None:
    rnd = random.Random(7)
    pool: list[object] = ["a", "b", "c", "", "A", 1, True, 1.0, 0, False, None, NAN, float("nan")]
    for _ in range(3000):
        keys = [rnd.choice(pool) for _ in range(rnd.randint(0, 8))]
        assert _first_repeated(keys) is _first_repeated_by_scan(keys), keys
    assert _first_repeated(["a", ["x"], "b", ["x"], "a"]) == ["x"]  # unhashable: the scan's answer
    assert _first_repeated(["x", None, "y", None, "x"]) is None  # (None repeated first hides "x")


def test_repeated_json_keys_are_reported_once_per_object_in_the_same_order() -> None:
    def obj(*keys: str) -> ObjectExpr:
        return ObjectExpr(tuple((Literal(k), Literal(1)) for k in keys))

    inner = obj("p", "q", "p")
    tags = ObjectExpr(((Literal("x"), Literal(1)), (Literal("y"), inner), (Literal("x"), Literal(2)), (Literal("y"), Literal(3))))  # fmt: skip
    body = Body((Attribute("tags", tags, 3, 9), Attribute("other", obj("k", "k"), 10, 10)), ())
    errors = repeated_arguments(HclFile("main.tf.json", body))
    assert [(e.line, e.message) for e in errors] == [
        (3, 'key "x" appears twice in one JSON object of "tags"; Terraform rejects this'),
        (3, 'key "p" appears twice in one JSON object of "tags"; Terraform rejects this'),
        (10, 'key "k" appears twice in one JSON object of "other"; Terraform rejects this'),
    ]


# -- Terragrunt: the line an inputs key is written on -------------------------------------------
CHARS = ["a", "b", "k", " ", "\t", "\u3000", "\u00a0", "=", ":", '"', "#", "{", "}", ".", "\\"]


def _text(rnd: random.Random, longest: int) -> str:
    return "".join(rnd.choice(CHARS) for _ in range(rnd.randint(0, longest)))


def _line(rnd: random.Random) -> str:
    if rnd.random() < 0.4:
        return _text(rnd, 12)
    ws = rnd.choice(["", " ", "  ", "\t", "\u3000 "])
    key = rnd.choice(["a", "k", "ab", "a b", "a.b", "a\\", "#a", "{", ""]) + _text(rnd, 2) * (
        rnd.random() < 0.3
    )
    quote = '"' if rnd.random() < 0.3 else ""
    gap = rnd.choice(["", " ", " \t"])
    return f"{ws}{quote}{key}{quote}{gap}{rnd.choice('=:')}{_text(rnd, 6)}"


def _key_line_by_table(key: str, a: Attribute, lines: list[str]) -> int:
    if not _plain_key(key):
        return _key_line_scan(key, a, lines)
    return _key_table(a, lines).get(key, a.line)


def test_the_key_line_table_gives_the_line_the_per_key_pattern_found() -> None:
    rnd = random.Random(99)
    found = 0
    for _ in range(300):
        lines = [_line(rnd) for _ in range(rnd.randint(0, 8))]
        first = rnd.randint(1, len(lines) + 1)
        a = Attribute("inputs", Literal(None), first, rnd.randint(first - 1, len(lines) + 2))
        keys = {_line(rnd) for _ in range(6)}
        for text in lines:  # and keys cut from the lines themselves, where matches are
            i, j = sorted((rnd.randint(0, len(text)), rnd.randint(0, len(text))))
            bare = text.strip()
            keys.update({text[i:j], text[i:j].strip(), bare.strip('"').split('"')[0]})
            keys.update({bare.split("=")[0].strip(), bare.split(":")[0].strip()})
        for key in keys:
            want = _key_line_scan(key, a, lines)
            assert _key_line_by_table(key, a, lines) == want, (key, lines, a)
            found += want != a.line
    assert found > 150  # (the keys do match lines, for both kinds of key)


@pytest.mark.parametrize(
    ("key", "line"),
    [("region", 5), ("name", 4), ("tags", 6), ("owner", 7), ("team", 2), ("v", 8), ("absent", 2)],
)
def test_an_inputs_key_is_located_on_the_first_line_that_writes_it(key: str, line: int) -> None:
    lines = [
        "locals {}",
        "inputs = {",  # 2: the attribute's first line, the answer for a key written nowhere
        '  # team = "in a comment: the line starts with #, so it is not where team is written"',
        '  "name" = "n"',
        '  region   :   "cn-north-1"',
        "  tags = {",
        '    owner = "nested"',
        "    v = 1 # region = no",
        "  }",
        '  region = "later: not this line"',
        "}",
    ]
    a = Attribute("inputs", Literal(None), 2, 11)
    assert _key_line_by_table(key, a, lines) == _key_line_scan(key, a, lines) == line
