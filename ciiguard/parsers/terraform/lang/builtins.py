"""Every Terraform built-in function ciiguard evaluates, by name (``core::`` names included by
the evaluator). Functions not here stay unknown; docs/terraform.md lists them with the reason."""

from __future__ import annotations

from collections.abc import Callable

from ciiguard.parsers.terraform.lang.dates import DATE_FUNCTIONS
from ciiguard.parsers.terraform.lang.encoding import ENCODING_FUNCTIONS
from ciiguard.parsers.terraform.lang.functions import CORE_FUNCTIONS, Value
from ciiguard.parsers.terraform.lang.network import NETWORK_FUNCTIONS

__all__ = ["FUNCTIONS"]

FUNCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    **CORE_FUNCTIONS,
    **ENCODING_FUNCTIONS,
    **NETWORK_FUNCTIONS,
    **DATE_FUNCTIONS,
}
