"""Why a resource is where it is names the values that decided its region, not every value the
expression read: the branch a condition takes, the first non-empty argument of ``coalesce``, a
``lookup``'s default only when the key is missing (``--explain`` named an unused default, the
Hong Kong one, as the source of a mainland region: fourth audit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ciiguard.testing import scan_path

CONFIG = """
variable "mainland" {
  default = "chinaeast2"
}
variable "hong_kong" {
  default = "eastasia"
}
variable "on" {
  default = %s
}
variable "zones" {
  default = { primary = "chinanorth3" }
}
resource "azurerm_storage_account" "s" {
  name                     = "s"
  location                 = %s
  resource_group_name      = "rg"
  account_tier             = "Standard"
  account_replication_type = "LRS"
}
"""


@pytest.mark.parametrize(
    ("on", "expression", "region", "named", "not_named"),
    [
        ("true", "var.on ? var.mainland : var.hong_kong", "chinaeast2",
         ["var.on", "var.mainland"], ["var.hong_kong"]),
        ("false", "var.on ? var.mainland : var.hong_kong", "eastasia",
         ["var.on", "var.hong_kong"], ["var.mainland"]),
        ("true", "coalesce(var.mainland, var.hong_kong)", "chinaeast2",
         ["var.mainland"], ["var.hong_kong"]),
        ("true", 'coalesce("", var.hong_kong, var.mainland)', "eastasia",
         ["var.hong_kong"], ["var.mainland"]),
        ("true", 'lookup(var.zones, "primary", var.hong_kong)', "chinanorth3",
         ["var.zones"], ["var.hong_kong"]),
        ("true", 'lookup(var.zones, "dr", var.hong_kong)', "eastasia",
         ["var.zones", "var.hong_kong"], []),
    ],
)  # fmt: skip
def test_the_explanation_names_what_decided(
    tmp_path: Path, on: str, expression: str, region: str, named: list[str], not_named: list[str]
) -> None:
    (tmp_path / "main.tf").write_text(CONFIG % (on, expression))
    (r,) = scan_path(tmp_path, check=False, use_cache=False).resources
    assert r.region.region == region
    hops = [h.what for h in r.region.provenance]
    for name in named:
        assert name in hops, (name, hops)
    for name in not_named:
        assert name not in hops, (name, hops)
