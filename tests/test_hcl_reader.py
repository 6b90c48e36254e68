"""The HCL reader: python-hcl2's parse tree folded into ``hcl_ast``, with HCL's own rules.

Expected values here were checked against terraform 1.11 (see test_differential.py for the
automated comparison); these tests need no terraform binary.
"""

from __future__ import annotations

import pytest

from ciiguard.errors import InputError
from ciiguard.model import Unknown
from ciiguard.parsers.terraform.hcl.nodes import (
    GetAttr,
    Index,
    Literal,
    Name,
    Splat,
    Template,
    Unsupported,
)
from ciiguard.parsers.terraform.hcl.reader import parse_expression, parse_hcl
from ciiguard.parsers.terraform.lang.evaluator import Evaluator, Scope
from ciiguard.parsers.terraform.numbers import Int512, Num, number_text


def value(src: str) -> object:
    return Evaluator(Scope()).evaluate(parse_expression(src))


def attr_value(text: str, name: str = "x") -> object:
    f = parse_hcl(text, "t.tf")
    a = f.body.attr(name)
    assert a is not None
    return Evaluator(Scope()).evaluate(a.expr)


# -- literals ------------------------------------------------------------------------------


def test_integer_literals_carry_full_precision() -> None:
    e = parse_expression("42")
    assert isinstance(e, Literal) and e.value == 42 and isinstance(e.value, Int512)
    assert value("007") == 7


@pytest.mark.parametrize(
    ("src", "text"),
    [("1.5", "1.5"), ("1.5e3", "1500"), ("2e-3", "0.002"), ("1.0", "1"), ("0.1", "0.1")],
)
def test_float_literals_read_as_terraform_reads_them(src: str, text: str) -> None:
    v = value(src)
    assert isinstance(v, (int, float)) and number_text(v) == text


def test_fractional_literal_is_exact_binary_value() -> None:
    v = value("0.1")
    assert isinstance(v, Num) and v == 0.1 and v.prec == 512


def test_literal_beyond_exact_range_is_unsupported_not_rounded() -> None:
    e = parse_expression("1e400")
    assert isinstance(e, Unsupported)
    assert isinstance(value("1e400"), Unknown)


@pytest.mark.parametrize(("src", "expected"), [("true", True), ("false", False), ("null", None)])
def test_keyword_literals(src: str, expected: object) -> None:
    assert value(src) == expected and value(src) is expected


# -- strings, escapes, templates --------------------------------------------------------------


def test_quoted_escapes() -> None:
    assert value(r'"tab\there \"q\" back\\slash nl\n"') == 'tab\there "q" back\\slash nl\n'
    assert value(r'"caf\u00e9 \U0001F600"') == "café \U0001f600"


def test_escaped_interpolation_and_directive_are_literal_text() -> None:
    assert value('"$${not.interpolated} and %%{not_directive}"') == (
        "${not.interpolated} and %{not_directive}"
    )
    assert value('"cost: $5 and 100%"') == "cost: $5 and 100%"


@pytest.mark.parametrize("escape", [r"\q", r"\x41", r"\u00", r"\a", "\\"])
def test_invalid_escape_is_an_input_error_with_file_and_line(escape: str) -> None:
    text = f'a = 1\nb = "{escape}"\n' if escape != "\\" else 'a = 1\nb = "x\\y"\n'
    with pytest.raises(InputError) as info:
        parse_hcl(text, "bad.tf")
    assert info.value.file == "bad.tf" and info.value.line == 2


def test_surrogate_escape_is_not_decided() -> None:
    assert isinstance(parse_expression(r'"\ud800"'), Unsupported)


def test_strings_are_nfc_normalised_like_cty() -> None:
    assert value(r'"e\u0301"') == "é"


def test_template_parts() -> None:
    e = parse_expression('"a-${var.x}-b"')
    assert isinstance(e, Template)
    assert e.parts[0] == "a-" and e.parts[2] == "-b"
    assert e.parts[1] == GetAttr(Name("var"), "x")


def test_interpolation_only_template_keeps_the_value() -> None:
    assert value('"${1 + 1}"') == 2
    assert value('"${true}"') is True
    assert value('"${[1]}"') == [1]
    assert value('"n=${1 + 1}"') == "n=2"


def test_template_directives_and_strip_markers_are_evaluated() -> None:
    assert attr_value('x = "%{if true}x%{else}y%{endif}"\n') == "x"
    assert attr_value('x = "a ${~ "b" ~} c"\n') == "abc"
    assert attr_value("x = <<EOT\na ${~ \"b\" ~} c\nEOT\n") == "abc\n"
    assert attr_value("x = <<EOT\n%{ for r in [1, 2] }${r},%{ endfor }\nEOT\n") == "1,2,\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('x = "%{ endif }"\n', "unexpected %{ endif } directive"),
        ('x = "%{ if true }a"\n', "unterminated %{ if } directive"),
        ('x = "%{ if true }a%{ endfor }"\n', "unexpected %{ endfor } directive"),
        ('x = "%{ else }"\n', "unexpected %{ else } directive"),
        ("x = <<EOT\n%{ for x in [1] }\nEOT\n", "unterminated %{ for } directive"),
    ],
)
def test_misplaced_directives_are_errors_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_hcl(text, "t.tf")
    assert info.value.line == 1 and message in info.value.message


# -- heredocs ---------------------------------------------------------------------------------


def test_heredoc_keeps_text_verbatim() -> None:
    text = 'x = <<EOT\nline one\n  indented ${"v"}\nno \\n escape, $${kept}, %%{kept}\nEOT\n'
    assert attr_value(text) == "line one\n  indented v\nno \\n escape, ${kept}, %{kept}\n"


def test_empty_heredoc() -> None:
    assert attr_value("x = <<EOT\nEOT\n") == ""


def test_flush_heredoc_trims_the_smallest_indentation() -> None:
    text = "x = <<-EOT\n    first\n      second\n    third ${2}\n  EOT\n"
    assert attr_value(text) == "first\n  second\nthird 2\n"


def test_flush_heredoc_ignores_and_keeps_blank_lines() -> None:
    assert attr_value("x = <<-EOT\n    a\n\n      b\n    EOT\n") == "a\n\n  b\n"
    assert attr_value("x = <<-EOT\n    a\n   \n    b\n    EOT\n") == "a\n   \nb\n"


def test_flush_heredoc_line_starting_with_interpolation_stops_trimming() -> None:
    text = 'x = <<-EOT\n    x\n${"r"}\n    y\n  EOT\n'
    assert attr_value(text) == "    x\nr\n    y\n"


def test_flush_heredoc_counts_tabs_as_one_character() -> None:
    assert attr_value("x = <<-EOT\n\ttabbed\n\t  more\n\tEOT\n") == "tabbed\n  more\n"


def test_heredoc_at_end_of_file_without_newline() -> None:
    assert attr_value("x = <<EOT\nabc\nEOT") == "abc\n"


# -- traversals and splats ------------------------------------------------------------------


def test_full_splat_applies_index_to_each_element() -> None:
    e = parse_expression("var.objs[*].tags[0]")
    assert isinstance(e, Splat) and e.full
    assert [k for k, _ in e.ops] == ["attr", "index"]


def test_legacy_splat_applies_index_to_the_result() -> None:
    e = parse_expression("var.objs.*.tags[0]")
    assert isinstance(e, Index) and isinstance(e.obj, Splat)
    assert not e.obj.full and e.obj.ops == (("attr", "tags"),)


def test_parenthesised_splat_is_indexed_as_a_whole() -> None:
    e = parse_expression("(var.objs[*].region)[0]")
    assert isinstance(e, Index) and isinstance(e.obj, Splat)


# -- structure, comments, errors ------------------------------------------------------------


def test_blocks_attributes_and_lines() -> None:
    f = parse_hcl('a = 1\n\nresource "t" "n" {\n  region = "x"\n}\n', "m.tf")
    assert f.body.attributes[0].line == 1
    b = f.body.blocks[0]
    assert (b.type, b.labels, b.line, b.end_line) == ("resource", ("t", "n"), 3, 5)
    assert b.body.attributes[0].line == 4


def test_comments_are_kept_with_their_lines() -> None:
    text = '# top\nresource "t" "n" { # trailing\n  // inside\n  region = "x" /* block */\n}\n'
    f = parse_hcl(text, "c.tf")
    got = {(c.line, c.text) for c in f.comments}
    assert (1, "# top") in got
    assert (2, "# trailing") in got
    assert (3, "// inside") in got
    assert any(line == 4 and t.startswith("/* block */") for line, t in got)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('a = 1\nb = "open\n', 2),
        ("a = 1\nb = 1 +\n", 3),
        ("a = 1\n\nb = [1, 2\n", 3),  # terraform: "Unterminated tuple constructor", line 3
        ("a = 1\nb = { x = 1 y = 2 }\n", 2),
        ("a = 1\na = 2\n", 2),
    ],
)
def test_syntax_errors_name_file_and_line(text: str, line: int) -> None:
    with pytest.raises(InputError) as info:
        parse_hcl(text, "broken.tf")
    assert info.value.file == "broken.tf"
    assert info.value.line == line
    assert str(info.value).startswith(f"broken.tf:{line}: ")


def test_object_items_need_a_separator() -> None:
    assert attr_value("x = {a = 1, b = 2}\n") == {"a": 1, "b": 2}
    assert attr_value("x = {\n  a = 1\n  b = 2\n}\n") == {"a": 1, "b": 2}
    assert attr_value("x = {a = 1 # c\n b = 2}\n") == {"a": 1, "b": 2}


def test_nul_byte_is_an_input_error_with_line() -> None:
    with pytest.raises(InputError) as info:
        parse_hcl('a = 1\nb = "x\x00y"\n', "nul.tf")
    assert (info.value.file, info.value.line) == ("nul.tf", 2)
    assert "NUL" in info.value.message


@pytest.mark.parametrize("depth", [60, 400, 3000])
def test_deep_nesting_never_crashes(depth: int) -> None:
    text = "x = " + "[" * depth + "1" + "]" * depth + "\n"
    try:
        f = parse_hcl(text, "deep.tf")
    except InputError as exc:
        assert exc.file == "deep.tf"
        return
    a = f.body.attr("x")
    assert a is not None
    v = Evaluator(Scope()).evaluate(a.expr)
    if depth <= 60:
        inner = v
        for _ in range(depth):
            assert isinstance(inner, list)
            inner = inner[0]
        assert inner == 1
    else:
        assert isinstance(v, Unknown)


def test_deep_parentheses_never_crash() -> None:
    text = "x = " + "(" * 2000 + "1" + ")" * 2000 + "\n"
    try:
        f = parse_hcl(text, "deep.tf")
    except InputError as exc:
        assert exc.file == "deep.tf"
        return
    a = f.body.attr("x")
    assert a is not None
    v = Evaluator(Scope()).evaluate(a.expr)
    assert v == 1 or isinstance(v, Unknown)


def test_parse_expression_rejects_more_than_one_expression() -> None:
    with pytest.raises(InputError):
        parse_expression("1\ny = 2")


def test_a_heredoc_value_ends_its_object_item() -> None:
    # the heredoc token carries its own newline: the next item needs no other separator
    # (terraform-aws-modules/eks writes node configs this way)
    text = 'locals {\n  x = [{\n    a = <<-EOT\n      hello\n    EOT\n    b = "c"\n  }]\n}\n'
    f = parse_hcl(text, "heredoc.tf")
    obj = f.body.blocks[0].body.attributes[0].expr.items[0]  # type: ignore[attr-defined]
    assert [k.value for k, _ in obj.items] == ["a", "b"]
    with pytest.raises(InputError):
        parse_hcl('locals {\n  y = { a = 1 b = 2 }\n}\n', "same-line.tf")
