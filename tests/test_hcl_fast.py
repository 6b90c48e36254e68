"""The hand-written HCL reader against python-hcl2's grammar: same trees, or it steps aside.

``parse_fast`` may only ever (a) return exactly the tree the Lark path folds, or (b) raise
``Fallback``. It must never accept what the Lark path rejects, and on ordinary Terraform it must
not fall back (or it buys no speed).
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ciiguard.errors import InputError
from ciiguard.parsers.terraform.hcl.nodes import HclFile
from ciiguard.parsers.terraform.hcl.reader import Fallback, parse_fast, parse_hcl, parse_hcl_lark

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))


def _lark(text: str) -> HclFile | InputError:
    try:
        return parse_hcl_lark(text, "t.tf")
    except InputError as exc:
        return exc


def _fast(text: str) -> HclFile | None:
    try:
        return parse_fast(text, "t.tf")
    except Fallback:
        return None


# python-hcl2's lexer has no strip markers on interpolations (``${~ x ~}``), which terraform
# reads: only there may the fast reader accept what the grammar rejects (the syntax fixtures
# hold both to terraform itself, tests/test_syntax_differential.py).
STRIP_MARKER = re.compile(r"\$\{~|~\}")


def agree(text: str) -> bool:
    """Assert the two readers agree; return whether the fast one read the text itself."""
    fast, lark = _fast(text), _lark(text)
    if fast is None:
        return False
    if isinstance(lark, InputError) and STRIP_MARKER.search(text):
        return True
    assert not isinstance(lark, InputError), f"fast reader accepted what Lark rejects: {lark}"
    assert fast == lark
    return True


def _hcl_files() -> list[Path]:
    out = []
    for base in (ROOT / "tests", ROOT / "examples"):
        out += [
            p for p in base.rglob("*") if p.suffix in (".tf", ".tfvars", ".hcl") and p.is_file()
        ]
    return sorted(out)


def test_every_hcl_file_in_the_repository_reads_the_same() -> None:
    files = _hcl_files()
    assert len(files) > 150
    fell_back = []
    for path in files:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        if not agree(text):
            fell_back.append(path)
    # only files the grammar rejects, or that use template directives, are left to Lark; and
    # the syntax fixtures, whose newlines where HCL ignores them are the reference path's job
    unusual = ROOT / "tests" / "fixtures" / "syntax"
    fell_back = [p for p in fell_back if unusual not in p.parents]
    for path in fell_back:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert isinstance(_lark(text), InputError) or "%{" in text, path
    assert len(fell_back) < 10


def test_generated_monorepo_reads_the_same_without_fallback(tmp_path: Path) -> None:
    from generate import generate

    generate(tmp_path, 400)
    files = sorted(tmp_path.rglob("*.tf")) + sorted(tmp_path.rglob("*.tfvars"))
    assert len(files) > 50
    for path in files:
        assert agree(path.read_text(encoding="utf-8")), path


READ_BY_FAST = [
    'a = 1\nb = "x"\nc = true\nd = null\ne = 1.5e3\n',
    "x = -7 % 3\ny = - 77\nz = -77\nw = -7.5\nv = 2 * -1\nu = [1, -22]\nt = f(-10)\n",
    "x = a-1\ny = a - 1\nz = 5-1\n",
    'x = "a${var.b}c$${d}e%%{f}g\\n\\u00e9"\n',
    'x = "e\\u0301"\ny = "\u00e9"\n',
    "x = <<EOF\nhello ${var.x}\nEOF\ny = 2\n",
    "x = <<-EOT\n    a\n      b\n    EOT\n",
    'x = { a = 1, "b" = 2, (var.k) = 3, c: 4, true = 5, in = 6, for = 7 }\n',
    "x = {\n  a = 1 + 2\n  b = 3\n}\n",
    "x = {\n  a = <<EOF\ntext\nEOF\n  b = 3\n}\n",
    'x = [for k, v in var.m : upper(v) if v != ""]\n',
    'x = {for k, v in var.m : k => v...}\ny = {\n  for s in var.l :\n  s => s\n  if s != ""\n}\n',
    "x = var.a[*].b.c[0]\ny = var.a.*.b[0].c\nz = var.l[0][1].x\nw = var.l.0.name\n",
    "x = provider::terraform::encode_tfvars(var.x)\ny = f(var.list...)\nz = f(\n  1,\n  2,\n)\n",
    'x = core::upper("a")\ny = a::b::c::d(1)\nz = core::try(var.x, 1)\n',
    "x = a ? b : c ? d : e\ny = a == b && c || !d\nz = (1 + 2) * 3 / 4 % 5\n",
    "x = a ?\n  b :\n  c\n",
    'resource "aws_s3_bucket" "b" {\n  bucket = "x" # c1\n  // c2\n  /* c3 */\n}\n',
    'resource "a" "b" { x = 1 }\nmodule m {\n  source = "./m"\n}\n',
    'a "${x}" {\n}\nb "x" "y" "z"\n{\n}\n',
    "x = 1 # tail\n/* multi\nline */\ny = 2\n",
    "x = [\n  1, # one\n  2\n]\n",
    'locals {\n  x = var.a == "b" # c\n  y = 1\n}\n',
    "x = a.true.null\ny = var.x.for\n",
    "x = 1\r\ny = [\r\n  2\r\n]\r\n",
    'x = "%{if a}b%{else}c%{endif}"\ny = "%{ for k, v in m ~} ${k}=${v} %{~ endfor }"\n',
    'x = "a%{~ if b ~}c%{~ endif ~}d"\n',
    "",
    "# only a comment",
]


@pytest.mark.parametrize("text", READ_BY_FAST)
def test_reads_the_same_as_lark(text: str) -> None:
    assert agree(text), "fell back on ordinary syntax"


LEFT_TO_LARK = [
    'x = "multi\nline"\n',  # python-hcl2 accepts a newline inside quotes
    "x = a\n|| b\n",  # python-hcl2 merges the newline into the operator
    "x = a\n? b : c\n",
    "x = a /* c */ + b\n",  # a block comment is a newline token there, merged likewise
    "x = 1 -77\n",  # python-hcl2 lexes -77 as one literal there: an error
    "x = - -7\n",
    "x = -1-2.5\n",
    "x = a.0.1\n",
    "x = { a = 1 b = 2 }\n",  # missing separator: the Lark path names it
    "x = 1\nx = 2\n",  # redefinition
    'x = "\\q"\n',  # invalid escape
    "x = f(a\n...)\n",
    "x = f(a\n,)\n",
    "x = {\n  a =\n  1\n}\n",
    "x = [1\n2]\n",
    "x = ${a}\n",
    "x = [for in in y : in]\n",
    "x = true(1)\n",
    "x = 1abc\n",
    "x = (\n)\n",
    'x = "unterminated\n',
    "x = <<EOF\nno end\n",
]


@pytest.mark.parametrize("text", LEFT_TO_LARK)
def test_leaves_the_unusual_to_lark(text: str) -> None:
    assert _fast(text) is None
    # and parse_hcl still gives the Lark path's answer
    lark = _lark(text)
    if isinstance(lark, InputError):
        with pytest.raises(InputError) as err:
            parse_hcl(text, "t.tf")
        assert err.value.message == lark.message and err.value.line == lark.line
    else:
        assert parse_hcl(text, "t.tf") == lark


def test_comments_and_end_lines_agree() -> None:
    text = "b {\n  x = 1 + 2 # after\n  y = [\n    3, # inside\n  ]\n  z = <<EOF\nq\nEOF\n}\n"
    fast = _fast(text)
    assert fast is not None and fast == _lark(text)
    assert [(c.line, c.text) for c in fast.comments] == [(2, "# after"), (4, "# inside")]
    x, y, z = fast.body.blocks[0].body.attributes
    assert (x.line, x.end_line, y.end_line, z.end_line) == (2, 2, 5, 8)


_VOCAB = [
    "a", "b", "var", ".", "x", "=", "==", "!=", "<", ">=", "+", "-", "*", "/", "%", "&&", "||",
    "!", "?", ":", "(", ")", "[", "]", "{", "}", ",", "...", ".*", "[*]", "=>", "::", "for",
    "in", "if", "true", "null", "1", "22", "1.5", '"s"', '"${', "}\"", '"$${x}"', "\n", " ",
    "# c\n", "/* c */", "<<EOF\nt\nEOF\n", "f(", "resource", '"r"',
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_VOCAB), max_size=25))
def test_token_soup_is_never_read_differently(tokens: list[str]) -> None:
    text = "x = " + " ".join(tokens) + "\n"
    agree(text)


@settings(max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False))
def test_mutated_real_files_are_never_read_differently(rnd: random.Random) -> None:
    files = [p for p in _hcl_files() if p.stat().st_size < 4000]
    text = rnd.choice(files).read_text(encoding="utf-8", errors="replace")
    for _ in range(rnd.randint(1, 3)):
        i = rnd.randrange(len(text) + 1)
        op = rnd.random()
        if op < 0.4:
            text = text[:i] + text[i + 1 :]
        elif op < 0.8:
            text = text[:i] + rnd.choice('{}[]()",=.\n-#*?:$%<~\\') + text[i:]
        else:
            j = rnd.randrange(len(text) + 1)
            text = text[:i] + text[j : j + 20] + text[i:]
    agree(text)
