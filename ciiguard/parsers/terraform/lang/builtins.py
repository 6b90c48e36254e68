"""Every Terraform built-in function ciiguard evaluates, by name (``core::`` names included by
the evaluator). Functions not here stay unknown; docs/terraform.md lists them with the reason.

The date, encoding and network functions are imported on their first call: most scans call
none of them, and a re-scan after an edit imports what it needs (``LAZY`` names each module's
functions; a test holds it to the modules' own tables)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ciiguard.parsers.terraform.lang.functions import CORE_FUNCTIONS, Value

__all__ = ["FUNCTIONS", "LAZY"]

Function = Callable[[list[Value]], Value]

# module -> (its table of functions, their names)
LAZY: dict[str, tuple[str, tuple[str, ...]]] = {
    "ciiguard.parsers.terraform.lang.encoding": (
        "ENCODING_FUNCTIONS",
        (
            "base64decode",
            "base64encode",
            "base64sha256",
            "base64sha512",
            "basename",
            "csvdecode",
            "dirname",
            "md5",
            "sha1",
            "sha256",
            "sha512",
            "textdecodebase64",
            "textencodebase64",
            "urlencode",
            "uuidv5",
        ),
    ),
    "ciiguard.parsers.terraform.lang.network": (
        "NETWORK_FUNCTIONS",
        ("cidrhost", "cidrnetmask", "cidrsubnet", "cidrsubnets"),
    ),
    "ciiguard.parsers.terraform.lang.dates": (
        "DATE_FUNCTIONS",
        ("formatdate", "timeadd", "timecmp"),
    ),
}


def _on_first_call(module: str, table: str, name: str) -> Function:
    def call(args: list[Value]) -> Value:
        found: Function = getattr(importlib.import_module(module), table)[name]
        FUNCTIONS[name] = found  # later calls go straight to it
        return found(args)

    return call


FUNCTIONS: dict[str, Function] = {
    **CORE_FUNCTIONS,
    **{
        name: _on_first_call(module, table, name)
        for module, (table, names) in LAZY.items()
        for name in names
    },
}
