"""The expression evaluator and built-in functions: Terraform's value, or unknown, never another.

Expected values were checked against terraform 1.11 (test_differential.py automates that for a
larger corpus); these tests need no terraform binary. ``error`` marks an Unknown that Terraform
rejects (what ``try``/``can`` catch); a plain Unknown is what ciiguard cannot decide.
"""

from __future__ import annotations

from typing import Any

import pytest

from ciiguard.model import Hop, Unknown
from ciiguard.parsers.terraform import numbers
from ciiguard.parsers.terraform.hcl.nodes import Expr, TupleExpr, UnaryOp
from ciiguard.parsers.terraform.hcl.reader import parse_expression
from ciiguard.parsers.terraform.lang.evaluator import (
    Evaluator,
    Scope,
    convert_to_type,
    deep_unknown,
)
from ciiguard.parsers.terraform.lang.functions import TfSet
from ciiguard.parsers.terraform.lang.re2 import RegexError, compile_re2, find_all, replace_all

VARS: dict[str, Any] = {
    "region": "cn-north-1",
    "regions": ["cn-north-1", "cn-northwest-1", "ap-east-1"],
    "objs": [
        {"name": "orders", "region": "cn-north-1", "tags": ["pii", "hot"]},
        {"name": "logs", "region": "us-east-1", "tags": ["cold"]},
    ],
    "tags": {"env": "prod", "team": "data"},
    "nothing": None,
    "empty": "",
    "n": 3,
    "later": Unknown("known after apply", frozenset({"aws_s3_bucket.b"})),
}


class VarScope(Scope):
    def __init__(self, declared: bool = True) -> None:
        self.declared = declared

    def variable(self, name: str, ev: Evaluator) -> tuple[Any, tuple[Hop, ...]]:
        if name in VARS:
            return VARS[name], (Hop(f"var.{name}"),)
        return Unknown(f"var.{name} is not declared", error=True), ()

    def local(self, name: str, ev: Evaluator) -> tuple[Any, tuple[Hop, ...]]:
        return Unknown(f"local.{name} is not declared", error=True), ()

    def declares(self, kind: str, name: str) -> bool | None:
        return (kind == "var" and name in VARS) if self.declared else None


def ev(src: str, scope: Scope | None = None) -> Any:
    return Evaluator(scope or VarScope()).evaluate(parse_expression(src))


def is_error(v: Any) -> bool:
    return isinstance(v, Unknown) and v.error


def undecided(v: Any) -> bool:
    return isinstance(v, Unknown) and not v.error


def text(v: Any) -> str:
    assert isinstance(v, (int, float)) and not isinstance(v, bool), v
    return numbers.number_text(v)


# -- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("10 - 4 - 3", "3"),
        ("10 / 4", "2.5"),
        ("0.1 + 0.2", "0.3"),
        ("0.7 * 3", "2.1"),
        ("7 % 3", "1"),
        ("-7 % 3", "-1"),
        ("7 % -3", "1"),
        ("7.5 % 2", "1.5"),
        ("5 % 0", "5"),
        ("-2 * 3", "-6"),
        ('"5" + 1', "6"),
        ("-0", "-0"),
        ("0 * -5", "-0"),
        ("var.n * 2 + 1", "7"),
    ],
)
def test_arithmetic(src: str, expected: str) -> None:
    assert text(ev(src)) == expected


def test_512_bit_results_print_like_terraform() -> None:
    third = "0." + "3" * 154 + "5"
    assert ev('"x${1 / 3}"') == "x" + third
    assert ev('"x${1.1 + 2.2}"') == "x3.3" + "0" * 152 + "2"
    assert text(ev("2 * 3e200")) == "6" + "0" * 200


def test_float_equality_uses_exact_values() -> None:
    assert ev("0.1 + 0.2 == 0.3") is True
    assert ev("1 == 1.0") is True


def test_division_by_zero_is_not_decided() -> None:
    assert undecided(ev("1 / 0"))


def test_precision_of_function_results_is_not_guessed() -> None:
    # length() results have 64-bit precision in Terraform, literals 512: 1/3 differs
    assert undecided(ev('"${length(var.regions) / length(["a", "b", "c", "d", "e", "f", "g"])}"'))
    assert ev("floor(length(var.regions) / 2)") == 1
    assert ev('"x${length(var.regions) / 2}"') == "x1.5"


def test_number_parsing() -> None:
    assert [text(numbers.parse_number(s)) for s in ("+1", ".5", "5.", "1e3", "007")] == [
        "1",
        "0.5",
        "5",
        "1000",
        "7",
    ]
    for bad in (" 1", "0x10", "1_000", "", "1e", "abc"):
        with pytest.raises(ValueError):
            numbers.parse_number(bad)
    for odd in ("inf", "-Infinity", "1p3", "1e400", "1" * 200):
        with pytest.raises(numbers.NotDecided):
            numbers.parse_number(odd)


def test_round_to_is_ties_to_even() -> None:
    from fractions import Fraction

    assert numbers.round_to(Fraction(5, 2), 2) == 2
    assert numbers.round_to(Fraction(7, 2), 2) == 4
    assert numbers.round_to(Fraction(-7, 2), 2) == -4
    assert numbers.round_to(Fraction(1, 3), 4) == Fraction(11, 32)


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("1 < 2 == true", True),
        ('"10" > 9', True),
        ("true || false && false", True),
        ("!true || true", True),
        ('false || "true"', True),
        ('1 == "1"', False),
        ("null == null", True),
        ("[1, 2] != [1, 3]", True),
    ],
)
def test_comparison_and_logic(src: str, expected: object) -> None:
    assert ev(src) is expected


@pytest.mark.parametrize(
    "src", ['true || "x"', 'false && tobool("x")', '"a" + 1', "true + 1", "var.nothing && true"]
)
def test_operator_errors(src: str) -> None:
    assert is_error(ev(src))


def test_equal_collections_are_not_decided_because_types_may_differ() -> None:
    assert undecided(ev('["a"] == ["a"]'))
    assert undecided(ev('tolist(["a"]) == ["a"]'))


def test_logic_with_unknown_operand() -> None:
    assert ev("false && var.later == 1") is False
    assert ev("true || var.later == 1") is True
    assert undecided(ev("true && var.later == 1"))


# -- conditionals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ('true ? 1 : "a"', "1"),
        ('false ? "a" : 2', "2"),
        ("true ? 1 : null", 1),
        ('"true" ? "yes" : "no"', "yes"),
        ('true ? "a" : tonumber("x")', "a"),
        ('var.n > 2 ? "many" : var.n > 1 ? "two" : "one"', "many"),
        ('true ? ["x", "y"] : ["z"]', ["x", "y"]),
    ],
)
def test_conditional_unifies_branch_types(src: str, expected: object) -> None:
    assert ev(src) == expected


@pytest.mark.parametrize("src", ['true ? "a" : ["x"]', "true ? 1 : false", "var.nothing ? 1 : 2"])
def test_conditional_errors(src: str) -> None:
    assert is_error(ev(src))


def test_conditional_on_unknowns() -> None:
    assert undecided(ev('true ? [1, 2] : ["a"]'))  # Terraform converts to list(string)
    assert ev('var.later == "x" ? "same" : "same"') == "same"
    assert undecided(ev('var.later == "x" ? "a" : "b"'))
    assert ev('true ? "kept" : var.later') == "kept"
    taken = ev('true ? var.later : "x"')
    assert isinstance(taken, Unknown) and taken.refs == frozenset({"aws_s3_bucket.b"})


# -- templates ------------------------------------------------------------------------------


def test_templates() -> None:
    assert ev('"${var.region}-${var.n}-${true}"') == "cn-north-1-3-true"
    assert ev('"${var.n}"') == 3  # an interpolation-only template is the value itself
    assert ev('"${var.regions}"') == VARS["regions"]
    assert is_error(ev('"x${var.nothing}"'))
    assert is_error(ev('"x${var.regions}"'))
    assert undecided(ev('"x${var.later}"'))


# -- traversal, index, splat ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("var.regions[1]", "cn-northwest-1"),
        ('var.regions["2"]', "ap-east-1"),
        ('var.regions["01"]', "cn-northwest-1"),
        ("var.regions[1.0]", "cn-northwest-1"),
        ("var.regions.0", "cn-north-1"),
        ('var.tags["env"]', "prod"),
        ("var.tags.team", "data"),
        ('{ "1" = "one" }[1]', "one"),
        ("var.objs[1].name", "logs"),
        ("var.objs[*].region", ["cn-north-1", "us-east-1"]),
        ("var.objs.*.name", ["orders", "logs"]),
        ("var.objs[*].tags[0]", ["pii", "cold"]),
        ("var.objs.*.tags[0]", ["pii", "hot"]),
        ("(var.objs[*].region)[0]", "cn-north-1"),
        ("var.tags[*]", [VARS["tags"]]),
        ("var.nothing[*]", []),
        ("var.region[*]", ["cn-north-1"]),
    ],
)
def test_access_and_splat(src: str, expected: object) -> None:
    assert ev(src) == expected


@pytest.mark.parametrize(
    "src",
    [
        "var.objs[*].region[0]",
        "var.regions[5]",
        "var.regions[-1]",
        "var.regions[0.5]",
        'var.tags["nope"]',
        "var.tags.nope",
        '"text"[0]',
        "var.nothing.region",
        'toset(["a"])[0]',
    ],
)
def test_access_errors(src: str) -> None:
    u = deep_unknown(ev(src))
    assert u is not None and u.error


# -- for expressions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        (
            '[for r in var.regions : upper(r) if startswith(r, "cn-")]',
            ["CN-NORTH-1", "CN-NORTHWEST-1"],
        ),
        ('[for i, r in var.regions : "${i}:${r}"][2]', "2:ap-east-1"),
        ("[for k, v in { b = 1, a = 2 } : k]", ["a", "b"]),
        (
            "{ for o in var.objs : o.name => o.region }",
            {"orders": "cn-north-1", "logs": "us-east-1"},
        ),
        (
            '{ for s in ["ab", "ac", "b"] : substr(s, 0, 1) => s... }',
            {"a": ["ab", "ac"], "b": ["b"]},
        ),
        ("{ for k, v in { a = 1 } : v => k }", {"1": "a"}),
        ('[for k, v in toset(["b", "a"]) : "${k}=${v}"]', ["a=a", "b=b"]),
    ],
)
def test_for_expressions(src: str, expected: object) -> None:
    assert ev(src) == expected


@pytest.mark.parametrize(
    "src",
    [
        '[for c in "text" : c]',
        "[for x in var.nothing : x]",
        '[for x in [1] : x if "yes"]',
        '{ for r in ["a", "a"] : r => r }',
        '{ for r in ["a"] : var.nothing => r }',
    ],
)
def test_for_errors(src: str) -> None:
    assert is_error(ev(src))


# -- functions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("coalesce(var.empty, var.nothing, var.region)", "cn-north-1"),
        ('coalesce(1, "a")', "1"),
        ('coalesce([], ["b"])', []),
        ("coalesce(var.region, var.later)", "cn-north-1"),
        ('lookup(var.tags, "team", "x")', "data"),
        ('lookup(var.tags, "nope", "x")', "x"),
        ("element(var.regions, 4)", "cn-northwest-1"),
        ('index(var.regions, "ap-east-1")', 2),
        ("keys({ b = 1, a = 2, B = 3 })", ["B", "a", "b"]),
        ('values({ b = 1, a = "x" })', ["x", 1]),
        ('zipmap(["a", "a"], [1, 2])', {"a": 2}),
        ("merge({ a = 1, b = 2 }, { b = 3 }, null)", {"a": 1, "b": 3}),
        ('concat(var.regions, ["x"])[3]', "x"),
        ("flatten([[1, [2]], [], 3])", [1, 2, 3]),
        ('distinct([1, "1", 1])', ["1"]),
        ('contains(["1"], 1)', False),
        ('length("héllo")', 5),
        ("one([])", None),
        ("sort([3, 10, 2])", ["10", "2", "3"]),
        ('sort(["é", "z", "a", "Z"])', ["Z", "a", "z", "é"]),
        ("setunion([3, 1], [2])", [1, 2, 3]),
        ("toset([true, false, true])", [False, True]),
        ('toset(["b", 1])', ["1", "b"]),
        ('tolist([1, "a"])', ["1", "a"]),
        ('tomap({ a = 1, b = "x" })', {"a": "1", "b": "x"}),
        ("range(5, 1)", [5, 4, 3, 2]),
        ('try(var.tags.nope, "fallback")', "fallback"),
        ('try(tonumber("x"), 1)', 1),
        ("can(var.regions[9])", False),
        ("can(var.regions[0])", True),
        ('startswith(var.region, "cn-")', True),
        ('replace(var.region, "-", "_")', "cn_north_1"),
        ('replace(var.region, "/-(\\\\d+)$/", "#$1")', "cn-north#1"),
        ('replace("abc", "/(b)/", "$1x")', "ac"),
        ('replace("abc", "/b/", "$$")', "a$c"),
        ('replace("baaac", "/a*/", "-")', "-b-c-"),
        ('substr("hello", -3, 2)', "ll"),
        ('substr("hello", 10, 2)', ""),
        ('substr("hello", -10, 2)', "he"),
        ('substr("hello", -2, 0)', "lo"),
        ('substr("héllo", 1, 3)', "éll"),
        ('trimspace("  \\t x \\n")', "x"),
        ('format("%s-%03d", "a", 7)', "a-007"),
        (
            'format("%d|%5.2f|%-5d|%+d|%x|%X|%o|%b|%t", 42, 3.14159, 42, 42, 255, 255, 8, 5, true)',
            "42| 3.14|42   |+42|ff|FF|10|101|true",
        ),
        (
            'format("%e|%g|%g|%.3g", 1234.5, 0.00001, 100, 123456)',
            "1.234500e+03|1e-05|100|1.23e+05",
        ),
        ('format("%v|%v|%v", 123456789, [1, "a"], "s")', '1.23456789e+08|[1,"a"]|s'),
        ('format("%.2f|%.3f|%.0f|%.0f", 0.125, 2.0005, 0.5, 1.5)', "0.12|2.001|0|2"),
        ('format("%q", "a\\"b<")', '"a\\"b\\u003c"'),
        ('format("[%6s][%-6s][%.2s]", "ab", "ab", "abcdef")', "[    ab][ab    ][ab]"),
        ('format("%[2]s %[1]s %s", "a", "b")', "b a b"),
        ('formatlist("%s=%d", ["a", "b"], [1, 2])', ["a=1", "b=2"]),
        ('join(",", [1, true, "a"])', "1,true,a"),
        ('split("", "abc")', ["a", "b", "c"]),
        ('split(",", "")', [""]),
        ('upper("ǆ é")', "Ǆ É"),
        ('lower("\\u0391\\u03a3")', "\u03b1\u03c3"),  # per-character: no final sigma
        ('title("hello «world» foo_bar x-y")', "Hello «world» Foo_bar X-Y"),
        ("tostring(1.5)", "1.5"),
        ("tostring(null)", None),
        ('tonumber("1e3")', 1000),
        ('tobool("true")', True),
        ('jsondecode("{\\"a\\": [1, 2.5, null]}")', {"a": [1, 2.5, None]}),
        (
            'jsonencode({ b = [1.5, "x<y>&"], a = null })',
            '{"a":null,"b":[1.5,"x\\u003cy\\u003e\\u0026"]}',
        ),
        ('jsonencode("\\u2028\\u0001\\u0008")', '"\\u2028\\u0001\\b"'),
    ],
)
def test_functions(src: str, expected: object) -> None:
    got = ev(src)
    assert deep_unknown(got) is None, got
    assert got == expected
    assert type(got) is type(expected) or isinstance(expected, (int, list))


@pytest.mark.parametrize(
    "src",
    [
        "element(var.regions, -1)",
        "element([], 0)",
        'element(toset(["a"]), 0)',
        'index(["1"], 1)',
        'lookup(var.tags, "nope")',
        'coalesce("a", ["b"])',
        'coalesce("", null)',
        "one([1, 2])",
        'regex("^us-", var.region)',
        'regex("(a)\\\\1", "aa")',
        'regex("a(?=b)", "ab")',
        'regex("(a)|(?P<n>b)", "b")',
        'regex("a{1001}", "a")',
        'regex("a**", "a")',
        'join(",", ["a", null])',
        'formatlist("%s-%s", ["a", "b"], ["x"])',
        'format("%s %s", "a")',
        'format("%d", 1.5)',
        'tonumber("0x10")',
        'tobool("TRUE")',
        "tomap({ a = 1, b = true })",
        'tostring(["a"])',
        'jsondecode("NaN")',
        'concat(toset(["a"]), ["b"])',
        "range(1, 5, -1)",
        "length(var.nothing)",
        "try(var.regions[9], var.tags.nope)",
    ],
)
def test_function_errors(src: str) -> None:
    assert is_error(ev(src))


@pytest.mark.parametrize(
    "src",
    [
        'upper("straße")',  # Go keeps ß; Python would write SS
        'title("ßa")',
        'regex("\\\\pL+", "abc")',  # Unicode classes: not translated
        'regex("(?i)é", "É")',
        'length("👍🏽")',  # grapheme clusters beyond what ciiguard segments
        "toset([[1], [2]])",  # Terraform orders sets of collections by hash
        'lookup({ a = "x" }, "b", 1)',  # a map would convert the default, an object not
        "unknown_function(1)",
        'provider::aws::arn_parse("x")',
        'core::file("x")',  # the core namespace names the built-ins only: no file reading
        'pow(2, 0.5)',  # Go's math.Pow rounds differently from Python's
        'log(50, 10) + 1',  # float64 results in arithmetic: precision not modelled
        'formatdate("ZZZ", "2024-01-01T00:00:00+08:00")',  # the host's time zone names it
        'csvdecode("a\\n\\"b\\"")',  # quoting rules differ between Go and Python
        'textencodebase64("a", "Shift_JIS")',
        'cidrhost("010.0.0.0/8", 1)',  # Terraform reads leading zeros as decimal
        'basename("a\\\\b")',  # a separator only on Windows hosts
    ],
)
def test_not_decided_instead_of_guessing(src: str) -> None:
    assert undecided(ev(src))


def test_unknown_arguments_propagate_with_refs() -> None:
    got = ev("upper(var.later)")
    assert undecided(got) and got.refs == frozenset({"aws_s3_bucket.b"})
    assert undecided(ev("try(var.later, 1)"))
    assert undecided(ev("can(var.later)"))


def test_try_and_can_do_not_swallow_undeclared_references() -> None:
    assert is_error(ev('try(var.undeclared, "x")'))
    assert is_error(ev("can(var.undeclared)"))
    # a scope that cannot tell keeps the old behaviour
    assert ev('try(var.undeclared, "x")', VarScope(declared=False)) == "x"


def test_sets_are_marked() -> None:
    s = ev('toset(["b", "a", "b"])')
    assert isinstance(s, TfSet) and s == ["a", "b"]
    assert type(ev('tolist(toset(["b", "a"]))')) is list


# -- deep nesting -------------------------------------------------------------------------


def test_deeply_nested_ast_is_unknown_not_a_crash() -> None:
    e: Expr = parse_expression("1")
    for _ in range(5000):
        e = UnaryOp("-", e)
    assert is_error(Evaluator(Scope()).evaluate(e))
    t: Expr = parse_expression("1")
    for _ in range(5000):
        t = TupleExpr((t,))
    assert isinstance(Evaluator(Scope()).evaluate(t), (Unknown, list))
    assert deep_unknown(Evaluator(Scope()).evaluate(t)) is not None


def test_deeply_nested_json_is_not_decided() -> None:
    doc = "[" * 5000 + "]" * 5000
    assert undecided(Evaluator(Scope()).evaluate(parse_expression(f'jsondecode("{doc}")')))


# -- the RE2 translation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "subject", "matches"),
    [
        ("a*", "baaac", ["", "aaa", ""]),
        ("a??", "a", ["", ""]),
        ("a$", "a\n", []),
        ("(?m)^a$", "a\nb\na", ["a", "a"]),
        ("[[:alpha:]]+", "ab1", ["ab"]),
        ("a{,3}", "a{,3}", ["a{,3}"]),
        (r"\Qa.b\E", "a.b", ["a.b"]),
        (r"\d+", "1\u0663\u0662", ["1"]),
        (r"\s+", "a \x0b b", [" ", " "]),
        (r"\bfoo\b", "a foo b", ["foo"]),
        (r"\x41\101\x{42}", "AAB", ["AAB"]),
        ("(?i)abc", "ABC", ["ABC"]),
        ("(?s).", "\n", ["\n"]),
        (".", "\n", []),
        ("[^a]", "\n", ["\n"]),
        ("(?<n>x)", "x", ["x"]),
    ],
)
def test_re2_matches_like_go(pattern: str, subject: str, matches: list[str]) -> None:
    assert [m.group(0) for m in find_all(compile_re2(pattern), subject)] == matches


@pytest.mark.parametrize(
    "pattern",
    [r"\1", "(?=a)", "(?<!a)", "a**", "*a", "a|*", "(", ")", "[a", r"\q", "a{2000}", "[z-a]"],
)
def test_re2_rejects_what_go_rejects(pattern: str) -> None:
    with pytest.raises(RegexError):
        compile_re2(pattern)


def test_re2_replacement_template() -> None:
    c = compile_re2("(?P<n>b)")
    assert replace_all(c, "abc", "<$n>") == "a<b>c"
    assert replace_all(c, "abc", "<${1}>") == "a<b>c"
    assert replace_all(c, "abc", "$1x") == "ac"
    assert replace_all(c, "abc", "$!") == "a$!c"


# -- type conversion --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "type_src", "expected"),
    [
        ("3", "number", 3),
        (1.5, "string", "1.5"),
        ("true", "bool", True),
        (["b", "a", "b"], "set(string)", ["a", "b"]),
        ([1, 2], "list(string)", ["1", "2"]),
        ([1, "a"], "list(any)", ["1", "a"]),
        ({"a": "1", "b": 2}, "map(number)", {"a": 1, "b": 2}),
        ([1, "2", "false"], "tuple([string, number, bool])", ["1", 2, False]),
        (
            {"region": "x", "extra": 1},
            'object({ region = string, port = optional(number), tier = optional(string, "std") })',
            {"region": "x", "port": None, "tier": "std"},
        ),
        ([1, "a"], "any", [1, "a"]),
        (None, "string", None),
    ],
)
def test_convert_to_type(value: Any, type_src: str, expected: object) -> None:
    assert convert_to_type(value, parse_expression(type_src)) == expected


@pytest.mark.parametrize(
    ("value", "type_src"),
    [("x", "number"), ("yes", "bool"), (["a"], "string"), ({"a": 1}, "object({ b = string })")],
)
def test_convert_to_type_errors(value: Any, type_src: str) -> None:
    assert is_error(convert_to_type(value, parse_expression(type_src)))


def test_legacy_splat_node_with_index_steps_indexes_the_result() -> None:
    # parse caches written before AST_VERSION 2 kept the index inside the legacy splat
    from ciiguard.parsers.terraform.hcl.nodes import Literal, Splat

    node = Splat(parse_expression("var.objs"), (("attr", "tags"), ("index", Literal(0))), False)
    assert Evaluator(VarScope()).evaluate(node) == ["pii", "hot"]


def test_merge_keeps_known_keys_when_some_values_are_unknown() -> None:
    merged = ev('merge(var.tags, {Name = var.later, "data-classification" = "personal"})')
    assert isinstance(merged, dict)
    assert merged["data-classification"] == "personal" and merged["env"] == "prod"
    assert isinstance(merged["Name"], Unknown) and merged["Name"].refs == frozenset({"aws_s3_bucket.b"})
    assert undecided(ev("merge(var.tags, var.later)"))  # an unknown object: its keys are unknown too


class _ShadowingScope(VarScope):
    """A scope with its own ``upper`` (as Terragrunt adds functions of its own)."""

    def function(self, name: str) -> Any:
        return (lambda args: "shadowed") if name == "upper" else None


def test_core_namespace_calls_the_builtin_even_where_a_scope_shadows_it() -> None:
    assert ev('core::upper(core::trimprefix("cn-north-1", "cn-"))') == "NORTH-1"
    assert ev('upper("a")', _ShadowingScope()) == "shadowed"
    assert ev('core::upper("a")', _ShadowingScope()) == "A"
    assert ev('core::try(tonumber("x"), 2)') == 2
