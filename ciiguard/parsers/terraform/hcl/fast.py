"""A hand-written HCL reader for the syntax Terraform code is made of: the fast path of ``parse_hcl``.

python-hcl2's Lark grammar stays the reference: this reader builds the very ``hcl_ast`` nodes the
Lark path folds, and it gives up (``Fallback``) on anything it is not sure the Lark path would
read the same way: template directives, strip markers, multi-line quoted strings, a newline
merged into a following operator, legacy number forms, syntax errors. ``parse_hcl`` then runs the
Lark path, which either reads the file or names the error. So the fast path can only make a
parse faster, never change what a file means or which files are rejected;
``tests/test_hcl_fast.py`` holds the two paths to the same trees over every HCL file in the
repository, the generated benchmark trees and fuzzed input.

It mirrors the python-hcl2 grammar where that grammar is looser than Terraform (for example, a
block comment counts as a newline there), because changing what is accepted is not its job.
"""

from __future__ import annotations

import re
from array import array
from sys import intern as _intern

from ciiguard.errors import InputError
from ciiguard.parsers.terraform.hcl.nodes import (
    Attribute,
    BinaryOp,
    Block,
    Body,
    Call,
    Comment,
    Conditional,
    Expr,
    ForExpr,
    GetAttr,
    HclFile,
    Index,
    Literal,
    Name,
    ObjectExpr,
    Splat,
    TupleExpr,
    UnaryOp,
    Unsupported,
)
from ciiguard.parsers.terraform.hcl.templates import (
    BadEscape,
    ExpressionParser,
    Piece,
    SurrogateEscape,
    assemble,
    heredoc,
    unescape,
)
from ciiguard.parsers.terraform.numbers import NotDecided, parse_number


class Fallback(Exception):
    """The fast reader is not sure: let the Lark path decide."""


# Every pattern takes the blanks before its token along (the token's own group gives its text
# and start): the regex engine skips indentation in one step, not one failed match per blank.
_MAIN = re.compile(
    r"[ \t\r]*(?:(?P<nl>\n)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*)"
    r'|(?P<str>"[^"\\\n$%]*")'
    r"|(?P<comment>\#[^\n]*|//[^\n]*)"
    r"|(?P<bc>/\*(?:.|\n)*?\*/)"
    r"|(?P<heredoc><<-?(?=[A-Za-z]))"
    r"|(?P<op>\.\.\.|\.\*|\[\*\]|=>|==|!=|<=|>=|&&|\|\||::|[-+*/%<>!?:=.,()\[\]{}~])"
    r"|(?P<num>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r'|(?P<tpl>")'
    r"|(?P<bad>[^ \t\r]))"
)
# python-hcl2's own terminals, so quoted strings and heredocs split exactly where Lark splits them
_STRING_CHARS = re.compile(
    r"(?:(?!\$\$\{)(?!\$\{)(?!%%\{)(?!%\{)[^\"\\]|\\.|(?:\$(?!\$?\{))|(?:%(?!%?\{)))+"
)
_ESCAPED = re.compile(r"\$\$\{[^}]*\}|%%\{[^}]*\}")
_HEREDOC = re.compile(
    r"<<(?P<heredoc>[a-zA-Z][a-zA-Z0-9._-]*)\r?\n(?:(?:.|\n)*?\r?\n)??\s*(?P=heredoc)\r?\n"
    r"|<<-(?P<heredoc_trim>[a-zA-Z][a-zA-Z0-9._-]*)\r?\n(?:(?:.|\n)*?\r?\n)??\s*(?P=heredoc_trim)\r?\n"
)

_NL = frozenset({"nl", "bc"})
# python-hcl2's post-lexer merges a newline into these operators (a line continuation there);
# the fast path leaves every such case to the Lark path.
_OPS_AFTER_NL = frozenset({"==", "!=", "<", ">", "<=", ">=", "*", "/", "%", "&&", "||", "+", "?"})
_PREC = {
    "||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4,
    "+": 5, "-": 5, "*": 6, "/": 6, "%": 6,
}  # fmt: skip
_LITERALS = {"true": True, "false": False, "null": None}
_LOOP_WORDS = frozenset({"in", "for", "if"})


def parse_fast(text: str, path: str, expression: ExpressionParser) -> HclFile:
    """Parse HCL source, or raise ``Fallback`` when the Lark path must decide.

    ``expression`` parses the interpolations of heredocs (``reader.parse_expression``).
    """
    try:
        return _Parser(text + "\n", path, expression).file()
    except (Fallback, InputError, RecursionError, ValueError, IndexError, KeyError):
        raise Fallback from None


def _num(text: str) -> Expr:
    try:
        return Literal(parse_number(text))
    except NotDecided:
        return Unsupported(f"number literal {text[:20]}")


class _Parser:
    def __init__(self, text: str, path: str, expression: ExpressionParser) -> None:
        self.text = text
        self.path = path
        self.expression = expression
        self.kinds: list[str] = []
        self.vals: list[object] = []
        # Token positions as machine integers, not a list of int objects: a 15 MB file has about
        # 3 million tokens, and its parse peaked 70 MB higher with lists.
        self.lines = array("q")
        self.ends = array("q")  # the line each token ends on (heredocs and comments span)
        self.starts = array("q")
        self.comments: list[Comment] = []
        self.strings: dict[str, Literal] = {}  # one node per distinct quoted string (immutable)
        self.line = 1
        self._code(0, False)
        for _ in range(2):  # the end, and a lookahead past it, stay "eof"
            self.kinds.append("eof")
            self.vals.append(None)
            self.lines.append(self.line)
            self.ends.append(self.line)
            self.starts.append(len(text))
        self.p = 0

    # -- lexer -----------------------------------------------------------------------------
    def _emit(self, kind: str, value: object, start: int, end_line: int | None = None) -> None:
        self.kinds.append(kind)
        self.vals.append(value)
        self.lines.append(self.line)
        self.ends.append(self.line if end_line is None else end_line)
        self.starts.append(start)

    def _code(self, pos: int, interp: bool) -> int:
        """Tokens of code from ``pos``; in an interpolation, up to and including its ``}``."""
        text = self.text
        kinds, vals, lines, ends, starts = self.kinds, self.vals, self.lines, self.ends, self.starts
        depth = 0
        while True:
            line = self.line
            resume = -1
            for m in _MAIN.finditer(text, pos):
                kind = m.lastgroup
                index = m.lastindex or 0
                if kind == "nl":
                    kinds.append("nl")
                    vals.append(None)
                    lines.append(line)
                    ends.append(line)
                    starts.append(m.start(index))
                    line += 1
                    continue
                if kind == "op":
                    kind = m.group(index)
                    if interp and kind == "~" and depth == 0:  # a strip marker: "~}" ends it
                        close = m.end()
                        while text[close] in " \t":
                            close += 1
                        if text[close] != "}":
                            raise Fallback
                        self.line = line
                        self._emit("iend", "~", m.start(index))
                        return close + 1
                    if interp and kind in "{}":
                        if kind == "{":
                            depth += 1
                        elif depth == 0:
                            self.line = line
                            self._emit("iend", "", m.start(index))
                            return m.end()
                        else:
                            depth -= 1
                elif kind == "str":
                    kinds.append("str")
                    # one object per distinct short string (tag keys and values, types, regions
                    # repeat in every block): a big file's trees and resources share them
                    value = m.group(index)[1:-1]
                    vals.append(_intern(value) if len(value) <= 64 else value)
                    lines.append(line)
                    ends.append(line)
                    starts.append(m.start(index))
                    continue
                elif kind == "comment":
                    self.comments.append(Comment(line, m.group(index).strip()))
                    continue
                elif kind == "bc":
                    raw = m.group(index)
                    self.comments.append(Comment(line, raw.strip()))
                    n = raw.count("\n")
                    kind = "nl" if n else "bc"
                    kinds.append(kind)
                    vals.append(None)
                    lines.append(line)
                    ends.append(line + n)
                    starts.append(m.start(index))
                    line += n
                    continue
                elif kind == "heredoc" or kind == "tpl":
                    self.line = line
                    resume = (
                        self._heredoc(m.start(index)) if kind == "heredoc" else self._template(m)
                    )
                    break
                elif kind != "name" and kind != "num":
                    raise Fallback
                kinds.append(str(kind))
                vals.append(_intern(m.group(index)))
                lines.append(line)
                ends.append(line)
                starts.append(m.start(index))
            if resume < 0:
                break
            pos = resume
        if interp:
            raise Fallback  # the text ended inside an interpolation
        self.line = line
        return len(text)

    def _heredoc(self, start: int) -> int:
        m = _HEREDOC.match(self.text, start)
        if m is None:
            raise Fallback
        raw = m.group()
        n = raw.count("\n")
        self._emit("heredoc", raw, start, self.line + n - 1)
        self.line += n
        return m.end()

    def _template(self, quote: re.Match[str]) -> int:
        """A quoted string with escapes or interpolations, as tbeg / parts / tend tokens."""
        text = self.text
        self._emit("tbeg", None, quote.start(quote.lastindex or 0))
        pos = quote.end()
        while True:
            ch = text[pos]
            if ch == '"':
                self._emit("tend", None, pos)
                return pos + 1
            if ch == "$" or ch == "%":
                if text.startswith("${", pos) or text.startswith("%{", pos):
                    strip = text[pos + 2] == "~"
                    self._emit("ibeg" if ch == "$" else "dbeg", "~" if strip else "", pos)
                    pos = self._code(pos + 3 if strip else pos + 2, True)
                    continue
                m = _ESCAPED.match(text, pos)
                if m is not None:
                    if "\n" in m.group():
                        raise Fallback
                    self._emit("tesc", m.group()[1:], pos)
                    pos = m.end()
                    continue
            m = _STRING_CHARS.match(text, pos)
            if m is None or "\n" in m.group():
                raise Fallback
            self._emit("tchars", m.group(), pos)
            pos = m.end()

    # -- parser ----------------------------------------------------------------------------
    def skip_nl(self) -> None:
        kinds = self.kinds
        p = self.p
        if kinds[p] in _NL:
            p += 1
            while kinds[p] in _NL:
                p += 1
            if kinds[p] in _OPS_AFTER_NL:
                raise Fallback
            self.p = p

    def expect(self, kind: str) -> None:
        if self.kinds[self.p] != kind:
            raise Fallback
        self.p += 1

    def file(self) -> HclFile:
        body = self.body(True)
        return HclFile(path=self.path, body=body, comments=tuple(self.comments))

    def body(self, top: bool) -> Body:
        kinds, vals = self.kinds, self.vals
        attrs: list[Attribute] = []
        blocks: list[Block] = []
        names: set[str] = set()
        while True:
            self.skip_nl()
            p = self.p
            kind = kinds[p]
            if kind != "name":
                if kind == ("eof" if top else "}"):
                    break
                raise Fallback
            if kinds[p + 1] == "=":
                name = vals[p]
                assert isinstance(name, str)
                self.p = p + 2
                expr = self.expr()
                if name in names:
                    raise Fallback  # the Lark path names the redefinition
                names.add(name)
                line, end = self.lines[p], self.ends[self.p - 1]
                attrs.append(Attribute(name, expr, line, line if end == line else end))
            else:
                blocks.append(self.block())
            kind = kinds[self.p]
            if kind not in _NL and kind != "eof" and kind != "}" and kinds[self.p - 1] != "heredoc":
                raise Fallback  # (a heredoc's token ends with its own newline)
        return Body(tuple(attrs), tuple(blocks))

    def block(self) -> Block:
        kinds, vals = self.kinds, self.vals
        start = self.p
        btype = vals[start]
        assert isinstance(btype, str)
        self.p += 1
        labels: list[str] = []
        while True:
            kind = kinds[self.p]
            if kind == "name":
                labels.append(str(vals[self.p]))
                self.p += 1
            elif kind == "str" or kind == "tbeg":
                label = self.term_string()
                labels.append(label.value if isinstance(label, Literal) else "")  # type: ignore[arg-type]
            elif kind == "{":
                break
            elif kind in _NL:
                self.skip_nl()
                if kinds[self.p] != "{":
                    raise Fallback
                break
            else:
                raise Fallback
        self.p += 1
        body = self.body(False)
        end = self.lines[self.p]
        self.expect("}")
        return Block(btype, tuple(labels), body, self.lines[start], end)

    # -- expressions -----------------------------------------------------------------------
    def string(self, text: str) -> Literal:
        """A quoted string without interpolations: tag keys and values, types and regions repeat
        in every block, and a big file's tree holds one node for each distinct one."""
        node = self.strings.get(text)
        if node is None:
            node = self.strings[text] = Literal(_nfc(text))
        return node

    def expr(self) -> Expr:
        cond = self.binary(1)
        if self.kinds[self.p] != "?":
            return cond
        self.p += 1
        self.skip_nl()
        if_true = self.expr()
        self.skip_nl()
        self.expect(":")
        self.skip_nl()
        return Conditional(cond, if_true, self.expr())

    def binary(self, min_prec: int) -> Expr:
        left = self.unary()
        kinds = self.kinds
        while True:
            op = kinds[self.p]
            prec = _PREC.get(op, 0)
            if prec < min_prec:
                return left
            if op == "-" and self._negative_literal():
                raise Fallback  # python-hcl2 lexes ``a -10`` as ``a`` then the number -10
            self.p += 1
            self.skip_nl()
            left = BinaryOp(op, left, self.binary(prec + 1))

    def unary(self) -> Expr:
        kind = self.kinds[self.p]
        if (kind == "-" and not self._negative_literal()) or kind == "!":
            self.p += 1
            return UnaryOp(kind, self.term())
        return self.term()

    def _negative_literal(self) -> bool:
        """Whether python-hcl2 lexes this ``-`` and the number after it as one negative literal:
        it does when they touch and the number has two digits or more, a fraction or an
        exponent (its INT_LITERAL is ``-`` digit digit+); ``-7`` stays minus and 7."""
        p = self.p
        return (
            self.kinds[p + 1] == "num"
            and self.starts[p + 1] == self.starts[p] + 1
            and len(str(self.vals[p + 1])) > 1
        )

    def term(self) -> Expr:
        kinds, vals = self.kinds, self.vals
        p = self.p
        kind = kinds[p]
        e: Expr
        if kind == "name":
            v = vals[p]
            assert isinstance(v, str)
            nxt = kinds[p + 1]
            if v in _LITERALS:
                e = Literal(_LITERALS[v])
                self.p = p + 1
            elif nxt == "(" or nxt == "::":
                e = self.call()
            else:
                e = Name(v)
                self.p = p + 1
        elif kind == "str":
            v = vals[p]
            assert isinstance(v, str)
            e = self.string(v)
            self.p = p + 1
        elif kind == "num" or (kind == "-" and self._negative_literal()):
            q = p + 1 if kind == "-" else p
            v = str(vals[q])
            after = self.text[self.starts[q] + len(v)]
            if after == "." or after.isalnum() or after == "_" or (after == "-" and kind == "-"):
                raise Fallback  # python-hcl2 lexes these neighbourhoods into other literals
            if (
                kind == "num"
                and p > 0
                and self.kinds[p - 1] == "-"
                and self.starts[p - 1] == (self.starts[p] - 1)
                and len(v) > 1
            ):
                raise Fallback  # ``- -10`` and the like: the Lark path decides
            e = _num("-" + v if kind == "-" else v)
            self.p = q + 1
        elif kind == "tbeg":
            e = self.term_string()
        elif kind == "(":
            self.p = p + 1
            self.skip_nl()
            e = self.expr()
            self.skip_nl()
            self.expect(")")
        elif kind == "[":
            e = self.tuple()
        elif kind == "{":
            e = self.object()
        elif kind == "heredoc":
            raw = vals[p]
            assert isinstance(raw, str)
            e = heredoc(raw, raw.startswith("<<-"), self.lines[p], self.path, self.expression)
            self.p = p + 1
        else:
            raise Fallback
        return self.postfix(e)

    def postfix(self, e: Expr) -> Expr:
        kinds = self.kinds
        while True:
            kind = kinds[self.p]
            if kind == ".":
                e = (
                    GetAttr(e, self.attr_name())
                    if kinds[self.p + 1] == "name"
                    else Index(e, self.short_index())
                )
            elif kind == "[":
                e = Index(e, self.bracket_index())
            elif kind == ".*" or kind == "[*]":
                self.p += 1
                ops: list[tuple[str, object]] = []
                while True:
                    k = kinds[self.p]
                    if k == ".":
                        if kinds[self.p + 1] == "name":
                            ops.append(("attr", self.attr_name()))
                        else:
                            ops.append(("index", self.short_index()))
                    elif k == "[":
                        ops.append(("index", self.bracket_index()))
                    else:
                        break
                if kind == "[*]":
                    e = Splat(e, tuple(ops), True)
                    continue
                # ``a.*.b[0]`` is ``(a.*.b)[0]``: the legacy splat carries attribute steps only
                cut = next((i for i, (k, _) in enumerate(ops) if k == "index"), len(ops))
                e = Splat(e, tuple(ops[:cut]), False)
                for k, arg in ops[cut:]:
                    e = GetAttr(e, str(arg)) if k == "attr" else Index(e, arg)  # type: ignore[arg-type]
            else:
                return e

    def attr_name(self) -> str:
        self.p += 2
        return str(self.vals[self.p - 1])

    def short_index(self) -> Expr:
        p = self.p + 1
        v = self.vals[p]
        if self.kinds[p] != "num" or not isinstance(v, str) or not v.isdigit():
            raise Fallback
        self.p = p + 1
        return Literal(int(v))

    def bracket_index(self) -> Expr:
        self.p += 1
        self.skip_nl()
        key = self.expr()
        self.skip_nl()
        self.expect("]")
        return key

    def call(self) -> Expr:
        kinds, vals = self.kinds, self.vals
        name = str(vals[self.p])
        self.p += 1
        while kinds[self.p] == "::":  # namespaced: core::upper(), provider::aws::arn_parse()
            if kinds[self.p + 1] != "name":
                raise Fallback
            name = f"{name}::{vals[self.p + 1]}"
            self.p += 2
        self.expect("(")
        self.skip_nl()
        args: list[Expr] = []
        expand = False
        if kinds[self.p] != ")":
            while True:
                args.append(self.expr())
                had_nl = kinds[self.p] in _NL
                self.skip_nl()
                kind = kinds[self.p]
                if kind == ",":
                    self.p += 1
                    self.skip_nl()
                    if kinds[self.p] == ")":
                        if had_nl:
                            raise Fallback
                        break
                    continue
                if kind == "...":
                    if had_nl:
                        raise Fallback
                    expand = True
                    self.p += 1
                    self.skip_nl()
                break
        self.expect(")")
        return Call(name, tuple(args), expand)

    def term_string(self) -> Expr:
        kinds, vals = self.kinds, self.vals
        if kinds[self.p] == "str":
            v = str(vals[self.p])
            self.p += 1
            return self.string(v)
        line = self.lines[self.p]
        self.p += 1  # tbeg
        pieces: list[Piece] = []
        while True:
            kind = kinds[self.p]
            if kind == "tchars":
                try:
                    pieces.append(Piece("lit", unescape(str(vals[self.p]))))
                except (BadEscape, SurrogateEscape):
                    raise Fallback from None
                self.p += 1
            elif kind == "tesc":
                pieces.append(Piece("lit", str(vals[self.p])))
                self.p += 1
            elif kind == "ibeg" or kind == "dbeg":
                left = vals[self.p] == "~"
                self.p += 1
                piece = self.directive() if kind == "dbeg" else Piece("expr", self.expr())
                if kinds[self.p] != "iend":
                    raise Fallback
                right = vals[self.p] == "~"
                self.p += 1
                pieces.append(Piece(piece.kind, piece.value, piece.names, left, right))
            elif kind == "tend":
                self.p += 1
                try:
                    return assemble(pieces, self.path, line)
                except InputError:
                    raise Fallback from None  # the grammar names a misplaced directive
            else:
                raise Fallback

    def directive(self) -> Piece:
        """What follows ``%{``: ``if EXPR``, ``else``, ``endif``, ``for [K,] V in EXPR``,
        ``endfor``."""
        kinds, vals = self.kinds, self.vals
        if kinds[self.p] != "name":
            raise Fallback
        word = vals[self.p]
        self.p += 1
        if word in ("else", "endif", "endfor"):
            return Piece(str(word))
        if word == "if":
            return Piece("if", self.expr())
        if word != "for" or kinds[self.p] != "name":
            raise Fallback
        names = [str(vals[self.p])]
        self.p += 1
        if kinds[self.p] == ",":
            if kinds[self.p + 1] != "name":
                raise Fallback
            names.append(str(vals[self.p + 1]))
            self.p += 2
        if kinds[self.p] != "name" or vals[self.p] != "in" or _LOOP_WORDS.intersection(names):
            raise Fallback
        self.p += 1
        return Piece("for", self.expr(), tuple(names))

    def tuple(self) -> Expr:
        kinds = self.kinds
        self.p += 1
        self.skip_nl()
        if kinds[self.p] == "name" and self.vals[self.p] == "for":
            return self.for_expr(False)
        items: list[Expr] = []
        while kinds[self.p] != "]":
            items.append(self.expr())
            self.skip_nl()
            if kinds[self.p] == ",":
                self.p += 1
                self.skip_nl()
            elif kinds[self.p] != "]":
                raise Fallback
        self.p += 1
        return TupleExpr(tuple(items))

    def object(self) -> Expr:
        kinds, vals = self.kinds, self.vals
        self.p += 1
        self.skip_nl()
        if (
            kinds[self.p] == "name"
            and vals[self.p] == "for"
            and kinds[self.p + 1] not in ("=", ":")
        ):
            return self.for_expr(True)
        items: list[tuple[Expr, Expr]] = []
        while kinds[self.p] != "}":
            p = self.p
            key: Expr
            if kinds[p] == "name" and (kinds[p + 1] == "=" or kinds[p + 1] == ":"):
                key = Literal(vals[p])
                self.p = p + 1
            else:
                key = self.expr()
            if kinds[self.p] != "=" and kinds[self.p] != ":":
                raise Fallback
            self.p += 1
            value = self.expr()
            items.append((key, value))
            separated = kinds[self.p - 1] == "heredoc"
            while kinds[self.p] in _NL:
                separated = separated or kinds[self.p] == "nl"
                self.p += 1
            if kinds[self.p] in _OPS_AFTER_NL:
                raise Fallback
            if kinds[self.p] == ",":
                separated = True
                self.p += 1
                self.skip_nl()
            if kinds[self.p] == "}":
                break
            if not separated:
                raise Fallback  # the Lark path names the missing separator
        self.p += 1
        return ObjectExpr(tuple(items))

    def for_expr(self, is_object: bool) -> Expr:
        kinds, vals = self.kinds, self.vals
        self.p += 1  # for
        self.skip_nl()
        names: list[str] = []
        if kinds[self.p] != "name":
            raise Fallback
        names.append(str(vals[self.p]))
        self.p += 1
        if kinds[self.p] == ",":
            if kinds[self.p + 1] != "name":
                raise Fallback
            names.append(str(vals[self.p + 1]))
            self.p += 2
        if _LOOP_WORDS.intersection(names):
            raise Fallback
        self.skip_nl()
        if kinds[self.p] != "name" or vals[self.p] != "in":
            raise Fallback
        self.p += 1
        self.skip_nl()
        collection = self.expr()
        self.skip_nl()
        self.expect(":")
        self.skip_nl()
        key: Expr | None = None
        grouping = False
        if is_object:
            key = self.expr()
            self.expect("=>")
            self.skip_nl()
        value = self.expr()
        self.skip_nl()
        if is_object and kinds[self.p] == "...":
            grouping = True
            self.p += 1
            self.skip_nl()
        cond: Expr | None = None
        if kinds[self.p] == "name" and vals[self.p] == "if":
            self.p += 1
            self.skip_nl()
            cond = self.expr()
            self.skip_nl()
        self.expect("}" if is_object else "]")
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        return ForExpr(key_var, value_var, collection, key, value, cond, grouping, is_object)


def _nfc(s: str) -> str:
    if s.isascii():
        return s
    import unicodedata

    return unicodedata.normalize("NFC", s)
