"""The reference HCL reader: python-hcl2's grammar, its Lark parse tree folded into ``nodes``.

It decides whatever the fast reader (``fast``) is not sure of, and names every syntax error.
"""

from __future__ import annotations

from typing import Any

from ciiguard.errors import InputError
from ciiguard.parsers.nesting import deepest_line
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

_PARSER: Any = None


def lark_parser() -> Any:
    """python-hcl2's grammar and post-lexer in a Lark LALR parser without position propagation.

    hcl2's own parser propagates positions into every tree node, which costs about a third of the
    parse; lines are read from the tokens instead (``_first_line``/``_last_line``). Built once per
    process (workers inherit it), with Lark's grammar cache in the temp directory.
    """
    global _PARSER
    if _PARSER is None:
        from importlib.resources import files

        from lark import Lark

        grammar = _namespaced_calls(files("hcl2").joinpath("hcl2.lark").read_text(encoding="utf-8"))
        try:
            _PARSER = Lark(
                grammar,
                parser="lalr",
                propagate_positions=False,
                postlex=_newline_aware_postlexer(),
                cache=True,
            )
        except OSError:  # an unwritable temp directory: build without the grammar cache
            _PARSER = Lark(
                grammar,
                parser="lalr",
                propagate_positions=False,
                postlex=_newline_aware_postlexer(),
            )
    return _PARSER


_HCL2_CALL = "identifier (COLONS identifier COLONS identifier)? LPAR"


def _namespaced_calls(grammar: str) -> str:
    """HCL reads ``a::b::...(`` with any number of namespace parts (``core::upper(...)``, Terraform
    1.8+); python-hcl2's rule allows exactly three, so the rule is widened where it is found."""
    return grammar.replace(_HCL2_CALL, "identifier (COLONS identifier)* LPAR")


# Where HCL ignores newlines (hclsyntax's parser turns newline tokens off): inside parentheses,
# brackets, template interpolations and for-expressions. python-hcl2's grammar only allows them
# at some of those places, so valid Terraform such as ``[try\n("a", "b")]`` or a for-object
# with a newline before ``=>`` was rejected. Pure newlines there are dropped before the
# grammar sees them; a comment keeps its token (its text is needed for suppressions).
_OPENERS = {"LPAR": ")", "LSQB": "]", "INTERP_START": "}", "LBRACE": "}", "DIRECTIVE_START": "}"}
_CLOSERS = {"RPAR", "RSQB", "RBRACE"}


def _insignificant_newlines(stream: Any) -> Any:
    """Drop newline-only tokens where HCL ignores newlines (see above). Tokens are passed on
    one by one, never held back: Lark's contextual lexer reads each token in the parser state
    the tokens before it left."""
    stack: list[bool] = []  # per open bracket: are newlines insignificant inside it?
    after_brace = False  # the last significant token opened a "{": a "for" makes it a for-object
    for token in stream:
        kind = token.type
        if kind == "NL_OR_COMMENT":
            if not token.strip() and stack and stack[-1]:
                continue
            yield token
            continue
        if after_brace and kind == "FOR":
            stack[-1] = True
        after_brace = kind == "LBRACE"
        if kind in _OPENERS:
            stack.append(kind in ("LPAR", "LSQB", "INTERP_START"))
        elif kind in _CLOSERS and stack:
            stack.pop()
        yield token


def _newline_aware_postlexer() -> Any:
    from hcl2.postlexer import PostLexer

    class NewlineAwarePostLexer(PostLexer):
        def process(self, stream: Any) -> Any:
            return super().process(_insignificant_newlines(stream))

    return NewlineAwarePostLexer()


def _first_line(tree: Any) -> int:
    """Line of the first token under a parse-tree node."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if not hasattr(node, "data"):
            return int(node.line)
        stack.extend(reversed(node.children))
    return 0


def _last_line(tree: Any) -> int:
    """Line on which the last token under a parse-tree node ends, newlines and comments aside.

    python-hcl2 hangs a binary operation's trailing newlines (and the comments among them) under
    the operation, and a heredoc token ends with its own newline: neither belongs to the extent.
    """
    stack = [tree]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if hasattr(node, "data"):
            if node.data != "new_line_or_comment":
                stack.extend(node.children)
            continue
        if node.type == "NL_OR_COMMENT":
            continue
        end = int(node.end_line if node.end_line is not None else node.line)
        return end - 1 if str(node).endswith("\n") else end
    return 0


def parse_lark(text: str, path: str, expression: ExpressionParser) -> HclFile:
    """The reference path: python-hcl2's grammar, folded into ``nodes``.

    ``expression`` parses the interpolations of heredocs (``reader.parse_expression``).
    """
    from lark.exceptions import LarkError, UnexpectedInput

    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(path, line, "NUL byte in HCL source")
    try:
        # the trailing newline is python-hcl2's own workaround (lark-parser/lark#237)
        tree = lark_parser().parse(text + "\n")
    except UnexpectedInput as exc:
        err_line: Any = getattr(exc, "line", None)
        raise InputError(
            path,
            err_line if isinstance(err_line, int) and err_line > 0 else None,
            f"HCL syntax error: {_short_lark_message(exc)}",
        ) from None
    except RecursionError:
        raise InputError(path, deepest_line(text), "HCL nesting too deep to parse") from None
    except (LarkError, ValueError) as exc:
        raise InputError(path, None, f"HCL syntax error: {type(exc).__name__}") from None
    try:
        body = _Folder(path, expression).body(tree.children[0])
    except RecursionError:
        raise InputError(path, deepest_line(text), "HCL nesting too deep") from None
    return HclFile(path=path, body=body, comments=_comments(tree))


# python-hcl2's post-lexer prefixes these operator tokens with the newline or comment before them
_MERGED_OPERATORS = {
    "DOUBLE_EQ": "==", "NEQ": "!=", "LT": "<", "GT": ">", "LEQ": "<=", "GEQ": ">=",
    "ASTERISK": "*", "SLASH": "/", "PERCENT": "%", "DOUBLE_AMP": "&&", "DOUBLE_PIPE": "||",
    "PLUS": "+", "QMARK": "?",
}  # fmt: skip


def _comments(tree: Any) -> tuple[Comment, ...]:
    """Every comment in the file, wherever the grammar hung it, in source order."""
    found: list[tuple[int, int, Comment]] = []
    for tok in tree.scan_values(lambda v: not hasattr(v, "data")):
        text = str(tok)
        if tok.type == "NL_OR_COMMENT":
            line, pos = tok.line + (len(text) - len(text.lstrip("\n"))), tok.start_pos
        elif tok.type in _MERGED_OPERATORS and len(text) > len(_MERGED_OPERATORS[tok.type]):
            text = text[: len(text) - len(_MERGED_OPERATORS[tok.type])]
            line, pos = tok.line - text.count("\n"), tok.start_pos - len(text)
        else:
            continue
        stripped = text.strip()
        if stripped.startswith(("#", "//", "/*")):
            found.append((line, pos, Comment(line, stripped)))
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(c for _, _, c in found)


def _short_lark_message(exc: Any) -> str:
    token = getattr(exc, "token", None)
    col = getattr(exc, "column", None)
    where = f" at column {col}" if isinstance(col, int) and col > 0 else ""
    if token is not None and str(token).strip():
        return f"unexpected {str(token).strip()[:40]!r}{where}"
    return f"unexpected input{where}"


def _is_tree(node: Any) -> bool:
    return hasattr(node, "data")


def _trees(node: Any) -> list[Any]:
    return [c for c in node.children if _is_tree(c) and c.data != "new_line_or_comment"]


class _Folder:
    def __init__(self, path: str, expression: ExpressionParser) -> None:
        self.path = path
        self.expression = expression

    # -- structure -------------------------------------------------------
    def body(self, tree: Any) -> Body:
        attrs: list[Attribute] = []
        blocks: list[Block] = []
        for child in tree.children:
            if not _is_tree(child):
                continue
            if child.data == "attribute":
                attr = self.attribute(child)
                if any(a.name == attr.name for a in attrs):
                    raise InputError(self.path, attr.line, f"attribute {attr.name!r} redefined")
                attrs.append(attr)
            elif child.data == "block":
                blocks.append(self.block(child))
        return Body(tuple(attrs), tuple(blocks))

    def attribute(self, tree: Any) -> Attribute:
        name_node = tree.children[0]
        expr_node = tree.children[-1]
        name = self.identifier_text(name_node)
        return Attribute(name, self.expr(expr_node), _first_line(tree), _last_line(tree))

    def block(self, tree: Any) -> Block:
        parts = _trees(tree)
        body_node = parts[-1]
        head = parts[:-1]
        btype = self.identifier_text(head[0])
        labels: list[str] = []
        for node in head[1:]:
            if node.data == "string":
                value = self.string(node)
                labels.append(value.value if isinstance(value, Literal) else "")  # type: ignore[arg-type]
            else:
                labels.append(self.identifier_text(node))
        return Block(
            btype, tuple(labels), self.body(body_node), _first_line(tree), _last_line(tree)
        )

    @staticmethod
    def identifier_text(node: Any) -> str:
        if _is_tree(node):
            return str(node.children[0])
        return str(node)

    # -- expressions -----------------------------------------------------
    def expr(self, node: Any) -> Expr:
        data = node.data
        if data == "expr_term":
            inner = _trees(node)
            if len(inner) != 1:
                return Unsupported("empty expression")
            return self.expr(inner[0])
        if data == "identifier":
            return Name(str(node.children[0]))
        if data == "literal_value":
            return Literal({"true": True, "false": False, "null": None}[str(node.children[0])])
        if data in ("int_lit", "float_lit"):
            text = str(node.children[0])
            try:
                return Literal(parse_number(text))
            except NotDecided:
                return Unsupported(f"number literal {text[:20]}")
            except ValueError:
                raise InputError(self.path, _first_line(node), f"invalid number {text!r}") from None
        if data == "string":
            return self.string(node)
        if data in ("heredoc_template", "heredoc_template_trim"):
            return heredoc(
                str(node.children[0]),
                data == "heredoc_template_trim",
                _first_line(node),
                self.path,
                self.expression,
            )
        if data == "template_string":
            return Unsupported("template directive")
        if data == "tuple":
            return TupleExpr(tuple(self.expr(c) for c in _trees(node)))
        if data == "object":
            _check_separators(node, self.path)
            items = []
            for elem in _trees(node):
                key_node, value_node = _trees(elem)[0], _trees(elem)[-1]
                items.append((self.object_key(key_node), self.expr(value_node)))
            return ObjectExpr(tuple(items))
        if data == "conditional":
            c, t, f = _trees(node)
            return Conditional(self.expr(c), self.expr(t), self.expr(f))
        if data == "binary_op":
            left, term = _trees(node)[:2]
            op_node, right = _trees(term)
            return BinaryOp(str(op_node.children[0]), self.expr(left), self.expr(right))
        if data == "unary_op":
            return UnaryOp(str(node.children[0]), self.expr(node.children[1]))
        if data == "function_call":
            idents = [c for c in node.children if _is_tree(c) and c.data == "identifier"]
            name = "::".join(str(i.children[0]) for i in idents)
            args_node = next(
                (c for c in node.children if _is_tree(c) and c.data == "arguments"), None
            )
            args: tuple[Expr, ...] = ()
            expand = False
            if args_node is not None:
                args = tuple(self.expr(c) for c in _trees(args_node))
                expand = any(not _is_tree(c) and str(c) == "..." for c in args_node.children)
            return Call(name, args, expand)
        if data == "get_attr_expr_term":
            obj, ga = _trees(node)
            return GetAttr(self.expr(obj), self.identifier_text(_trees(ga)[0]))
        if data == "index_expr_term":
            obj, idx = _trees(node)
            return Index(self.expr(obj), self.index_key(idx))
        if data in ("attr_splat_expr_term", "full_splat_expr_term"):
            obj, splat = _trees(node)
            ops: list[tuple[str, object]] = []
            for op in _trees(splat):
                if op.data == "get_attr":
                    ops.append(("attr", self.identifier_text(_trees(op)[0])))
                else:
                    ops.append(("index", self.index_key(op)))
            if data == "full_splat_expr_term":
                return Splat(self.expr(obj), tuple(ops), True)
            # ``a.*.b[0]`` is ``(a.*.b)[0]``: the legacy splat carries attribute steps only
            k = next((i for i, (kind, _) in enumerate(ops) if kind == "index"), len(ops))
            out: Expr = Splat(self.expr(obj), tuple(ops[:k]), False)
            for kind, arg in ops[k:]:
                if kind == "attr":
                    out = GetAttr(out, str(arg))
                else:
                    assert isinstance(arg, Expr)
                    out = Index(out, arg)
            return out
        if data in ("for_tuple_expr", "for_object_expr"):
            return self.for_expr(node, data == "for_object_expr")
        if data == "interpolation":
            return self.expr(_trees(node)[0])
        return Unsupported(data)

    def index_key(self, idx: Any) -> Expr:
        if idx.data == "short_index":
            return Literal(int(str(idx.children[-1])))
        return self.expr(_trees(idx)[0])

    def object_key(self, key_node: Any) -> Expr:
        inner = (
            _trees(key_node)[0]
            if _is_tree(key_node) and key_node.data == "object_elem_key"
            else key_node
        )
        if inner.data == "keyword":
            return Literal(str(inner.children[0]))
        if inner.data == "expr_term":
            parenthesised = any(not _is_tree(c) and str(c) == "(" for c in inner.children)
            sub = _trees(inner)
            if not parenthesised and len(sub) == 1 and sub[0].data == "identifier":
                return Literal(str(sub[0].children[0]))
            if not parenthesised and len(sub) == 1 and sub[0].data == "literal_value":
                return Literal(str(sub[0].children[0]))
        return self.expr(inner)

    def string(self, node: Any) -> Expr:
        pieces: list[Piece] = []
        line = _first_line(node) or None
        for part in node.children:
            if not _is_tree(part):
                continue  # the quotes
            for piece in part.children:
                if _is_tree(piece):
                    if piece.data == "interpolation":
                        if _strip_marker(piece):
                            return Unsupported("template strip marker")
                        pieces.append(Piece("expr", self.expr(_trees(piece)[0])))
                    else:
                        pieces.append(self.directive(piece))
                    continue
                kind = piece.type
                text = str(piece)
                if kind == "ESCAPED_INTERPOLATION" or kind == "ESCAPED_DIRECTIVE":
                    pieces.append(Piece("lit", text[1:]))
                    continue
                try:
                    pieces.append(Piece("lit", unescape(text)))
                except SurrogateEscape:
                    return Unsupported("\\u escape of a UTF-16 surrogate")
                except BadEscape as exc:
                    raise InputError(
                        self.path, line, f"invalid escape sequence \\{exc.args[0]}"
                    ) from None
        return assemble(pieces, self.path, line)

    def directive(self, node: Any) -> Piece:
        """A ``%{ ... }`` directive of a quoted string, with its strip markers."""
        tokens = [c for c in node.children if not _is_tree(c)]
        left = len(tokens) > 1 and tokens[1].type == "STRIP_MARKER"
        right = len(tokens) > 2 and tokens[-2].type == "STRIP_MARKER"
        word = {
            "template_if_start": "if",
            "template_else": "else",
            "template_endif": "endif",
            "template_for_start": "for",
            "template_endfor": "endfor",
        }[node.data]
        exprs = [c for c in _trees(node) if c.data != "identifier"]
        value = self.expr(exprs[0]) if exprs else None
        names = tuple(str(c.children[0]) for c in _trees(node) if c.data == "identifier")
        return Piece(word, value, names, left, right)

    def for_expr(self, node: Any, is_object: bool) -> Expr:
        intro = next(c for c in node.children if _is_tree(c) and c.data == "for_intro")
        names = [
            str(c.children[0]) for c in intro.children if _is_tree(c) and c.data == "identifier"
        ]
        coll_node = next(c for c in _trees(intro) if c.data != "identifier")
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        exprs = [c for c in _trees(node) if c.data not in ("for_intro", "for_cond")]
        cond_node = next((c for c in node.children if _is_tree(c) and c.data == "for_cond"), None)
        cond = self.expr(_trees(cond_node)[0]) if cond_node is not None else None
        grouping = any(not _is_tree(c) and str(c) == "..." for c in node.children)
        if is_object:
            return ForExpr(
                key_var,
                value_var,
                self.expr(coll_node),
                self.expr(exprs[0]),
                self.expr(exprs[1]),
                cond,
                grouping,
                True,
            )
        return ForExpr(
            key_var, value_var, self.expr(coll_node), None, self.expr(exprs[0]), cond, False, False
        )


def _ends_with_newline(tree: Any) -> bool:
    """Whether a node's text ends at a line break: a trailing newline or line comment the grammar
    hung under it (binary operations keep theirs), or a heredoc token's own final newline."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if hasattr(node, "data"):
            stack.extend(node.children)
            continue
        text = str(node)
        if node.type == "NL_OR_COMMENT":
            if "\n" in text or text.lstrip().startswith(("#", "//")):
                return True
            continue
        return text.endswith("\n")
    return False


def _check_separators(obj: Any, path: str) -> None:
    """HCL needs a comma or a newline between object items; python-hcl2 accepts ``{a = 1 b = 2}``."""
    separated = True
    for child in obj.children:
        if _is_tree(child) and child.data == "object_elem":
            if not separated:
                raise InputError(
                    path, _first_line(child), "missing comma or newline between object items"
                )
            separated = _ends_with_newline(child)
        elif _is_tree(child) and child.data == "new_line_or_comment":
            text = "".join(str(t) for t in child.children)
            separated = separated or "\n" in text or text.lstrip().startswith(("#", "//"))
        elif not _is_tree(child) and child.type == "COMMA":
            separated = True


def _strip_marker(interp: Any) -> bool:
    """``${~ x ~}``: python-hcl2 keeps the markers as tokens; ciiguard does not apply them."""
    return any(not _is_tree(c) and "~" in str(c) for c in interp.children)
