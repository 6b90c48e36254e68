"""Terraform built-in functions that region and tag expressions use, over plain Python values.

Values: str, int, float, bool, None, list, dict, or ``Unknown``. Every function is total: it either
returns a value or raises ``FunctionError`` (what Terraform would report as an error). Functions
never see Unknown arguments: the evaluator short-circuits those (except ``try``/``can``/``coalesce``,
handled in the evaluator itself).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

Value = Any


class FunctionError(Exception):
    """A call Terraform would reject (wrong type, missing key, out of range)."""


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


def normalise_number(n: float | int) -> int | float:
    if isinstance(n, float):
        if math.isnan(n) or math.isinf(n):
            raise FunctionError("number out of range")
        if n.is_integer() and abs(n) < 2**63:
            return int(n)
    return n


def format_number(n: int | float) -> str:
    n = normalise_number(n)
    if isinstance(n, int):
        return str(n)
    text = repr(n)
    if "e" in text:
        text = f"{n:.17f}".rstrip("0").rstrip(".")
    return text


def to_string(v: Value) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return format_number(v)
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
            return (
                normalise_number(float(v))
                if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", v.strip()) and v == v.strip()
                else _bad_number(v)
            )
        except (ValueError, OverflowError):
            raise FunctionError(f"cannot convert {v!r} to number") from None
    raise FunctionError(f"cannot convert {type_name(v)} to number")


def _bad_number(v: str) -> int:
    raise FunctionError(f"cannot convert {v!r} to number")


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


def as_map(v: Value, fn: str) -> dict[str, Value]:
    if isinstance(v, dict):
        return v
    raise FunctionError(f"{fn}: expected a map or object, got {type_name(v)}")


def as_str(v: Value, fn: str) -> str:
    if isinstance(v, (dict, list)) or v is None:
        raise FunctionError(f"{fn}: expected a string, got {type_name(v)}")
    return to_string(v)


def as_int(v: Value, fn: str) -> int:
    n = to_number(v)
    if isinstance(n, float):
        if not n.is_integer():
            raise FunctionError(f"{fn}: expected a whole number")
        n = int(n)
    return n


def equal(a: Value, b: Value) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type_name(a) != type_name(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return bool(a == b)


def make_set(items: list[Value]) -> list[Value]:
    """Terraform sets: unique elements; sets of strings iterate in lexical order."""
    out: list[Value] = []
    for item in items:
        if item is None:
            raise FunctionError("sets must not contain null values")
        if not any(equal(item, o) for o in out):
            out.append(item)
    if all(isinstance(x, str) for x in out) or all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in out
    ):
        out.sort()
    return out


def _unify_strings(items: list[Value]) -> list[Value]:
    """Mixed primitive lists convert to strings, as Terraform's type unification does."""
    kinds = {type_name(x) for x in items if x is not None}
    if len(kinds) > 1 and kinds <= {"string", "number", "bool"}:
        return [to_string(x) if x is not None else None for x in items]
    return items


# -- the functions ----------------------------------------------------------------------------


def _lookup(args: list[Value]) -> Value:
    if len(args) not in (2, 3):
        raise FunctionError("lookup: takes 2 or 3 arguments")
    m = as_map(args[0], "lookup")
    key = as_str(args[1], "lookup")
    if key in m:
        return m[key]
    if len(args) == 3:
        return args[2]
    raise FunctionError(f"lookup: no key {key!r}")


def _coalesce(args: list[Value]) -> Value:
    for a in args:
        if a is not None and a != "":
            return a
    raise FunctionError("coalesce: no non-null, non-empty argument")


def _element(args: list[Value]) -> Value:
    lst = as_list(args[0], "element")
    if not lst:
        raise FunctionError("element: empty list")
    i = as_int(args[1], "element")
    if i < 0:
        raise FunctionError("element: negative index")
    return lst[i % len(lst)]


def _index(args: list[Value]) -> Value:
    lst = as_list(args[0], "index")
    for i, item in enumerate(lst):
        if equal(item, args[1]):
            return i
    raise FunctionError("index: item not found")


def _merge(args: list[Value]) -> Value:
    out: dict[str, Value] = {}
    for a in args:
        if a is None:
            continue
        out.update(as_map(a, "merge"))
    return out


def _concat(args: list[Value]) -> Value:
    out: list[Value] = []
    for a in args:
        out.extend(as_list(a, "concat"))
    return out


def _flatten(args: list[Value]) -> Value:
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
    out: list[Value] = []
    for x in as_list(args[0], "distinct"):
        if not any(equal(x, o) for o in out):
            out.append(x)
    return out


def _contains(args: list[Value]) -> Value:
    return any(equal(x, args[1]) for x in as_list(args[0], "contains"))


def _format_verb(verb: str, flags: str, value: Value) -> str:
    if verb == "s":
        text = (
            to_string(value)
            if not isinstance(value, (list, dict))
            else json.dumps(value, separators=(",", ":"))
        )
    elif verb == "d":
        text = str(as_int(value, "format"))
    elif verb == "q":
        text = json.dumps(to_string(value))
    elif verb == "v":
        text = (
            to_string(value)
            if not isinstance(value, (list, dict))
            else json.dumps(value, separators=(",", ":"))
        )
    elif verb == "t":
        text = "true" if to_bool(value) else "false"
    elif verb in "fFeEgG":
        prec = re.search(r"\.(\d+)", flags)
        spec = f".{prec.group(1)}{verb}" if prec else ("f" if verb in "fF" else verb)
        text = format(float(to_number(value)), spec)
        if verb in "fF" and not prec:
            text = format(float(to_number(value)), ".6f")
    elif verb in "xX":
        text = format(as_int(value, "format"), verb)
    elif verb == "o":
        text = format(as_int(value, "format"), "o")
    elif verb == "b":
        text = format(as_int(value, "format"), "b")
    else:
        raise FunctionError(f"format: unsupported verb %{verb}")
    width = re.match(r"[-+ 0#]*(\d+)", flags)
    if width:
        w = int(width.group(1))
        text = (
            text.ljust(w)
            if "-" in flags
            else text.rjust(w, "0" if "0" in flags and verb != "s" else " ")
        )
    return text


_VERB = re.compile(r"%([-+ 0#]*\d*(?:\.\d+)?)(\[\d+\])?([a-zA-Z%])")


def _format(args: list[Value]) -> Value:
    fmt = as_str(args[0], "format")
    values = args[1:]
    pos = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal pos
        flags, explicit, verb = m.group(1), m.group(2), m.group(3)
        if verb == "%":
            return "%"
        if explicit:
            pos = int(explicit[1:-1]) - 1
        if pos >= len(values):
            raise FunctionError("format: not enough arguments")
        v = values[pos]
        pos += 1
        return _format_verb(verb, flags, v)

    return _VERB.sub(sub, fmt)


def _formatlist(args: list[Value]) -> Value:
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
    sep = as_str(args[0], "join")
    items: list[Value] = []
    for a in args[1:]:
        items.extend(as_list(a, "join"))
    return sep.join(as_str(x, "join") for x in items)


def _split(args: list[Value]) -> Value:
    sep, s = as_str(args[0], "split"), as_str(args[1], "split")
    if sep == "":
        return list(s)
    return s.split(sep)


def _go_regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern.replace("(?P<", "(?P<").replace("\\z", "\\Z"))
    except re.error as exc:
        raise FunctionError(f"invalid regular expression: {exc}") from None


def _replace(args: list[Value]) -> Value:
    s, sub, rep = (as_str(a, "replace") for a in args)
    if len(sub) > 1 and sub.startswith("/") and sub.endswith("/"):
        rx = _go_regex(sub[1:-1])
        return rx.sub(re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", rep.replace("\\", "\\\\")), s)
    return s.replace(sub, rep)


def _regex_result(m: re.Match[str]) -> Value:
    if m.re.groupindex:
        return {name: m.group(name) for name in m.re.groupindex}
    if m.re.groups:
        return list(m.groups())
    return m.group(0)


def _regex(args: list[Value]) -> Value:
    m = _go_regex(as_str(args[0], "regex")).search(as_str(args[1], "regex"))
    if m is None:
        raise FunctionError("regex: pattern did not match")
    return _regex_result(m)


def _regexall(args: list[Value]) -> Value:
    rx = _go_regex(as_str(args[0], "regexall"))
    return [_regex_result(m) for m in rx.finditer(as_str(args[1], "regexall"))]


def _substr(args: list[Value]) -> Value:
    s = as_str(args[0], "substr")
    offset, length = as_int(args[1], "substr"), as_int(args[2], "substr")
    if offset < 0:
        offset = len(s) + offset
    if offset < 0 or offset > len(s):
        raise FunctionError("substr: offset out of range")
    return s[offset:] if length == -1 else s[offset : offset + length]


def _title(args: list[Value]) -> Value:
    return re.sub(
        r"(^|[^\w])(\w)", lambda m: m.group(1) + m.group(2).upper(), as_str(args[0], "title")
    )


def _tonumber(args: list[Value]) -> Value:
    return None if args[0] is None else to_number(args[0])


def _tobool(args: list[Value]) -> Value:
    return None if args[0] is None else to_bool(args[0])


def _tostring(args: list[Value]) -> Value:
    if args[0] is None:
        return None
    if isinstance(args[0], (list, dict)):
        raise FunctionError("tostring: cannot convert a collection to string")
    return to_string(args[0])


def _tolist(args: list[Value]) -> Value:
    return _unify_strings(list(as_list(args[0], "tolist")))


def _toset(args: list[Value]) -> Value:
    return make_set(_unify_strings(as_list(args[0], "toset")))


def _tomap(args: list[Value]) -> Value:
    m = as_map(args[0], "tomap")
    return dict(zip(m.keys(), _unify_strings(list(m.values())), strict=True))


def _length(args: list[Value]) -> Value:
    v = args[0]
    if isinstance(v, (str, list, dict)):
        return len(v)
    raise FunctionError(f"length: cannot take length of {type_name(v)}")


def _one(args: list[Value]) -> Value:
    lst = as_list(args[0], "one")
    if len(lst) > 1:
        raise FunctionError("one: more than one element")
    return lst[0] if lst else None


def _sort(args: list[Value]) -> Value:
    return sorted(as_str(x, "sort") for x in as_list(args[0], "sort"))


def _setunion(args: list[Value]) -> Value:
    items: list[Value] = []
    for a in args:
        items.extend(as_list(a, "setunion"))
    return make_set(items)


def _keys(args: list[Value]) -> Value:
    return sorted(as_map(args[0], "keys"))


def _values(args: list[Value]) -> Value:
    m = as_map(args[0], "values")
    return [m[k] for k in sorted(m)]


def _zipmap(args: list[Value]) -> Value:
    ks, vs = as_list(args[0], "zipmap"), as_list(args[1], "zipmap")
    if len(ks) != len(vs):
        raise FunctionError("zipmap: lists of different lengths")
    return {as_str(k, "zipmap"): v for k, v in zip(ks, vs, strict=True)}


def _jsondecode(args: list[Value]) -> Value:
    try:
        return _json_to_value(json.loads(as_str(args[0], "jsondecode")))
    except (ValueError, RecursionError):
        raise FunctionError("jsondecode: invalid JSON") from None


def _json_to_value(v: Any) -> Value:
    if isinstance(v, float):
        return normalise_number(v)
    if isinstance(v, list):
        return [_json_to_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _json_to_value(x) for k, x in v.items()}
    return v


def _jsonencode(args: list[Value]) -> Value:
    def enc(v: Value) -> Any:
        if isinstance(v, dict):
            return {k: enc(v[k]) for k in sorted(v)}
        if isinstance(v, list):
            return [enc(x) for x in v]
        return v

    text = json.dumps(enc(args[0]), separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _startswith(args: list[Value]) -> Value:
    return as_str(args[0], "startswith").startswith(as_str(args[1], "startswith"))


def _endswith(args: list[Value]) -> Value:
    return as_str(args[0], "endswith").endswith(as_str(args[1], "endswith"))


def _trimprefix(args: list[Value]) -> Value:
    s, p = as_str(args[0], "trimprefix"), as_str(args[1], "trimprefix")
    return s[len(p) :] if p and s.startswith(p) else s


def _trimsuffix(args: list[Value]) -> Value:
    s, p = as_str(args[0], "trimsuffix"), as_str(args[1], "trimsuffix")
    return s[: -len(p)] if p and s.endswith(p) else s


def _trimspace(args: list[Value]) -> Value:
    return as_str(args[0], "trimspace").strip()


def _trim(args: list[Value]) -> Value:
    return as_str(args[0], "trim").strip(as_str(args[1], "trim"))


def _reverse(args: list[Value]) -> Value:
    return list(reversed(as_list(args[0], "reverse")))


def _compact(args: list[Value]) -> Value:
    return [x for x in as_list(args[0], "compact") if x is not None and x != ""]


def _slice(args: list[Value]) -> Value:
    lst = as_list(args[0], "slice")
    a, b = as_int(args[1], "slice"), as_int(args[2], "slice")
    if a < 0 or b > len(lst) or a > b:
        raise FunctionError("slice: index out of range")
    return lst[a:b]


def _range(args: list[Value]) -> Value:
    nums = [to_number(a) for a in args]
    start, stop, step = (
        (0, nums[0], 1) if len(nums) == 1 else (nums[0], nums[1], nums[2] if len(nums) > 2 else 1)
    )
    if step == 0:
        raise FunctionError("range: step must not be zero")
    count = max(0, math.ceil((stop - start) / step))
    if count > 1024:
        raise FunctionError("range: more than 1024 elements")
    return [normalise_number(start + i * step) for i in range(count)]


def _min(args: list[Value]) -> Value:
    return normalise_number(min(to_number(a) for a in args))


def _max(args: list[Value]) -> Value:
    return normalise_number(max(to_number(a) for a in args))


def _abs(args: list[Value]) -> Value:
    return normalise_number(abs(to_number(args[0])))


def _chunklist(args: list[Value]) -> Value:
    lst, n = as_list(args[0], "chunklist"), as_int(args[1], "chunklist")
    if n <= 0:
        return [lst]
    return [lst[i : i + n] for i in range(0, len(lst), n)]


def _lower(a: list[Value]) -> Value:
    return as_str(a[0], "lower").lower()


def _upper(a: list[Value]) -> Value:
    return as_str(a[0], "upper").upper()


def _setintersection(a: list[Value]) -> Value:
    first = make_set(as_list(a[0], "setintersection"))
    return make_set(
        [
            x
            for x in first
            if all(any(equal(x, y) for y in as_list(o, "setintersection")) for o in a[1:])
        ]
    )


def _setsubtract(a: list[Value]) -> Value:
    other = as_list(a[1], "setsubtract")
    return make_set(
        [x for x in as_list(a[0], "setsubtract") if not any(equal(x, y) for y in other)]
    )


def _floor(a: list[Value]) -> Value:
    return math.floor(to_number(a[0]))


def _ceil(a: list[Value]) -> Value:
    return math.ceil(to_number(a[0]))


def _strrev(a: list[Value]) -> Value:
    return as_str(a[0], "strrev")[::-1]


FUNCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    "lookup": _lookup,
    "coalesce": _coalesce,
    "element": _element,
    "index": _index,
    "keys": _keys,
    "values": _values,
    "zipmap": _zipmap,
    "merge": _merge,
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
}
