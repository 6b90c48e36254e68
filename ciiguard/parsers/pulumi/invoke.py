"""Answers to a Pulumi program's invokes (``aws.get_availability_zones()``) under the mocks.

There is no cloud to ask, so each answer has the shape the provider's schema gives the result
(so a program that iterates over it runs to the end) and holds nothing that could decide a
verdict: a field that names the provider's region (catalogue ``invokes``, and ``region`` in any
result of a bridged provider) is that region; every other string is a stand-in that becomes
*unknown* when it reaches a captured resource; the result's own lists have three elements (as many
as the availability zones of each China region), lists deeper in it one; a field that echoes an argument
is the argument; numbers and flags, which have no stand-in, are unset where the schema allows it
and otherwise 1 and false, each one reported as a warning.

Language-neutral: a runner describes the result type as ``Field``s (the Python runner from the
SDK's result classes, the Node runner from its own reading) and gets plain JSON values back.

Enters: an invoke token, its arguments, the provider's region, the result's fields.
Leaves: the result object (Pulumi names) and the fields answered with a number or flag stand-in.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ciiguard.model import Unknown

__all__ = ["INVOKE_MARK", "Field", "InvokeAnswer", "answer", "unknown_from_mark"]

INVOKE_MARK = "ciiguard:invoke-result:"
_MARK = re.compile(re.escape(INVOKE_MARK) + r"([^\s\"'#]+)#([^\s\"']*)")
MAX_DEPTH = 6
# A result's own lists have three elements: programs index the first two or three availability
# zones (``zones.names[1]``), and every China region has three. One element stopped such a
# program with an IndexError (exit 2). Lists deeper in a result have one.
TOP_LIST_LENGTH = 3


@dataclass(frozen=True)
class Field:
    """One field of a result type: its Pulumi name and kind (string, integer, number, boolean,
    list, map, object, any), with the element of a list or map and the fields of an object."""

    name: str
    kind: str
    item: Field | None = None
    fields: tuple[Field, ...] = ()
    optional: bool = False  # the schema allows no value


@dataclass
class InvokeAnswer:
    value: dict[str, Any]
    stand_ins: list[str] = field(default_factory=list)  # paths answered with 1 or false


@functools.lru_cache(maxsize=1)
def _region_fields() -> Mapping[str, frozenset[str]]:
    """Invoke token -> result fields that are the provider's region (catalogue data)."""
    text = resources.files("ciiguard").joinpath("catalogue/data/pulumi.json").read_text("utf-8")
    return {
        str(e["token"]): frozenset(str(f) for f in e.get("region_fields", ()))
        for e in json.loads(text).get("invokes", [])
    }


def answer(
    token: str, args: Mapping[str, Any], region: Any, fields: Sequence[Field]
) -> InvokeAnswer:
    """The result of invoke ``token`` as the mocks give it (see the module docstring)."""
    own = args.get("region") if isinstance(args.get("region"), str) else None
    known_region = own or (region if isinstance(region, str) and region else None)
    regional = _region_fields().get(token, frozenset()) | {"region"}
    out = InvokeAnswer({})
    for f in fields:
        if f.name in regional and known_region is not None and f.kind in ("string", "any"):
            out.value[f.name] = known_region
        elif args.get(f.name) is not None:  # results echo their arguments, in the result's type
            out.value[f.name] = _as_kind(f, _echo(token, args[f.name], f.name))
        else:
            out.value[f.name] = _stand_in(token, f, f.name, out, 0)
    return out


def _echo(token: str, value: Any, path: str) -> Any:
    """An argument as its result echoes it: what is unknown in it (another invoke's result,
    ``filters=[{"values": [vpc.id]}]``) is a stand-in again, a value the program can pass on."""
    if isinstance(value, Unknown):
        return f"{INVOKE_MARK}{token}#{path}"
    if isinstance(value, dict):
        return {k: _echo(token, v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_echo(token, v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _as_kind(f: Field, value: Any) -> Any:
    """An echoed argument as the result's field declares it: the provider converts a string
    argument to the schema's bool or number (``get_ami(most_recent="true")`` returns
    ``most_recent`` True), and the SDK's result class checks the type (a string stopped the
    program: twelfth audit). A string that does not convert stays as it is."""
    if not isinstance(value, str):
        return value
    if f.kind == "boolean" and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if f.kind in ("integer", "number"):
        try:
            n = float(value)
        except ValueError:
            return value
        if not math.isfinite(n):
            return value
        if f.kind == "integer" and n.is_integer():
            return int(n)
        return n if f.kind == "number" else value
    return value


def _stand_in(token: str, f: Field, path: str, out: InvokeAnswer, depth: int) -> Any:
    if depth > MAX_DEPTH:
        return None
    if f.kind in ("string", "any"):
        return f"{INVOKE_MARK}{token}#{path}"
    if f.kind in ("integer", "number", "boolean"):
        if f.optional:
            return None  # the schema allows it unset: no stand-in needed
        out.stand_ins.append(path)
        return 1 if f.kind != "boolean" else False
    if f.kind == "list":
        item = f.item or Field("", "any")
        n = TOP_LIST_LENGTH if depth == 0 else 1
        return [_stand_in(token, item, f"{path}[{i}]", out, depth + 1) for i in range(n)]
    if f.kind == "map":
        return {}
    if f.kind == "object":
        return {
            sub.name: _stand_in(token, sub, f"{path}.{sub.name}", out, depth + 1)
            for sub in f.fields
        }
    return None


def unknown_from_mark(value: str) -> Unknown | None:
    """The unknown a stand-in string (whole, or inside a longer string) stands for, or None."""
    if INVOKE_MARK not in value:
        return None
    found = _MARK.search(value)
    if found is None:
        return Unknown("an invoke's result is not known before deployment")
    function = found.group(1).rsplit(":", 1)[-1]
    return Unknown(
        f"{function}() result {found.group(2)} is not known before deployment (ciiguard's "
        "mocks answer invokes with stand-ins)"
    )
