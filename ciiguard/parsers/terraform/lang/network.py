"""Terraform's CIDR functions as go-cidr computes them, on plain integers.

Terraform parses prefixes with a copy of Go 1.16's ``net.ParseCIDR`` (leading zeros read as
decimal); Python's ``ipaddress`` rejects them, so such prefixes are left undecided, as are IPv6
zones and IPv4-mapped IPv6 networks (Go prints those in dotted form).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from ciiguard.parsers.terraform.lang.functions import (
    FunctionError,
    NotDecided,
    Value,
    arity,
    as_int,
    as_str,
)

__all__ = ["NETWORK_FUNCTIONS"]

_V4 = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,3})")
_V6 = re.compile(r"[0-9A-Fa-f:.]+/(\d{1,3})")
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


@dataclass(frozen=True)
class Net:
    """A parsed prefix: its masked address as an integer, prefix length and address width."""

    addr: int
    plen: int
    bits: int

    def mask(self, plen: int) -> int:
        return ((1 << plen) - 1) << (self.bits - plen)

    def text(self, addr: int) -> str:
        return str(ipaddress.ip_address(addr) if self.bits == 32 else ipaddress.IPv6Address(addr))

    def last(self) -> int:
        return self.addr | ((1 << (self.bits - self.plen)) - 1)


def parse_cidr(text: str, fn: str) -> Net:
    m4 = _V4.fullmatch(text)
    if m4:
        if any(len(g) > 1 and g.startswith("0") for g in m4.groups()):
            raise NotDecided(f"{fn}: leading zeros, which Terraform reads as decimal")
        octets, plen = [int(g) for g in m4.groups()[:4]], int(m4.group(5))
        if any(o > 255 for o in octets) or plen > 32:
            raise FunctionError(f"{fn}: invalid CIDR expression {text!r}")
        addr = int.from_bytes(bytes(octets), "big")
        net = Net(0, plen, 32)
        return Net(addr & net.mask(plen), plen, 32)
    m6 = _V6.fullmatch(text)
    if m6 and ":" in text:
        if len(m6.group(1)) > 1 and m6.group(1).startswith("0"):
            raise NotDecided(f"{fn}: a prefix length with leading zeros")
        try:
            network = ipaddress.IPv6Network(text, strict=False)
        except ValueError:
            raise NotDecided(f"{fn}: an IPv6 form ciiguard does not read like Go") from None
        if network.subnet_of(_MAPPED) or network.supernet_of(_MAPPED):
            raise NotDecided(f"{fn}: IPv4-mapped IPv6 prefixes print differently in Go")
        return Net(int(network.network_address), network.prefixlen, 128)
    if "%" in text or ":" in text:
        raise NotDecided(f"{fn}: an address form ciiguard does not read like Go")
    raise FunctionError(f"{fn}: invalid CIDR expression {text!r}")


def _number(v: Value, fn: str) -> int:
    n = as_int(v, fn)
    if abs(n) >= 2**63:
        raise NotDecided(f"{fn}: a number beyond 64 bits")
    return n


def _cidrhost(a: list[Value]) -> Value:
    arity(a, "cidrhost", 2)
    net = parse_cidr(as_str(a[0], "cidrhost"), "cidrhost")
    n = _number(a[1], "cidrhost")
    max_host = (1 << (net.bits - net.plen)) - 1
    magnitude = -n - 1 if n < 0 else n
    if magnitude > max_host:
        raise FunctionError(
            f"cidrhost: prefix of {net.plen} does not accommodate a host numbered {n}"
        )
    host = max_host - magnitude if n < 0 else n
    return net.text(net.addr | host)


def _cidrnetmask(a: list[Value]) -> Value:
    arity(a, "cidrnetmask", 1)
    net = parse_cidr(as_str(a[0], "cidrnetmask"), "cidrnetmask")
    if net.bits != 32:
        raise FunctionError("cidrnetmask: IPv6 addresses cannot have a netmask")
    return net.text(net.mask(net.plen))


def _cidrsubnet(a: list[Value]) -> Value:
    arity(a, "cidrsubnet", 3)
    net = parse_cidr(as_str(a[0], "cidrsubnet"), "cidrsubnet")
    newbits, netnum = as_int(a[1], "cidrsubnet"), _number(a[2], "cidrsubnet")
    if newbits < 0 or netnum < 0:
        raise NotDecided("cidrsubnet: negative numbers wrap around in go-cidr")
    if newbits > 32:
        raise FunctionError("cidrsubnet: may not extend prefix by more than 32 bits")
    plen = net.plen + newbits
    if plen > net.bits:
        raise FunctionError(
            f"cidrsubnet: insufficient address space to extend prefix of {net.plen} by {newbits}"
        )
    if netnum > (1 << newbits) - 1:
        raise FunctionError(
            f"cidrsubnet: prefix extension of {newbits} does not accommodate a subnet "
            f"numbered {netnum}"
        )
    return f"{net.text(net.addr | (netnum << (net.bits - plen)))}/{plen}"


def _cidrsubnets(a: list[Value]) -> Value:
    """go-cidr's PreviousSubnet/NextSubnet walk: each subnet starts after the one before."""
    if not a:
        raise FunctionError("cidrsubnets: wrong number of arguments")
    net = parse_cidr(as_str(a[0], "cidrsubnets"), "cidrsubnets")
    lengths = [as_int(x, "cidrsubnets") for x in a[1:]]
    if not lengths:
        return []
    full = (1 << net.bits) - 1
    first = net.plen + lengths[0]
    if not 0 <= first <= net.bits:
        raise NotDecided("cidrsubnets: a first prefix outside the address")
    cur_plen = first
    cur_addr = ((net.addr - 1) & full) & net.mask(first)
    out: list[Value] = []
    for length in lengths:
        if length < 1:
            raise FunctionError("cidrsubnets: must extend prefix by at least one bit")
        if length > 32:
            raise FunctionError("cidrsubnets: may not extend prefix by more than 32 bits")
        plen = length + net.plen
        if plen > net.bits:
            raise FunctionError(f"cidrsubnets: would extend prefix to {plen} bits")
        current_last = cur_addr | ((1 << (net.bits - cur_plen)) - 1)
        subnet = current_last & net.mask(plen)
        last = (subnet | ((1 << (net.bits - plen)) - 1)) + 1
        rollover = last > full
        nxt = (last & full) & net.mask(plen)
        if rollover or nxt & net.mask(net.plen) != net.addr:
            raise FunctionError(
                f"cidrsubnets: not enough remaining address space for a subnet with a prefix "
                f"of {plen} bits"
            )
        cur_addr, cur_plen = nxt, plen
        out.append(f"{net.text(nxt)}/{plen}")
    return out


NETWORK_FUNCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    "cidrhost": _cidrhost,
    "cidrnetmask": _cidrnetmask,
    "cidrsubnet": _cidrsubnet,
    "cidrsubnets": _cidrsubnets,
}
