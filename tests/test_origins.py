"""Origins survive: a value derived from a reference to another resource keeps naming that
resource through every built-in function, splat, index, conditional and ``for`` expression, so
a flow whose source or destination went through a function is never dropped (issue: a counted
source written as ``join("", aws_s3_bucket.src[*].id)`` used to vanish)."""

from __future__ import annotations

from typing import Any

import pytest

from ciiguard.model import Unknown
from ciiguard.parsers.terraform.hcl.reader import parse_expression
from ciiguard.parsers.terraform.lang.builtins import FUNCTIONS
from ciiguard.parsers.terraform.lang.evaluator import (
    Evaluator,
    ResourceValue,
    Scope,
    deep_unknown,
)

REF = "aws_s3_bucket.src.id"  # computed: unknown before apply, naming aws_s3_bucket.src
ORIGIN = "aws_s3_bucket.src"


class _Resources(Scope):
    """A module where aws_s3_bucket.src exists (configured: bucket = "orders")."""

    def traverse(self, kind: str, parts: tuple[str, ...], ev: Evaluator) -> Any:
        if kind == "resource" and len(parts) == 2:
            return ResourceValue(".".join(parts), {"bucket": "orders"})
        return super().traverse(kind, parts, ev)


def evaluate(src: str) -> Any:
    return Evaluator(_Resources()).evaluate(parse_expression(src))


# A valid call of every built-in ciiguard evaluates: the reference is put in place of each
# argument, and of each element of a list or object argument, in turn.
SAMPLES: dict[str, list[str]] = {
    "alltrue": ['["true", "true"]'],
    "anytrue": ['["false", "true"]'],
    "base64decode": ['"b3JkZXJz"'],
    "base64encode": ['"orders"'],
    "base64sha256": ['"orders"'],
    "base64sha512": ['"orders"'],
    "basename": ['"a/orders"'],
    "chomp": ['"orders\\n"'],
    "cidrhost": ['"10.0.0.0/16"', "5"],
    "cidrnetmask": ['"10.0.0.0/16"'],
    "cidrsubnet": ['"10.0.0.0/16"', "8", "2"],
    "cidrsubnets": ['"10.0.0.0/16"', "8", "4"],
    "coalescelist": ["[]", '["a"]'],
    "csvdecode": ['"a,b\\n1,2"'],
    "dirname": ['"a/orders"'],
    "formatdate": ['"YYYY"', '"2024-01-01T00:00:00Z"'],
    "indent": ["2", '"a\\nb"'],
    "log": ["8", "2"],
    "matchkeys": ['["a", "b"]', '["x", "y"]', '["y"]'],
    "md5": ['"orders"'],
    "nonsensitive": ['"orders"'],
    "parseint": ['"10"', "16"],
    "pow": ["2", "3"],
    "sensitive": ['"orders"'],
    "setproduct": ['["a", "b"]', '["c"]'],
    "sha1": ['"orders"'],
    "sha256": ['"orders"'],
    "sha512": ['"orders"'],
    "signum": ["-3"],
    "strcontains": ['"orders"', '"der"'],
    "sum": ["[1, 2]"],
    "textdecodebase64": ['"b3JkZXJz"', '"UTF-8"'],
    "textencodebase64": ['"orders"', '"UTF-8"'],
    "timeadd": ['"2024-01-01T00:00:00Z"', '"1h"'],
    "timecmp": ['"2024-01-01T00:00:00Z"', '"2024-01-02T00:00:00Z"'],
    "transpose": ['{ a = ["x", "y"] }'],
    "urlencode": ['"a b"'],
    "uuidv5": ['"dns"', '"orders"'],
    "abs": ["-3"],
    "ceil": ["1.5"],
    "chunklist": ['["a", "b", "c"]', "2"],
    "coalesce": ['""', '"x"'],
    "compact": ['["a", "", "b"]'],
    "concat": ['["a"]', '["b"]'],
    "contains": ['["a", "b"]', '"a"'],
    "distinct": ['["a", "a", "b"]'],
    "element": ['["a", "b"]', "1"],
    "endswith": ['"orders"', '"s"'],
    "flatten": ['[["a"], ["b"]]'],
    "floor": ["1.5"],
    "format": ['"%s-%s"', '"a"', '"b"'],
    "formatlist": ['"%s!"', '["a", "b"]'],
    "index": ['["a", "b"]', '"b"'],
    "join": ['","', '["a", "b"]'],
    "jsondecode": ['"{\\"a\\": 1}"'],
    "jsonencode": ['{ a = "b" }'],
    "keys": ['{ a = "b" }'],
    "length": ['["a", "b"]'],
    "lookup": ['{ a = "b" }', '"a"', '"c"'],
    "lower": ['"ABC"'],
    "max": ["1", "2"],
    "merge": ['{ a = "b" }', '{ c = "d" }'],
    "min": ["1", "2"],
    "one": ['["a"]'],
    "range": ["3"],
    "regex": ['"[a-z]+"', '"abc"'],
    "regexall": ['"[a-z]"', '"abc"'],
    "replace": ['"abc"', '"b"', '"x"'],
    "reverse": ['["a", "b"]'],
    "setintersection": ['["a", "b"]', '["b"]'],
    "setsubtract": ['["a", "b"]', '["b"]'],
    "setunion": ['["a"]', '["b"]'],
    "slice": ['["a", "b", "c"]', "0", "2"],
    "sort": ['["b", "a"]'],
    "split": ['","', '"a,b"'],
    "startswith": ['"orders"', '"o"'],
    "strrev": ['"abc"'],
    "substr": ['"orders"', "0", "3"],
    "title": ['"orders"'],
    "tobool": ['"true"'],
    "tolist": ['["a"]'],
    "tomap": ['{ a = "b" }'],
    "tonumber": ['"1"'],
    "toset": ['["a"]'],
    "tostring": ['"a"'],
    "trim": ['"?a?"', '"?"'],
    "trimprefix": ['"orders"', '"or"'],
    "trimspace": ['" a "'],
    "trimsuffix": ['"orders"', '"s"'],
    "upper": ['"abc"'],
    "values": ['{ a = "b" }'],
    "zipmap": ['["a"]', '["b"]'],
}


def variants(args: list[str]) -> list[str]:
    """The call with the reference in place of one argument, or of one element of a list or
    object argument (``["a", REF]``, ``{ a = REF }``)."""
    out = []
    for i, arg in enumerate(args):
        out.append(", ".join([*args[:i], REF, *args[i + 1 :]]))
        if arg.startswith("[") and arg != "[]":
            inner = arg[1:-1].split(", ")
            out.append(", ".join([*args[:i], f"[{', '.join([REF, *inner[1:]])}]", *args[i + 1 :]]))
        if arg.startswith("{") and "=" in arg:
            key = arg[1:].split("=")[0].strip()
            out.append(", ".join([*args[:i], f"{{ {key} = {REF} }}", *args[i + 1 :]]))
    return out


def test_every_builtin_has_a_sample() -> None:
    assert sorted(SAMPLES) == sorted(FUNCTIONS), "add a sample call for the new function"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_a_sample_call_is_valid_and_known(name: str) -> None:
    value = evaluate(f"{name}({', '.join(SAMPLES[name])})")
    assert deep_unknown(value) is None, f"{name}: the sample itself must be decided: {value!r}"


# The keys and size of a known collection are known whatever its elements hold, as in Terraform
# (tests/test_differential.py, typed-unknowns): with the reference as an element, these are known.
SHAPE_ONLY = {"keys": 1, "length": 1}  # function -> the element variants that are known
# Calls whose result the reference has no part in, known to Terraform too: a default the present
# key leaves unused (tests/fixtures/differential/lookup-unknowns, known_present_unknown_default),
# another element than the one asked for (partly-unknown-lists, known_element_known).
UNUSED = {f'lookup({{ a = "b" }}, "a", {REF})', f'element([{REF}, "b"], 1)'}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_the_origin_survives_every_builtin(name: str) -> None:
    """Each call over the reference either keeps it (the result holds the unknown value,
    naming its resource) or is unknown naming it; never a known value that forgot it, never an
    unknown that names nothing. Only what depends on a collection's shape alone is known."""
    problems = []
    known = 0
    for args in variants(SAMPLES[name]):
        call = f"{name}({args})"
        u = deep_unknown(evaluate(call))
        if u is None and name in SHAPE_ONLY and not args.startswith(REF):
            known += 1
            continue
        if u is None and call in UNUSED:
            continue
        if u is None:
            problems.append(f"{call}: known, the reference is forgotten")
        elif ORIGIN not in u.refs:
            problems.append(f"{call}: unknown without its origin ({u!r})")
    assert not problems, "\n".join(problems)
    assert known == SHAPE_ONLY.get(name, 0)


@pytest.mark.parametrize(
    "expr",
    [
        REF,
        f"[{REF}][0]",
        f"{{ a = {REF} }}.a",
        f'{{ a = {REF} }}["a"]',
        "aws_s3_bucket.src[*].id",
        "aws_s3_bucket.src.*.id",
        "[aws_s3_bucket.src][*].id",
        f"[for x in [{REF}] : x]",
        f"[for x in [1] : {REF}]",
        f'{{ for x in [1] : "k" => {REF} }}',
        f'[for x in [{REF}] : x if x != ""]',
        f'{REF} == "" ? "a" : "b"',
        f'true ? {REF} : "b"',
        f'false ? "a" : {REF}',
        f'aws_s3_bucket.other.id == "" ? {REF} : "b"',
        f'aws_s3_bucket.other.id == "" ? ["a"] : [{REF}]',
        f'"arn:aws:s3:::${{{REF}}}"',
        f"<<EOT\n${{{REF}}}\nEOT",
        f'try({REF}, "fallback")',
        f"can({REF})",
        f'!({REF} == "x")',
        f"-length({REF})",
        f'{REF} == "x" && true',
        f"[for k, v in {{ a = {REF} }} : v]",
        "aws_s3_bucket.src",
        "merge(aws_s3_bucket.src, { a = 1 })",
        "[aws_s3_bucket.src][0].id",
    ],
)
def test_the_origin_survives_every_expression_form(expr: str) -> None:
    u = deep_unknown(evaluate(expr))
    assert isinstance(u, Unknown), f"{expr}: known, the reference is forgotten"
    assert ORIGIN in u.refs, f"{expr}: unknown without its origin ({u!r})"


def test_a_configured_argument_is_known_and_a_computed_one_names_its_resource() -> None:
    assert evaluate("aws_s3_bucket.src.bucket") == "orders"
    assert evaluate("upper(aws_s3_bucket.src.bucket)") == "ORDERS"
    u = evaluate("aws_s3_bucket.src.arn")
    assert isinstance(u, Unknown) and u.refs == {ORIGIN} and u.path == ("arn",)
