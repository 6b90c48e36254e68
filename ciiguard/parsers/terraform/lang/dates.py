"""Terraform's timestamp functions (formatdate, timeadd, timecmp) on RFC 3339 text.

Timestamps are read as Go's ``time.Parse(time.RFC3339, ...)`` reads them; forms ciiguard is not
sure Go accepts are undecided rather than guessed. ``timestamp()`` and ``plantimestamp()`` stay
unknown (they are the time of the run), so these decide only over literal timestamps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ciiguard.parsers.terraform.lang.functions import (
    FunctionError,
    NotDecided,
    Value,
    arity,
    as_str,
)

__all__ = ["DATE_FUNCTIONS"]

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})"
)
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_NS = 1_000_000_000


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


@dataclass(frozen=True)
class Instant:
    """A point in time (nanoseconds since the epoch) and the offset it was written with."""

    ns: int
    offset: int  # seconds east of UTC
    utc: bool  # written with "Z"

    def fields(self) -> tuple[int, int, int, int, int, int, int]:
        """Year, month, day, hour, minute, second and weekday (Monday = 0) at its offset."""
        local = self.ns // _NS + self.offset
        days, secs = divmod(local, 86400)
        y, m, d = _civil_from_days(days)
        return y, m, d, secs // 3600, secs // 60 % 60, secs % 60, (days + 3) % 7

    def zone(self, colon: bool, z: bool) -> str:
        if z and self.offset == 0:
            return "Z"
        sign = "-" if self.offset < 0 else "+"
        h, mnt = divmod(abs(self.offset) // 60, 60)
        return f"{sign}{h:02d}:{mnt:02d}" if colon else f"{sign}{h:02d}{mnt:02d}"

    def rfc3339(self) -> str:
        y, m, d, hh, mm, ss, _ = self.fields()
        if not 0 <= y <= 9999:
            raise NotDecided("a year outside 0000-9999")
        return f"{y:04d}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}{self.zone(True, True)}"


def parse_timestamp(text: str, fn: str) -> Instant:
    m = _RFC3339.fullmatch(text)
    if not m:
        raise NotDecided(f"{fn}: a timestamp ciiguard does not read exactly like Go")
    y, mo, d, hh, mi, ss = (int(g) for g in m.groups()[:6])
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    month_days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if not (1 <= mo <= 12 and 1 <= d <= month_days[mo - 1] and hh < 24 and mi < 60 and ss < 60):
        raise FunctionError(f"{fn}: {text!r} is not a valid RFC 3339 timestamp")
    zone = m.group(8)
    offset = 0
    if zone != "Z":
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zh >= 24 or zm >= 60:
            raise FunctionError(f"{fn}: {text!r} has an offset out of range")
        offset = (zh * 3600 + zm * 60) * (-1 if zone[0] == "-" else 1)
    frac = int((m.group(7) or "0").ljust(9, "0"))
    secs = _days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - offset
    return Instant(secs * _NS + frac, offset, zone == "Z")


_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": _NS}
_UNITS.update({"m": 60 * _NS, "h": 3600 * _NS})
_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?([^\d.]*)")


def parse_duration(text: str) -> int:
    """Go's time.ParseDuration, fraction arithmetic included, in nanoseconds."""
    s = text
    neg = s[:1] == "-"
    if s[:1] in "+-" and s:
        s = s[1:]
    if s == "0":
        return 0
    if s == "":
        raise FunctionError(f"timeadd: invalid duration {text!r}")
    total, pos = 0, 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        assert m is not None
        whole, frac, unit = m.group(1), m.group(2), m.group(3)
        if (not whole and not frac) or unit not in _UNITS:
            raise FunctionError(f"timeadd: invalid duration {text!r}")
        scale = _UNITS[unit]
        v = int(whole or "0")
        if v > (1 << 63) // scale:
            raise FunctionError(f"timeadd: invalid duration {text!r}")
        v *= scale
        if frac:
            f, fscale = 0, 1.0
            for ch in frac:
                if f > ((1 << 63) - 1) // 10:
                    break  # Go stops reading digits that would overflow
                f, fscale = f * 10 + int(ch), fscale * 10
            v += int(float(f) * (float(scale) / fscale))
        total += v
        if total > 1 << 63:
            raise FunctionError(f"timeadd: invalid duration {text!r}")
        pos = m.end()
    if total > (1 << 63) - 1 and not neg:
        raise FunctionError(f"timeadd: invalid duration {text!r}")
    return -total if neg else total


def _timeadd(a: list[Value]) -> Value:
    arity(a, "timeadd", 2)
    t = parse_timestamp(as_str(a[0], "timeadd"), "timeadd")
    d = parse_duration(as_str(a[1], "timeadd"))
    return Instant(t.ns + d, t.offset, t.utc).rfc3339()


def _timecmp(a: list[Value]) -> Value:
    arity(a, "timecmp", 2)
    x = parse_timestamp(as_str(a[0], "timecmp"), "timecmp").ns
    y = parse_timestamp(as_str(a[1], "timecmp"), "timecmp").ns
    return (x > y) - (x < y)


def _format_tokens(spec: str) -> list[str]:
    """Terraform's splitDateFormat: quoted literals, runs of one letter, other text."""
    out: list[str] = []
    i = 0
    while i < len(spec):
        ch = spec[i]
        if ch == "'":
            if spec.startswith("''", i):
                out.append("''")
                i += 2
                continue
            j = i + 1
            while j < len(spec):
                if spec[j] == "'":
                    if spec.startswith("''", j):
                        j += 2
                        continue
                    break
                j += 1
            out.append(spec[i : j + 1])
            i = j + 1
        elif ch.isascii() and ch.isalpha():
            j = i
            while j < len(spec) and spec[j] == ch:
                j += 1
            out.append(spec[i:j])
            i = j
        else:
            j = i + 1
            while (
                j < len(spec) and spec[j] != "'" and not (spec[j].isascii() and spec[j].isalpha())
            ):
                j += 1
            out.append(spec[i:j])
            i = j
    return out


def _verb(tok: str, t: Instant) -> str:
    y, mo, d, hh, mi, ss, wd = t.fields()
    n, c = len(tok), tok[0]
    numeric = {"D": d, "h": hh, "H": hh % 12 or 12, "m": mi, "s": ss, "M": mo}
    if c == "Y" and n in (2, 4):
        if not 0 <= y <= 9999:
            raise NotDecided("a year outside 0000-9999")
        return f"{y % 100:02d}" if n == 2 else f"{y:04d}"
    if c in numeric and n in (1, 2):
        return f"{numeric[c]:0{n}d}"
    if c == "M" and n in (3, 4):
        return _MONTHS[mo - 1][:3] if n == 3 else _MONTHS[mo - 1]
    if c == "E" and n in (3, 4):
        return _DAYS[wd][:3] if n == 3 else _DAYS[wd]
    if c in "Aa" and n == 2:
        text = "AM" if hh < 12 else "PM"
        return text if c == "A" else text.lower()
    if c == "Z" and n in (1, 4, 5):
        return t.zone(colon=n != 4, z=n == 1)
    if c == "Z" and n == 3:
        if not t.utc:
            raise NotDecided("formatdate: ZZZ depends on the time zone of Terraform's host")
        return "UTC"
    raise FunctionError(f"formatdate: invalid date format verb {tok!r}")


def _formatdate(a: list[Value]) -> Value:
    arity(a, "formatdate", 2)
    spec = as_str(a[0], "formatdate")
    t = parse_timestamp(as_str(a[1], "formatdate"), "formatdate")
    out: list[str] = []
    for tok in _format_tokens(spec):
        if tok[0] == "'":
            if len(tok) == 1 or not tok.endswith("'"):
                raise FunctionError("formatdate: unterminated literal '")
            out.append("'" if tok == "''" else tok[1:-1].replace("''", "'"))
        elif tok[0].isascii() and tok[0].isalpha():
            out.append(_verb(tok, t))
        else:
            out.append(tok)
    return "".join(out)


DATE_FUNCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    "formatdate": _formatdate,
    "timeadd": _timeadd,
    "timecmp": _timecmp,
}
