"""Terraform built-in functions over plain Python values, with Terraform's conversions.

Values: str, int, float, bool, None, list, dict, or ``Unknown``. Every function is total: it
returns a value, raises ``FunctionError`` (a call Terraform rejects) or ``NotDecided`` (a result
that depends on something ciiguard does not model, such as the list-versus-tuple type of an
argument). Functions never see Unknown arguments: the evaluator short-circuits those (except
``try``/``can``/``coalesce``, handled in the evaluator itself).

Strings are NFC-normalised as in cty; string lengths count grapheme clusters (ciiguard decides
only for text whose clusters it can tell apart); numbers follow ``numbers`` (512-bit floats).
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from typing import Any

from ciiguard.model import Unknown
from ciiguard.parsers.terraform import numbers as num
from ciiguard.parsers.terraform.lang.re2 import RegexError, compile_re2, find_all, replace_all
from ciiguard.parsers.terraform.numbers import NotDecided

Value = Any

__all__ = ["CORE_FUNCTIONS", "FunctionError", "NotDecided"]


MAX_FORMAT_WIDTH = 100_000


class FunctionError(Exception):
    """A call Terraform would reject (wrong type, missing key, out of range)."""


class TfSet(list[Any]):
    """A Terraform set, as a list in Terraform's iteration order.

    Sets behave like lists except where Terraform tells them apart: they cannot be indexed,
    ``for k, v in set`` binds the element to both names, and some functions reject them.
    """

    __slots__ = ()


class ComputedBlock(dict[str, Value]):
    """A nested block (or object) of a resource, as its configuration sets it: an attribute it
    does not set is one the provider may fill in (``vpc_config[0].cluster_security_group_id``),
    so it is unknown, as the resource's own are; not an error."""

    __slots__ = ("address", "path")

    def __init__(self, values: dict[str, Value], address: str, path: str) -> None:
        super().__init__(values)
        self.address = address
        self.path = path

    def __reduce__(self) -> tuple[type, tuple[dict[str, Value], str, str]]:
        return (ComputedBlock, (dict(self), self.address, self.path))

    def attribute(self, name: str) -> Value:
        if name in self:
            return computed(self[name], self.address, f"{self.path}.{name}")
        return Unknown(
            f"{self.address}.{self.path}.{name} is known only after apply",
            frozenset({self.address}),
            path=(*self.path.split("."), name),
        )


def computed(value: Value, address: str, path: str) -> Value:
    """``value`` with the objects in it (directly, or as the elements of a list or set of blocks)
    answering for attributes they lack (``ComputedBlock``)."""
    if type(value) is dict:
        return ComputedBlock(value, address, path)
    if isinstance(value, list) and any(type(x) is dict for x in value):
        items = [
            ComputedBlock(x, address, f"{path}[{i}]") if type(x) is dict else x
            for i, x in enumerate(value)
        ]
        return TfSet(items) if isinstance(value, TfSet) else items
    return value


def type_name(v: Value) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "object"
    return "unknown"


def is_number(v: Value) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def normalise_number(n: float | int) -> int | float:
    """A JSON/Python number as a Terraform number (whole floats become ints)."""
    if isinstance(n, float) and not isinstance(n, num.Num):
        if math.isnan(n) or math.isinf(n):
            raise FunctionError("number out of range")
        if n.is_integer() and abs(n) < 2**63:
            return int(n)
    return n


def nfc(s: str) -> str:
    """cty keeps every string in Unicode normal form C."""
    return s if s.isascii() else unicodedata.normalize("NFC", s)


def format_number(n: int | float) -> str:
    return num.number_text(n)


def to_string(v: Value) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return num.number_text(v)
    if v is None:
        raise FunctionError("null value cannot be used as a string")
    raise FunctionError(f"cannot convert {type_name(v)} to string")


def to_number(v: Value) -> int | float:
    if isinstance(v, bool):
        raise FunctionError("cannot convert bool to number")
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            return num.parse_number(v)
        except ValueError:
            raise FunctionError(f"cannot convert {v!r} to number") from None
    raise FunctionError(f"cannot convert {type_name(v)} to number")


def to_bool(v: Value) -> bool:
    if isinstance(v, bool):
        return v
    if v == "true":
        return True
    if v == "false":
        return False
    raise FunctionError(f"cannot convert {type_name(v)} to bool")


def as_list(v: Value, fn: str) -> list[Value]:
    if isinstance(v, list):
        return v
    raise FunctionError(f"{fn}: expected a list, got {type_name(v)}")


def as_sequence(v: Value, fn: str) -> list[Value]:
    """A list or tuple argument; sets are rejected as Terraform rejects them."""
    if isinstance(v, TfSet):
        raise FunctionError(f"{fn}: cannot use a set here, it has no element order")
    return as_list(v, fn)


def as_map(v: Value, fn: str) -> dict[str, Value]:
    if isinstance(v, dict):
        return v
    raise FunctionError(f"{fn}: expected a map or object, got {type_name(v)}")


def as_str(v: Value, fn: str) -> str:
    if isinstance(v, (dict, list)) or v is None:
        raise FunctionError(f"{fn}: expected a string, got {type_name(v)}")
    return to_string(v)


def as_int(v: Value, fn: str) -> int:
    n = num.whole(to_number(v))
    if n is None:
        raise FunctionError(f"{fn}: expected a whole number")
    return n


def equal(a: Value, b: Value) -> bool:
    """Value equality (Terraform's ``==`` also compares types; see ``collection_in``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return num.compare(a, b) == 0
    if type_name(a) != type_name(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return bool(a == b)


def collection_in(v: Value) -> bool:
    return isinstance(v, (list, dict))


# -- grapheme clusters ------------------------------------------------------------------------

_SIMPLE_RANGES = (
    (0x00A0, 0x02FF),  # Latin-1 supplement, Latin extended A/B, IPA
    (0x0370, 0x0482),  # Greek and Coptic, Cyrillic (before its combining marks)
    (0x048A, 0x052F),
    (0x2010, 0x2027),  # general punctuation (no joiners, no line separators)
    (0x2030, 0x205E),
    (0x3000, 0x3029),  # CJK symbols and punctuation (before the combining tone marks)
    (0x3030, 0x3098),  # ... and Hiragana
    (0x309B, 0x30FF),  # Katakana
    (0x3400, 0x4DBF),  # CJK unified ideographs, extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7A3),  # precomposed Hangul syllables
    (0xFF01, 0xFF60),  # full-width forms
)


def _simple_char(ch: str) -> bool:
    cp = ord(ch)
    if not any(lo <= cp <= hi for lo, hi in _SIMPLE_RANGES):
        return False
    return unicodedata.category(ch)[0] not in "MC"


def graphemes(s: str) -> list[str]:
    """The grapheme clusters of s, or NotDecided for text ciiguard cannot segment safely."""
    if s.isascii() or all(ch.isascii() or _simple_char(ch) for ch in s):
        out: list[str] = []
        for ch in s:
            if ch == "\n" and out and out[-1] == "\r":
                out[-1] = "\r\n"
            else:
                out.append(ch)
        return out
    raise NotDecided("grapheme clusters of non-Latin/CJK text")


# -- types and conversions ------------------------------------------------------------------


def _shape(v: Value) -> Any:
    """A value's type as far as the value shows it; None for null (converts to anything)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "bool"
    if is_number(v):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        kind = "set" if isinstance(v, TfSet) else "list"
        return (kind, _merge_all([_shape(x) for x in v]))
    if isinstance(v, dict):
        return ("object", tuple(sorted((k, _shape(x)) for k, x in v.items())))
    raise NotDecided("value of unknown type")


_ANY = ("any",)


def _merge(a: Any, b: Any) -> Any:
    """The common shape of a and b when neither needs converting, else raise NotDecided."""
    if a is None or a == _ANY:
        return b
    if b is None or b == _ANY:
        return a
    if a == b:
        return a
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] and a[0] in ("list", "set"):
        return (a[0], _merge(a[1], b[1]))
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] == "object":
        ka, kb = dict(a[1]), dict(b[1])
        if ka.keys() == kb.keys():
            return ("object", tuple(sorted((k, _merge(ka[k], kb[k])) for k in ka)))
    raise NotDecided("values of different types would be converted")


def _merge_all(shapes: list[Any]) -> Any:
    out: Any = _ANY
    for s in shapes:
        out = _merge(out, s)
    return out


def _kind(v: Value) -> str:
    t = type_name(v)
    return "collection-list" if t == "list" else ("collection-object" if t == "object" else t)


def _map_depth(v: Value) -> int:
    """How deep ``v`` nests maps (or objects) over primitive leaves: 1 for ``{a = "x"}``, 2 for
    ``{a = {b = "x"}}``; 0 for an empty one (any depth); -1 when it is not so uniform (lists, a
    mixture of depths, an unknown value)."""
    if not isinstance(v, dict):  # a TfSet is a list
        return -1
    depths = set()
    for x in v.values():
        if x is None or isinstance(x, (bool, str)) or is_number(x):
            depths.add(1)
        else:
            d = _map_depth(x)
            if d < 0:
                return -1
            depths.add(d + 1 if d else 0)
    depths.discard(0)
    return depths.pop() if len(depths) == 1 else (0 if not depths else -1)


def _leaves(v: Value) -> Iterator[Value]:
    for x in v.values():
        if isinstance(x, dict):
            yield from _leaves(x)
        else:
            yield x


def _leaves_to_string(v: Value) -> Value:
    return {
        k: _leaves_to_string(x) if isinstance(x, dict) else (None if x is None else to_string(x))
        for k, x in v.items()
    }


def _unify_maps(values: list[Value]) -> list[Value] | None:
    """Maps and objects of different keys unify as cty does, into maps (of maps...) of one
    primitive type: ``cond ? {env = "prd"} : {}``, ``var.locations != null ? var.locations :
    local.default`` (claranet's tags and Cosmos DB failover locations). The values stay as they
    are when every leaf has one type, become strings when strings are among them; None when the
    shapes are not maps over primitives at one depth (lists inside: conversions ciiguard does not
    track)."""
    depths = {_map_depth(v) for v in values if v is not None}
    depths.discard(0)
    if -1 in depths or len(depths) > 1:
        return None
    kinds = {type_name(x) for v in values if v is not None for x in _leaves(v) if x is not None}
    if len(kinds) <= 1:
        return values
    if "string" not in kinds:
        raise FunctionError(f"{' and '.join(sorted(kinds))} have no common type")
    return [None if v is None else _leaves_to_string(v) for v in values]


def unify(values: list[Value]) -> list[Value]:
    """Convert values to one common type as cty's unification does, or raise.

    Primitive mixtures with a string become strings; number with bool has no common type
    (FunctionError), nor has a primitive with a collection. Collections are returned unchanged
    when they already agree; otherwise NotDecided, since the conversion depends on list/tuple
    and map/object types ciiguard does not track.
    """
    kinds = {_kind(v) for v in values if v is not None}
    if len(kinds) <= 1:
        if kinds <= {"string", "number", "bool"}:
            return values
        try:
            _merge_all([_shape(v) for v in values])
        except NotDecided:
            maps = _unify_maps(values)
            if maps is None:
                raise
            return maps
        return values
    if kinds <= {"string", "number", "bool"}:
        if "string" not in kinds:
            raise FunctionError("number and bool have no common type")
        return [None if v is None else to_string(v) for v in values]
    if kinds <= {"collection-list", "collection-object"}:
        raise FunctionError("a list and an object have no common type")
    raise FunctionError(f"{' and '.join(sorted(kinds))} have no common type")


def to_list(v: Value, fn: str) -> list[Value]:
    """A tuple/list/set argument converted to a list: its elements unified."""
    items = as_list(v, fn)
    return unify(list(items))


def to_string_list(v: Value, fn: str) -> list[Value]:
    """A tuple/list/set argument converted to list(string): each element on its own."""
    out: list[Value] = []
    for x in as_list(v, fn):
        if isinstance(x, (list, dict)):
            raise FunctionError(f"{fn}: expected a list of strings")
        out.append(None if x is None else to_string(x))
    return out


class _Members:
    """Membership under ``equal``: hashed for scalars (big sets are not quadratic), a scan for
    collections."""

    def __init__(self, items: Iterable[Value] = ()) -> None:
        self.keys: set[tuple[str, Any]] = set()
        self.rest: list[Value] = []
        for item in items:
            self.add(item)

    @staticmethod
    def _key(v: Value) -> tuple[str, Any] | None:
        if isinstance(v, bool):
            return ("bool", v)
        if is_number(v):
            return ("number", num.exact(v))  # equal() compares numbers by exact value
        if isinstance(v, str):
            return ("string", v)
        return None

    def add(self, v: Value) -> None:
        key = self._key(v)
        if key is None:
            self.rest.append(v)
        else:
            self.keys.add(key)

    def __contains__(self, v: Value) -> bool:
        key = self._key(v)
        if key is not None:
            return key in self.keys
        return any(equal(v, o) for o in self.rest)


def make_set(items: list[Value], order: Callable[[Value], str] | None = None) -> TfSet:
    """Terraform sets in their iteration order: unique; strings, numbers and bools sorted;
    collections and structures by ``order`` (the bytes cty orders them by, which needs their
    type: ``evaluator.set_order_key``), or NotDecided without it. Items given with ``order``
    are already converted to the set's element type."""
    if order is None:
        items = unify(items)
    if any(x is None for x in items):
        raise NotDecided("a set with null elements")
    out: list[Value] = []
    seen = _Members()
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    if len(out) <= 1:
        return TfSet(out)
    if all(isinstance(x, str) for x in out):
        return TfSet(sorted(out))
    if all(isinstance(x, bool) for x in out):
        return TfSet(sorted(out))
    if all(is_number(x) for x in out):
        return TfSet(sorted(out, key=num.exact))
    if order is not None:
        return TfSet(sorted(out, key=order))
    raise NotDecided("Terraform orders sets of collections by hash")


# -- JSON as Go's encoding/json writes it ---------------------------------------------------

_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_JSON_ESCAPES.update({"\b": "\\b", "\f": "\\f"})
_JSON_ESCAPES.update({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})
_JSON_ESCAPES.update({"\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_string(s: str) -> str:
    out = ['"']
    for ch in s:
        esc = _JSON_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def json_encode(v: Value) -> str:
    """cty's JSON serialisation: sorted object keys, exact numbers, Go string escaping."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if is_number(v):
        return num.number_text(v)
    if isinstance(v, str):
        return json_string(v)
    if isinstance(v, list):
        return "[" + ",".join(json_encode(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{json_string(k)}:{json_encode(v[k])}" for k in sorted(v)) + "}"
    raise NotDecided("value of unknown type")


# -- the functions ----------------------------------------------------------------------------


def arity(args: list[Value], fn: str, lo: int, hi: int | None = None) -> None:
    hi = lo if hi is None else hi
    if not lo <= len(args) <= hi:
        raise FunctionError(f"{fn}: wrong number of arguments")


def _lookup(args: list[Value]) -> Value:
    arity(args, "lookup", 2, 3)
    m = as_map(args[0], "lookup")
    key = as_str(args[1], "lookup")
    if key in m:
        return m[key]
    if len(args) == 3:
        default = args[2]
        kinds = {type_name(x) for x in m.values()}
        if (
            default is not None
            and len(kinds) == 1
            and kinds <= {"string", "number", "bool"}
            and type_name(default) not in kinds
        ):
            raise NotDecided("lookup: a map would convert the default, an object would not")
        if not m and (isinstance(default, bool) or is_number(default)):
            # an empty map(string) makes lookup(var.settings, "x", true) the string "true", an
            # empty object keeps true: which one this {} is, its type says, and ciiguard keeps
            # no types (a count built on it differed from Terraform's, tenth audit)
            raise NotDecided("lookup: an empty typed map would convert the default")
        return default
    raise FunctionError(f"lookup: no key {key!r}")


def _coalesce(args: list[Value]) -> Value:
    if not args:
        raise FunctionError("coalesce: at least one argument is required")
    for a in unify(list(args)):
        if a is not None and a != "":
            return a
    raise FunctionError("coalesce: no non-null, non-empty argument")


def _element(args: list[Value]) -> Value:
    arity(args, "element", 2)
    lst = as_sequence(args[0], "element")
    if not lst:
        raise FunctionError("element: cannot use element function with an empty list")
    i = as_int(args[1], "element")
    if i < 0:
        raise FunctionError("element: negative index")
    return lst[i % len(lst)]


def _index(args: list[Value]) -> Value:
    arity(args, "index", 2)
    if args[1] is None:
        raise FunctionError("index: the value must not be null")
    lst = as_sequence(args[0], "index")
    for i, item in enumerate(lst):
        if equal(item, args[1]):
            if collection_in(item):
                raise NotDecided("index: equal collections may differ in type")
            return i
    raise FunctionError("index: item not found")


def _merge_fn(args: list[Value]) -> Value:
    out: dict[str, Value] = {}
    for a in args:
        if a is None:
            continue
        out.update(as_map(a, "merge"))
    return out


def _concat(args: list[Value]) -> Value:
    out: list[Value] = []
    for a in args:
        out.extend(as_sequence(a, "concat"))
    if len(args) > 1:
        _merge_all([_shape(x) for x in out])
    return out


def _flatten(args: list[Value]) -> Value:
    arity(args, "flatten", 1)

    def flat(v: list[Value]) -> list[Value]:
        out: list[Value] = []
        for x in v:
            if isinstance(x, list):
                out.extend(flat(x))
            else:
                out.append(x)
        return out

    return flat(as_list(args[0], "flatten"))


def _distinct(args: list[Value]) -> Value:
    arity(args, "distinct", 1)
    out: list[Value] = []
    seen = _Members()
    for x in to_list(args[0], "distinct"):
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def _contains(args: list[Value]) -> Value:
    arity(args, "contains", 2)
    if args[1] is None:
        raise FunctionError("contains: the value must not be null")
    for x in as_list(args[0], "contains"):
        if equal(x, args[1]):
            if collection_in(x):
                raise NotDecided("contains: equal collections may differ in type")
            return True
    return False


def _go_int_format(verb: str, flags: str, width: int | None, prec: int | None, n: int) -> str:
    base = {"b": 2, "d": 10, "o": 8, "x": 16, "X": 16}[verb]
    sign = "-" if n < 0 else ("+" if "+" in flags else (" " if " " in flags else ""))
    prefix = ""
    if "#" in flags:
        prefix = {"b": "0b", "o": "0", "x": "0x", "X": "0X", "d": ""}[verb]
    digits = {2: "b", 8: "o", 10: "d", 16: "x"}[base]
    text = format(abs(n), digits)
    if verb == "X":
        text = text.upper()
    zeros = left = right = 0
    if prec is not None:
        if len(text) < prec:
            zeros = prec - len(text)
        elif text == "0" and prec == 0:
            return ""
    length = len(sign) + len(prefix) + zeros + len(text)
    if width is not None and length < width:
        d = width - length
        if "-" in flags:
            right = d
        elif "0" in flags and prec is None:
            zeros = d
        else:
            left = d
    return " " * left + sign + prefix + "0" * zeros + text + " " * right


def _go_float_pad(text: str, flags: str, width: int | None) -> str:
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    elif "+" in flags:
        sign = "+"
    elif " " in flags:
        sign = " "
    pad = width - len(sign) - len(text) if width is not None else 0
    if pad <= 0:
        return sign + text
    if "0" in flags:
        return sign + "0" * pad + text
    if "-" in flags:
        return sign + text + " " * pad
    return " " * pad + sign + text


def _pad_width(text: str, flags: str, width: int | None) -> str:
    if width is None:
        return text
    have = len(graphemes(text))
    if have >= width:
        return text
    pad = ("0" if "0" in flags else " ") * (width - have)
    return text + pad if "-" in flags else pad + text


def _format_one(verb: str, flags: str, width: int | None, prec: int | None, v: Value) -> str:
    if verb != "v" and v is None:
        raise FunctionError("format: null value cannot be formatted")
    if verb == "v":
        if "#" not in flags and isinstance(v, str):
            return _pad_width(v, flags, width)
        if "#" not in flags and is_number(v):
            return _pad_width(num.format_float(v, "g", None), flags, width)
        return _pad_width(json_encode(v), flags, width)
    if verb == "t":
        return "true" if to_bool(v) else "false"
    if verb in "bdoxX":
        n = num.whole(to_number(v))
        if n is None:
            raise FunctionError("format: an integer is required")
        return _go_int_format(verb, flags, width, prec, n)
    if verb in "eEfgG":
        text = num.format_float(to_number(v), "f" if verb == "F" else verb, prec)
        return _go_float_pad(text, flags, width)
    if verb in "sq":
        if isinstance(v, (list, dict)):
            raise FunctionError("format: cannot convert a collection to string")
        s = to_string(v)
        if prec is not None and prec > 0:
            s = "".join(graphemes(s)[:prec])
        return _pad_width(s if verb == "s" else json_string(s), flags, width)
    raise FunctionError(f"format: unsupported verb %{verb}")


def _format(args: list[Value]) -> Value:
    if not args:
        raise FunctionError("format: wrong number of arguments")
    fmt = as_str(args[0], "format")
    values = args[1:]
    out: list[str] = []
    i = 0
    nxt = 0
    highest = 0  # the highest argument (1-based) a verb has used
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        if fmt.startswith("%%", i):
            out.append("%")
            i += 2
            continue
        j = i + 1
        flags = ""
        while j < len(fmt) and fmt[j] in " +-#0":
            flags += fmt[j]
            j += 1
        if j < len(fmt) and fmt[j] == "[":
            end = fmt.find("]", j)
            if end < 0 or not fmt[j + 1 : end].isdigit():
                raise FunctionError("format: invalid argument index")
            nxt = int(fmt[j + 1 : end]) - 1
            j = end + 1
        width: int | None = None
        start = j
        while j < len(fmt) and fmt[j].isdigit():
            j += 1
        if j > start:
            width = int(fmt[start:j])
        prec: int | None = None
        if j < len(fmt) and fmt[j] == ".":
            j += 1
            start = j
            while j < len(fmt) and fmt[j].isdigit():
                j += 1
            if j == start:
                raise NotDecided("format: a period without a precision")
            prec = int(fmt[start:j])
        if max(width or 0, prec or 0) > MAX_FORMAT_WIDTH:  # "%999999999s" would fill memory
            raise NotDecided(f"format: width or precision above {MAX_FORMAT_WIDTH}")
        if j >= len(fmt) or not fmt[j].isalpha():
            raise FunctionError("format: invalid format verb")
        verb = fmt[j]
        if nxt < 0 or nxt >= len(values):
            raise FunctionError("format: not enough arguments")
        out.append(_format_one(verb, flags, width, prec, values[nxt]))
        nxt += 1
        highest = max(highest, nxt)
        i = j + 1
    if highest < len(values):
        # cty: the last argument must be used ("%[2]s" of two is fine, "%s" of two is not)
        raise FunctionError("format: too many arguments; no verbs left to consume")
    return "".join(out)


def _formatlist(args: list[Value]) -> Value:
    if not args:
        raise FunctionError("formatlist: wrong number of arguments")
    lists = [a for a in args[1:] if isinstance(a, list)]
    if not lists:
        return [_format(args)]
    n = len(lists[0])
    if any(len(x) != n for x in lists):
        raise FunctionError("formatlist: lists of different lengths")
    return [
        _format([args[0], *[(a[i] if isinstance(a, list) else a) for a in args[1:]]])
        for i in range(n)
    ]


def _join(args: list[Value]) -> Value:
    if len(args) < 2:
        raise FunctionError("join: at least one list is required")
    sep = as_str(args[0], "join")
    items: list[str] = []
    for a in args[1:]:
        for x in to_string_list(a, "join"):
            if x is None:
                raise FunctionError("join: cannot concatenate null values")
            items.append(as_str(x, "join"))
    return sep.join(items)


def _split(args: list[Value]) -> Value:
    arity(args, "split", 2)
    sep, s = as_str(args[0], "split"), as_str(args[1], "split")
    if sep == "":
        return list(s)
    return s.split(sep)


def _regex_result(c: Any, m: Any) -> Value:
    names = c.names
    if not names:
        return m.group(0)
    if all(n is None for n in names):
        return [m.group(i + 1) for i in range(len(names))]
    if any(n is None for n in names):
        raise FunctionError("regex: cannot mix both named and unnamed capture groups")
    return {n: m.group(i + 1) for i, n in enumerate(names)}


def _compile(pattern: str, fn: str) -> Any:
    try:
        return compile_re2(pattern)
    except RegexError as exc:
        raise FunctionError(f"{fn}: invalid regular expression: {exc}") from None


def _regex(args: list[Value]) -> Value:
    arity(args, "regex", 2)
    c = _compile(as_str(args[0], "regex"), "regex")
    if c.names and any(n is None for n in c.names) and any(n is not None for n in c.names):
        raise FunctionError("regex: cannot mix both named and unnamed capture groups")
    found = find_all(c, as_str(args[1], "regex"), limit=1)
    if not found:
        raise FunctionError("regex: pattern did not match any part of the given string")
    return _regex_result(c, found[0])


def _regexall(args: list[Value]) -> Value:
    arity(args, "regexall", 2)
    c = _compile(as_str(args[0], "regexall"), "regexall")
    if c.names and any(n is None for n in c.names) and any(n is not None for n in c.names):
        raise FunctionError("regexall: cannot mix both named and unnamed capture groups")
    return [_regex_result(c, m) for m in find_all(c, as_str(args[1], "regexall"))]


def _replace(args: list[Value]) -> Value:
    arity(args, "replace", 3)
    s, sub, rep = (as_str(a, "replace") for a in args)
    if len(sub) > 1 and sub.startswith("/") and sub.endswith("/"):
        return replace_all(_compile(sub[1:-1], "replace"), s, rep)
    return s.replace(sub, rep)


def _substr(args: list[Value]) -> Value:
    """cty's Substr, step by step: offsets and lengths count grapheme clusters."""
    arity(args, "substr", 3)
    clusters = graphemes(as_str(args[0], "substr"))
    offset, length = as_int(args[1], "substr"), as_int(args[2], "substr")
    if offset < 0:
        offset += len(clusters)
    elif length == 0:
        return ""
    sub = clusters
    if offset > 0:
        if offset > len(clusters):
            return ""
        sub = clusters[offset:]
    if length < 0:
        return "".join(sub)
    if length == 0:
        return "".join(sub)  # cty's loop never stops at 0 on this path
    return "".join(sub[:length])


def _go_is_space(ch: str) -> bool:
    if ch.isascii():
        return ch in " \t\n\v\f\r"
    return ch.isspace()


def _title(args: list[Value]) -> Value:
    """Go's strings.Title: upper-case the first letter after each separator."""
    arity(args, "title", 1)
    out: list[str] = []
    prev = " "
    for ch in as_str(args[0], "title"):
        if _separator(prev):
            t = ch.title() if not ch.isascii() else ch.upper()
            if len(t) != 1:
                raise NotDecided("title: character without a simple title-case mapping")
            out.append(t)
        else:
            out.append(ch)
        prev = ch
    return "".join(out)


def _separator(ch: str) -> bool:
    if ch.isascii():
        return not (ch.isalnum() or ch == "_")
    if ch.isalpha() or ch.isdecimal():
        return False
    return ch.isspace()


def _case(s: str, upper: bool) -> str:
    if s.isascii():
        return s.upper() if upper else s.lower()
    out: list[str] = []
    for ch in s:
        m = ch.upper() if upper else ch.lower()
        if len(m) != 1:
            raise NotDecided("case mapping without a simple one-character form")
        out.append(m)
    return "".join(out)


def _tonumber(args: list[Value]) -> Value:
    arity(args, "tonumber", 1)
    return None if args[0] is None else to_number(args[0])


def _tobool(args: list[Value]) -> Value:
    arity(args, "tobool", 1)
    return None if args[0] is None else to_bool(args[0])


def _tostring(args: list[Value]) -> Value:
    arity(args, "tostring", 1)
    if args[0] is None:
        return None
    if isinstance(args[0], (list, dict)):
        raise FunctionError("tostring: cannot convert a collection to string")
    return to_string(args[0])


def _tolist(args: list[Value]) -> Value:
    arity(args, "tolist", 1)
    if args[0] is None:
        return None
    return to_list(args[0], "tolist")


def _toset(args: list[Value]) -> Value:
    arity(args, "toset", 1)
    if args[0] is None:
        return None
    return make_set(list(as_list(args[0], "toset")))


def _tomap(args: list[Value]) -> Value:
    arity(args, "tomap", 1)
    if args[0] is None:
        return None
    m = as_map(args[0], "tomap")
    return dict(zip(m.keys(), unify(list(m.values())), strict=True))


def _length(args: list[Value]) -> Value:
    arity(args, "length", 1)
    v = args[0]
    if isinstance(v, str):
        return len(graphemes(v))
    if isinstance(v, (list, dict)):
        return len(v)
    raise FunctionError(f"length: cannot take length of {type_name(v)}")


def _one(args: list[Value]) -> Value:
    arity(args, "one", 1)
    lst = as_list(args[0], "one")
    if len(lst) > 1:
        raise FunctionError(
            "one: must be a list, set, or tuple value with either zero or one elements"
        )
    return lst[0] if lst else None


def _sort(args: list[Value]) -> Value:
    arity(args, "sort", 1)
    items = []
    for x in to_string_list(args[0], "sort"):
        if x is None:
            raise FunctionError("sort: a null string cannot be sorted")
        items.append(as_str(x, "sort"))
    return sorted(items)


def _setunion(args: list[Value]) -> Value:
    if not args:
        raise FunctionError("setunion: at least one set is required")
    items: list[Value] = []
    for a in args:  # each argument is a set of its own element type first: [1, true] has none
        items.extend(to_list(a, "setunion"))
    return make_set(items)


def _keys(args: list[Value]) -> Value:
    arity(args, "keys", 1)
    return sorted(as_map(args[0], "keys"))


def _values(args: list[Value]) -> Value:
    arity(args, "values", 1)
    m = as_map(args[0], "values")
    return [m[k] for k in sorted(m)]


def _zipmap(args: list[Value]) -> Value:
    arity(args, "zipmap", 2)
    ks, vs = to_string_list(args[0], "zipmap"), as_list(args[1], "zipmap")
    if len(ks) != len(vs):
        raise FunctionError("zipmap: lists of different lengths")
    out: dict[str, Value] = {}
    for k, v in zip(ks, vs, strict=True):
        if k is None:
            raise FunctionError("zipmap: keys must not be null")
        out[as_str(k, "zipmap")] = v
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _jsondecode(args: list[Value]) -> Value:
    arity(args, "jsondecode", 1)

    def number(text: str) -> Value:
        return num.parse_number(text)

    try:
        value = json.loads(
            as_str(args[0], "jsondecode"),
            parse_float=number,
            parse_int=number,
            parse_constant=_reject_constant,
        )
    except RecursionError:
        raise NotDecided("jsondecode: JSON nested too deeply for ciiguard") from None
    except ValueError:
        raise FunctionError("jsondecode: invalid JSON") from None
    return _json_strings(value)


def _json_strings(v: Any) -> Value:
    if isinstance(v, str):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in v):
            raise NotDecided("JSON text with unpaired surrogates")
        return nfc(v)
    if isinstance(v, list):
        return [_json_strings(x) for x in v]
    if isinstance(v, dict):
        return {nfc(k): _json_strings(x) for k, x in v.items()}
    return v


def _jsonencode(args: list[Value]) -> Value:
    arity(args, "jsonencode", 1)
    return json_encode(args[0])


def _startswith(args: list[Value]) -> Value:
    arity(args, "startswith", 2)
    return as_str(args[0], "startswith").startswith(as_str(args[1], "startswith"))


def _endswith(args: list[Value]) -> Value:
    arity(args, "endswith", 2)
    return as_str(args[0], "endswith").endswith(as_str(args[1], "endswith"))


def _trimprefix(args: list[Value]) -> Value:
    arity(args, "trimprefix", 2)
    s, p = as_str(args[0], "trimprefix"), as_str(args[1], "trimprefix")
    return s[len(p) :] if p and s.startswith(p) else s


def _trimsuffix(args: list[Value]) -> Value:
    arity(args, "trimsuffix", 2)
    s, p = as_str(args[0], "trimsuffix"), as_str(args[1], "trimsuffix")
    return s[: -len(p)] if p and s.endswith(p) else s


def _trimspace(args: list[Value]) -> Value:
    arity(args, "trimspace", 1)
    s = as_str(args[0], "trimspace")
    i, j = 0, len(s)
    while i < j and _go_is_space(s[i]):
        i += 1
    while j > i and _go_is_space(s[j - 1]):
        j -= 1
    return s[i:j]


def _trim(args: list[Value]) -> Value:
    arity(args, "trim", 2)
    return as_str(args[0], "trim").strip(as_str(args[1], "trim"))


def _reverse(args: list[Value]) -> Value:
    arity(args, "reverse", 1)
    return list(reversed(as_list(args[0], "reverse")))


def _compact(args: list[Value]) -> Value:
    arity(args, "compact", 1)
    return [x for x in to_string_list(args[0], "compact") if x is not None and x != ""]


def _slice(args: list[Value]) -> Value:
    arity(args, "slice", 3)
    lst = as_sequence(args[0], "slice")
    a, b = as_int(args[1], "slice"), as_int(args[2], "slice")
    if a < 0 or b > len(lst) or a > b:
        raise FunctionError("slice: index out of range")
    return lst[a:b]


def _range(args: list[Value]) -> Value:
    arity(args, "range", 1, 3)
    nums = [to_number(a) for a in args]
    if not all(num.whole(n) is not None for n in nums):
        raise NotDecided("range with fractional arguments")
    ints = [num.whole(n) or 0 for n in nums]
    if len(ints) == 1:
        start, stop, step = 0, ints[0], 1
    elif len(ints) == 2:
        start, stop = ints
        step = 1 if start <= stop else -1
    else:
        start, stop, step = ints
    if step == 0:
        raise FunctionError("range: step must not be zero")
    if (step > 0 and start > stop) or (step < 0 and start < stop):
        raise FunctionError("range: step has the wrong sign")
    count = max(0, math.ceil((stop - start) / step))
    if count > 1024:
        raise FunctionError("range: more than 1024 elements")
    return [start + i * step for i in range(count)]


def _min(args: list[Value]) -> Value:
    if not args:
        raise FunctionError("min: must pass at least one number")
    best = to_number(args[0])
    for a in args[1:]:
        n = to_number(a)
        if num.compare(n, best) < 0:
            best = n
    return best


def _max(args: list[Value]) -> Value:
    if not args:
        raise FunctionError("max: must pass at least one number")
    best = to_number(args[0])
    for a in args[1:]:
        n = to_number(a)
        if num.compare(n, best) > 0:
            best = n
    return best


def _abs(args: list[Value]) -> Value:
    arity(args, "abs", 1)
    return num.absolute(to_number(args[0]))


def _chunklist(args: list[Value]) -> Value:
    arity(args, "chunklist", 2)
    lst, n = as_list(args[0], "chunklist"), as_int(args[1], "chunklist")
    if n < 0:
        raise FunctionError("chunklist: the size must not be negative")
    if n == 0:
        return [lst]
    return [lst[i : i + n] for i in range(0, len(lst), n)]


def _lower(a: list[Value]) -> Value:
    arity(a, "lower", 1)
    return _case(as_str(a[0], "lower"), upper=False)


def _upper(a: list[Value]) -> Value:
    arity(a, "upper", 1)
    return _case(as_str(a[0], "upper"), upper=True)


def _setintersection(a: list[Value]) -> Value:
    if not a:
        raise FunctionError("setintersection: at least one set is required")
    first = make_set(to_list(a[0], "setintersection"))
    others = [_Members(to_list(o, "setintersection")) for o in a[1:]]
    return make_set([x for x in first if all(x in o for o in others)])


def _setsubtract(a: list[Value]) -> Value:
    arity(a, "setsubtract", 2)
    other = _Members(to_list(a[1], "setsubtract"))
    return make_set([x for x in to_list(a[0], "setsubtract") if x not in other])


def _floor(a: list[Value]) -> Value:
    arity(a, "floor", 1)
    return num.floor(to_number(a[0]))


def _ceil(a: list[Value]) -> Value:
    arity(a, "ceil", 1)
    return num.ceil(to_number(a[0]))


def _strrev(a: list[Value]) -> Value:
    arity(a, "strrev", 1)
    return "".join(reversed(graphemes(as_str(a[0], "strrev"))))


def _chomp(a: list[Value]) -> Value:
    """cty's chomp: every trailing ``\r\n``, ``\r`` or ``\n``, nothing else."""
    arity(a, "chomp", 1)
    return as_str(a[0], "chomp").rstrip("\r\n")


def _indent(a: list[Value]) -> Value:
    arity(a, "indent", 2)
    spaces, text = as_int(a[0], "indent"), as_str(a[1], "indent")
    if spaces < 0:
        raise NotDecided("indent: a negative width makes Terraform's strings.Repeat panic")
    if spaces > MAX_FORMAT_WIDTH:
        raise NotDecided(f"indent: width above {MAX_FORMAT_WIDTH}")
    return text.replace("\n", "\n" + " " * spaces)


def _strcontains(a: list[Value]) -> Value:
    arity(a, "strcontains", 2)
    return as_str(a[1], "strcontains") in as_str(a[0], "strcontains")


def _coalescelist(a: list[Value]) -> Value:
    if not a:
        raise FunctionError("coalescelist: at least one argument is required")
    lists = [as_sequence(x, "coalescelist") for x in a]
    for lst in lists:
        if lst:
            return lst
    raise FunctionError("coalescelist: no non-null arguments")


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parseint(a: list[Value]) -> Value:
    """Go's big.Int SetString with an explicit base: an optional sign, then digits only (no
    prefix, no underscores); letters are case-blind up to base 36 and case-sensitive above."""
    arity(a, "parseint", 2)
    if not isinstance(a[0], str):
        raise FunctionError("parseint: first argument must be a string, not a number")
    text, base = a[0], as_int(a[1], "parseint")
    if not 2 <= base <= 62:
        raise FunctionError("parseint: base must be a whole number between 2 and 62 inclusive")
    body = text[1:] if text[:1] in "+-" else text
    digits = _DIGITS[:base] if base > 36 else _DIGITS[:base] + _DIGITS[36 : 36 + max(0, base - 10)]
    if not body or any(ch not in digits for ch in body):
        raise FunctionError(f"parseint: cannot parse {text!r} as a base {base} integer")
    value = 0
    for ch in body:
        d = _DIGITS.index(ch)
        value = value * base + (d - 26 if base <= 36 and d >= 36 else d)
    return -value if text.startswith("-") else value


def _signum(a: list[Value]) -> Value:
    arity(a, "signum", 1)
    n = as_int(a[0], "signum")  # Terraform converts to a 64-bit integer first
    if abs(n) >= 2**63 and n != -(2**63):
        raise FunctionError("signum: value must be a whole number within 64 bits")
    return (n > 0) - (n < 0)


def _pow(a: list[Value]) -> Value:
    """Go's math.Pow is exact where the result is a whole number a float64 holds: decided there,
    and left unknown elsewhere (its rounding differs from every Python pow)."""
    arity(a, "pow", 2)
    base, exp = num.whole(to_number(a[0])), num.whole(to_number(a[1]))
    if base is None or exp is None or exp < 0 or exp > 1024:
        raise NotDecided("pow: only whole powers with an exact result are decided")
    if exp == 0:
        return 1
    if abs(base) > 1 and exp * (abs(base).bit_length() - 1) > 1023:
        raise NotDecided("pow: a result beyond float64's range")
    result = base**exp
    size = abs(result).bit_length()
    if size > 1024 or (size > 53 and result % (1 << (size - 53))):
        raise NotDecided("pow: a result float64 cannot hold exactly")
    return result if size <= 53 else num.Num(Fraction(result), num.FLOAT64)


def _log(a: list[Value]) -> Value:
    """Go's math.Log(x)/math.Log(base), computed as Go computes it (FreeBSD's e_log.c)."""
    arity(a, "log", 2)
    x, b = float(to_number(a[0])), float(to_number(a[1]))
    if x <= 0 or b <= 0 or b == 1 or math.isinf(x) or math.isinf(b):
        raise NotDecided("log: infinities and NaN are not Terraform numbers")
    r = _go_log(x) / _go_log(b)
    if r.is_integer() and abs(r) < 2**53:
        return int(r)
    return num.Num(Fraction(r), num.FLOAT64)  # a float64, as cty.NumberFloatVal holds it


_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_LG = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)


def _go_log(x: float) -> float:
    """math.Log of Go's standard library, step for step (positive finite x)."""
    f1, ki = math.frexp(x)
    if f1 < math.sqrt(2) / 2:
        f1 *= 2
        ki -= 1
    f = f1 - 1
    k = float(ki)
    s = f / (2 + f)
    s2 = s * s
    s4 = s2 * s2
    l1, l2, l3, l4, l5, l6, l7 = _LG
    t1 = s2 * (l1 + s4 * (l3 + s4 * (l5 + s4 * l7)))
    t2 = s4 * (l2 + s4 * (l4 + s4 * l6))
    r = t1 + t2
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


def _sum(a: list[Value]) -> Value:
    arity(a, "sum", 1)
    items = as_list(a[0], "sum")
    if not items:
        raise FunctionError("sum: cannot sum an empty list")
    total: int | float = 0
    for i, x in enumerate(items):
        if x is None or isinstance(x, (list, dict)):
            raise FunctionError("sum: argument must be list, set, or tuple of number values")
        n = to_number(x)
        total = n if i == 0 else num.add(total, n)
    return total


def _bool_items(v: Value, fn: str) -> list[Value]:
    out: list[Value] = []
    for x in as_list(v, fn):
        if isinstance(x, (list, dict)):
            raise FunctionError(f"{fn}: expected a list of bools")
        out.append(None if x is None else to_bool(x))
    return out


def _alltrue(a: list[Value]) -> Value:
    arity(a, "alltrue", 1)
    return all(x is True for x in _bool_items(a[0], "alltrue"))


def _anytrue(a: list[Value]) -> Value:
    arity(a, "anytrue", 1)
    return any(x is True for x in _bool_items(a[0], "anytrue"))


def _matchkeys(a: list[Value]) -> Value:
    arity(a, "matchkeys", 3)
    values, keys = to_list(a[0], "matchkeys"), as_list(a[1], "matchkeys")
    search = as_list(a[2], "matchkeys")
    if len(values) != len(keys):
        raise FunctionError("matchkeys: length of keys and values should be equal")
    if any(isinstance(x, (list, dict)) for x in [*keys, *search]):
        raise NotDecided("matchkeys over collection keys")
    kinds = {type_name(x) for x in [*keys, *search] if x is not None}
    if len(kinds) > 1:
        raise NotDecided("matchkeys: keys and searchset of different types are converted")
    wanted = _Members(search)
    return [v for v, k in zip(values, keys, strict=True) if k in wanted]


def _setproduct(a: list[Value]) -> Value:
    if len(a) < 2:
        raise FunctionError("setproduct: at least two arguments are required")
    lists = [to_list(x, "setproduct") for x in a]
    product: list[list[Value]] = [[]]
    for lst in lists:
        product = [[*p, x] for p in product for x in lst]
        if len(product) > 100_000:
            raise NotDecided("setproduct: more than 100,000 combinations")
    if any(isinstance(x, TfSet) for x in a) and len(product) > 1:
        raise NotDecided("Terraform orders sets of collections by hash")
    return TfSet(product) if any(isinstance(x, TfSet) for x in a) else product


def _transpose(a: list[Value]) -> Value:
    arity(a, "transpose", 1)
    m = as_map(a[0], "transpose")
    out: dict[str, list[Value]] = {}
    for key in sorted(m):
        for item in to_string_list(m[key], "transpose"):
            if item is None:
                raise FunctionError("transpose: input must be a map of lists of strings")
            out.setdefault(item, []).append(key)
    return out


def _sensitive(a: list[Value]) -> Value:
    """ciiguard does not track sensitivity: the value is the value."""
    arity(a, "sensitive", 1)
    return a[0]


CORE_FUNCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    "lookup": _lookup,
    "coalesce": _coalesce,
    "element": _element,
    "index": _index,
    "keys": _keys,
    "values": _values,
    "zipmap": _zipmap,
    "merge": _merge_fn,
    "concat": _concat,
    "flatten": _flatten,
    "distinct": _distinct,
    "contains": _contains,
    "startswith": _startswith,
    "endswith": _endswith,
    "regex": _regex,
    "regexall": _regexall,
    "replace": _replace,
    "substr": _substr,
    "trimprefix": _trimprefix,
    "trimsuffix": _trimsuffix,
    "trimspace": _trimspace,
    "trim": _trim,
    "format": _format,
    "formatlist": _formatlist,
    "join": _join,
    "split": _split,
    "upper": _upper,
    "lower": _lower,
    "title": _title,
    "tostring": _tostring,
    "tonumber": _tonumber,
    "tobool": _tobool,
    "jsondecode": _jsondecode,
    "jsonencode": _jsonencode,
    "length": _length,
    "one": _one,
    "sort": _sort,
    "setunion": _setunion,
    "setintersection": _setintersection,
    "setsubtract": _setsubtract,
    "toset": _toset,
    "tolist": _tolist,
    "tomap": _tomap,
    "reverse": _reverse,
    "compact": _compact,
    "slice": _slice,
    "range": _range,
    "min": _min,
    "max": _max,
    "abs": _abs,
    "floor": _floor,
    "ceil": _ceil,
    "chunklist": _chunklist,
    "strrev": _strrev,
    "chomp": _chomp,
    "indent": _indent,
    "strcontains": _strcontains,
    "coalescelist": _coalescelist,
    "parseint": _parseint,
    "signum": _signum,
    "pow": _pow,
    "log": _log,
    "sum": _sum,
    "alltrue": _alltrue,
    "anytrue": _anytrue,
    "matchkeys": _matchkeys,
    "setproduct": _setproduct,
    "transpose": _transpose,
    "sensitive": _sensitive,
    "nonsensitive": _sensitive,
}
