"""Terraform numbers: Go ``big.Float`` values with a 512-bit mantissa, emulated exactly.

Terraform parses ``0.1`` into a 512-bit binary float and prints ``1/3`` with 155 digits, so Python
floats would give different strings (``0.1 + 0.2``). Numbers stay plain ``int``/``float`` for the
rest of ciiguard; the exact value travels along in two subclasses:

- ``Int512``: a whole number Terraform holds with 512 bits (a literal, or arithmetic on one);
- ``Num``: any other result of arithmetic or parsing, with its exact binary value and precision.

A plain ``int`` is a whole number of unknown precision (64 bits when a function such as ``length``
made it, 512 when it came from a literal). A plain ``float`` is the 512-bit value of its shortest
decimal text (how Terraform reads JSON). Whenever a result would depend on what ciiguard cannot
know, ``NotDecided`` is raised: the evaluator turns it into "unknown", never into a guess.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

PREC = 512
_SAFE_PREC = 64  # every Terraform number has at least this many mantissa bits
_MAX_DIGITS = 150  # longer literals are rounded twice by Go's parser
_MAX_EXP10 = 240  # beyond this Go's 5**n is inexact at 576 bits
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class NotDecided(Exception):
    """ciiguard cannot tell what Terraform would compute here (not a Terraform error)."""


class Int512(int):
    """A whole number held with Terraform's full 512-bit precision."""

    __slots__ = ()


class Num(float):
    """A Terraform number that is not a plain whole number: its exact value rides along."""

    __slots__ = ("exact", "neg_zero", "prec")

    exact: Fraction
    prec: int | None
    neg_zero: bool

    def __new__(cls, exact: Fraction, prec: int | None, neg_zero: bool = False) -> Num:
        obj = float.__new__(cls, -0.0 if neg_zero else _to_float(exact))
        obj.exact = exact
        obj.prec = prec
        obj.neg_zero = neg_zero and exact == 0
        return obj

    def __reduce__(self) -> Any:
        return (Num, (self.exact, self.prec, self.neg_zero))


def _to_float(q: Fraction) -> float:
    try:
        return float(q)
    except OverflowError:
        return float("inf") if q > 0 else float("-inf")


# -- the exact value behind a Python number ---------------------------------------------------


class _Big:
    """A finite Go big.Float: exact value, sign of zero, precision (None: 64 or 512, unknown)."""

    __slots__ = ("neg_zero", "prec", "q")

    def __init__(self, q: Fraction, prec: int | None, neg_zero: bool = False) -> None:
        self.q = q
        self.prec = prec
        self.neg_zero = neg_zero and q == 0

    @property
    def neg(self) -> bool:
        return self.q < 0 or self.neg_zero


def _big(v: Any) -> _Big:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"not a number: {v!r}")
    if isinstance(v, Num):
        return _Big(v.exact, v.prec, v.neg_zero)
    if isinstance(v, Int512):
        return _Big(Fraction(int(v)), PREC)
    if isinstance(v, int):
        return _Big(Fraction(v), None)
    if v != v or v in (float("inf"), float("-inf")):
        raise NotDecided("infinite or NaN number")
    text = repr(v)
    return _Big(round_to(Fraction(text), PREC), PREC, neg_zero=text.startswith("-0"))


def exact(v: Any) -> Fraction:
    """The exact value of a number as Terraform holds it."""
    return _big(v).q


def _value(b: _Big) -> int | float:
    if b.q.denominator == 1 and not b.neg_zero:
        return Int512(b.q.numerator) if b.prec == PREC else int(b.q.numerator)
    return Num(b.q, b.prec, b.neg_zero)


# -- rounding ------------------------------------------------------------------------------


def _exponent(a: Fraction) -> int:
    """e with 2**(e-1) <= a < 2**e, for a > 0."""
    n, d = a.numerator, a.denominator
    k = n.bit_length() - d.bit_length()
    ge = (n >= d << k) if k >= 0 else (n << -k >= d)
    return k + 1 if ge else k


def round_to(q: Fraction, prec: int) -> Fraction:
    """q rounded to ``prec`` mantissa bits, ties to even (Go's ToNearestEven)."""
    if q == 0:
        return q
    a = abs(q)
    shift = prec - _exponent(a)
    n, d = a.numerator, a.denominator
    if shift >= 0:
        n <<= shift
    else:
        d <<= -shift
    m, r = divmod(n, d)
    if 2 * r > d or (2 * r == d and m & 1):
        m += 1
    out = Fraction(m, 1 << shift) if shift >= 0 else Fraction(m << -shift)
    return out if q > 0 else -out


def min_prec(q: Fraction) -> int:
    """Mantissa bits needed to hold q exactly (a large number when q is not dyadic)."""
    if q == 0:
        return 0
    d = q.denominator
    if d & (d - 1):
        return 1 << 30
    n = abs(q.numerator)
    return n.bit_length() - ((n & -n).bit_length() - 1)


def _round(q: Fraction, prec: int | None) -> Fraction:
    if prec is None:
        if min_prec(q) <= _SAFE_PREC:
            return q
        raise NotDecided("the result depends on number precision ciiguard does not track")
    return round_to(q, prec)


FLOAT64 = 53  # results of pow() and log(): cty.NumberFloatVal of a Go float64


def _max_prec(a: _Big, b: _Big) -> int | None:
    if FLOAT64 in (a.prec, b.prec) and a.prec != b.prec:
        raise NotDecided("arithmetic between a float64 result and another number")
    return PREC if PREC in (a.prec, b.prec) else a.prec


# -- Go big.Float arithmetic, signed zeros included ----------------------------------------


def _g_neg(x: _Big) -> _Big:
    return _Big(-x.q, x.prec, neg_zero=x.q == 0 and not x.neg_zero)


def _g_add(x: _Big, y: _Big, prec: int | None) -> _Big:
    if x.q == 0 and y.q == 0:
        return _Big(Fraction(0), prec, x.neg_zero and y.neg_zero)
    return _Big(_round(x.q + y.q, prec), prec)


def _g_mul(x: _Big, y: _Big, prec: int | None) -> _Big:
    q = _round(x.q * y.q, prec)
    return _Big(q, prec, neg_zero=q == 0 and x.neg != y.neg)


def _g_quo(x: _Big, y: _Big, prec: int | None) -> _Big:
    if y.q == 0:
        raise NotDecided("division by zero gives an infinity")
    q = _round(x.q / y.q, prec)
    return _Big(q, prec, neg_zero=q == 0 and x.neg != y.neg)


_FAST = 2**62


def _small_ints(a: Any, b: Any) -> bool:
    return type(a) in (int, Int512) and type(b) in (int, Int512) and abs(a) < _FAST > abs(b)


def _int_result(a: Any, b: Any, r: int) -> int:
    return Int512(r) if isinstance(a, Int512) or isinstance(b, Int512) else r


def add(a: Any, b: Any) -> int | float:
    if _small_ints(a, b):
        return _int_result(a, b, int(a) + int(b))
    x, y = _big(a), _big(b)
    return _value(_g_add(x, y, _max_prec(x, y)))


def subtract(a: Any, b: Any) -> int | float:
    if _small_ints(a, b):
        return _int_result(a, b, int(a) - int(b))
    x, y = _big(a), _big(b)
    return _value(_g_add(x, _g_neg(y), _max_prec(x, y)))


def multiply(a: Any, b: Any) -> int | float:
    x, y = _big(a), _big(b)
    prec = _max_prec(x, y)
    if prec is None and min_prec(x.q * y.q) > PREC:
        raise NotDecided("the product depends on number precision ciiguard does not track")
    full = _g_mul(x, y, PREC)  # cty multiplies at 512 bits and keeps what the product needs
    return _value(_Big(full.q, prec, full.neg_zero))


def divide(a: Any, b: Any) -> int | float:
    x, y = _big(a), _big(b)
    return _value(_g_quo(x, y, _max_prec(x, y)))


def modulo(a: Any, b: Any) -> int | float:
    """cty's Modulo: a - b * trunc(a / b), with ``a % 0 == a``."""
    x, y = _big(a), _big(b)
    if y.q == 0:
        return a if isinstance(a, (int, float)) else _value(x)
    rat = _g_quo(x, y, _max_prec(x, y))
    t = Fraction(int(rat.q))  # truncation toward zero
    work = _Big(_round(t, x.prec), x.prec)
    work = _g_mul(y, work, x.prec)
    return _value(_g_add(x, _g_neg(work), x.prec))


def negate(a: Any) -> int | float:
    return _value(_g_neg(_big(a)))


def absolute(a: Any) -> int | float:
    x = _big(a)
    return _value(_Big(abs(x.q), x.prec))


def floor(a: Any) -> int | float:
    x = _big(a)
    n = x.q.numerator // x.q.denominator
    return _value(_Big(_round(Fraction(n), x.prec), x.prec))


def ceil(a: Any) -> int | float:
    x = _big(a)
    n = -((-x.q.numerator) // x.q.denominator)
    return _value(_Big(_round(Fraction(n), x.prec), x.prec))


def compare(a: Any, b: Any) -> int:
    x, y = exact(a), exact(b)
    return (x > y) - (x < y)


def whole(a: Any) -> int | None:
    """The integer a holds, or None when it is not whole."""
    q = exact(a)
    return q.numerator if q.denominator == 1 else None


# -- parsing -------------------------------------------------------------------------------


def parse_number(text: str) -> int | float:
    """A decimal number as Terraform parses it (big.ParseFloat base 10, 512 bits).

    Raises ValueError for text Terraform rejects, NotDecided for forms ciiguard does not emulate
    (infinities, binary exponents, very long or very large literals).
    """
    if text.isascii() and text.isdigit() and len(text) < 16:
        return Int512(int(text))
    if not _NUMBER_TEXT.fullmatch(text):
        if re.fullmatch(r"[+-]?(inf|infinity|[0-9.]+[pP][+-]?[0-9]+)", text, re.I):
            raise NotDecided(f"number form {text!r}")
        raise ValueError(f"cannot convert {text!r} to number")
    mantissa, _, exp = text.lower().partition("e")
    digits = mantissa.lstrip("+-").replace(".", "").lstrip("0")
    if len(digits) > _MAX_DIGITS or (exp and abs(int(exp)) > _MAX_EXP10):
        raise NotDecided(f"number literal {text[:20]!r}... is beyond ciiguard's exact range")
    q = round_to(Fraction(text.lstrip("+")), PREC)
    neg_zero = text.startswith("-") and q == 0
    return _value(_Big(q, PREC, neg_zero))


# -- printing ------------------------------------------------------------------------------


def _decimal(q: Fraction) -> tuple[str, int]:
    """Exact decimal digits of a dyadic q > 0 as (mantissa digits, exp): q = 0.digits * 10**exp."""
    n, d = q.numerator, q.denominator
    k = d.bit_length() - 1  # d == 2**k
    s = str(n * 5**k)
    exp10 = len(s) - k
    return s.rstrip("0"), exp10


class _Dec:
    __slots__ = ("exp", "mant")

    def __init__(self, mant: str, exp: int) -> None:
        self.mant = mant
        self.exp = exp

    def at(self, i: int) -> str:
        return self.mant[i] if 0 <= i < len(self.mant) else "0"

    def round_down(self, n: int) -> None:
        if 0 <= n < len(self.mant):
            self.mant = self.mant[:n].rstrip("0")
            if not self.mant:
                self.exp = 0

    def round_up(self, n: int) -> None:
        if n < 0 or n >= len(self.mant):
            return
        while n > 0 and self.mant[n - 1] >= "9":
            n -= 1
        if n == 0:
            self.mant = "1"
            self.exp += 1
            return
        self.mant = self.mant[: n - 1] + chr(ord(self.mant[n - 1]) + 1)

    def round(self, n: int) -> None:
        if n < 0 or n >= len(self.mant):
            return
        if self.mant[n] == "5" and n + 1 == len(self.mant):
            up = n > 0 and (ord(self.mant[n - 1]) - 48) & 1 == 1
        else:
            up = self.mant[n] >= "5"
        if up:
            self.round_up(n)
        else:
            self.round_down(n)


def _shortest(q: Fraction, prec: int) -> _Dec:
    """Go's roundShortest: the fewest digits that read back as q at ``prec`` bits."""
    a = abs(q)
    d = _Dec(*_decimal(a))
    e = _exponent(a)
    shift = prec + 1 - e
    mant = a * (Fraction(1 << shift) if shift >= 0 else Fraction(1, 1 << -shift))
    m = mant.numerator  # exact: a has at most prec significant bits
    unit = Fraction(1, 1 << shift) if shift >= 0 else Fraction(1 << -shift)
    lower = _Dec(*_decimal((m - 1) * unit))
    upper = _Dec(*_decimal((m + 1) * unit))
    inclusive = m & 2 == 0
    for i, digit in enumerate(d.mant):
        lo, up = lower.at(i), upper.at(i)
        okdown = lo != digit or (inclusive and i + 1 == len(lower.mant))
        okup = digit != up and (inclusive or chr(ord(digit) + 1) < up or i + 1 < len(upper.mant))
        if okdown and okup:
            d.round(i + 1)
            break
        if okdown:
            d.round_down(i + 1)
            break
        if okup:
            d.round_up(i + 1)
            break
    return d


def _fmt_f(d: _Dec, prec: int, neg: bool) -> str:
    out = "-" if neg else ""
    if d.exp > 0:
        m = min(len(d.mant), d.exp)
        out += d.mant[:m] + "0" * (d.exp - m)
    else:
        out += "0"
    if prec > 0:
        out += "." + "".join(d.at(d.exp + i) for i in range(prec))
    return out


def number_text(v: Any) -> str:
    """Terraform's number-to-string conversion: ``big.Float.Text('f', -1)``."""
    x = _big(v)
    if x.q == 0:
        return "-0" if x.neg_zero else "0"
    if x.q.denominator == 1 and abs(x.q) < 2**64:
        return str(x.q.numerator)
    exact_digits = _decimal(abs(x.q))
    if x.prec is None:
        if x.q.denominator == 1 or len(exact_digits[0]) > 18:
            raise NotDecided("the digits depend on number precision ciiguard does not track")
        d = _Dec(*exact_digits)
    else:
        d = _shortest(x.q, x.prec)
    return _fmt_f(d, max(len(d.mant) - d.exp, 0), x.q < 0)


def format_float(v: Any, verb: str, precision: int | None) -> str:
    """Go's ``%e``/``%f``/``%g`` of a big.Float (fmt.Formatter), without width and flags."""
    x = _big(v)
    neg = x.neg
    d = _Dec("", 0) if x.q == 0 else _Dec(*_decimal(abs(x.q)))
    lower = verb.lower()
    shortest = False
    if lower in ("e", "f"):
        prec = 6 if precision is None else precision
    else:
        prec = -1 if precision is None else precision
    if prec < 0:
        if x.q != 0:
            if x.prec is None:
                raise NotDecided("the digits depend on number precision ciiguard does not track")
            d = _shortest(x.q, x.prec)
        shortest = True
        prec = len(d.mant) - 1 if lower == "e" else max(len(d.mant) - d.exp, 0)
        if lower == "g":
            prec = len(d.mant)
    elif lower == "e":
        d.round(1 + prec)
    elif lower == "f":
        d.round(d.exp + prec)
    else:
        if prec == 0:
            prec = 1
        d.round(prec)
    if lower == "e":
        return _fmt_e(d, prec, verb, neg)
    if lower == "f":
        return _fmt_f(d, prec, neg)
    eprec = prec
    if eprec > len(d.mant) and len(d.mant) >= d.exp:
        eprec = len(d.mant)
    if shortest:
        eprec = 6
    exp = d.exp - 1
    if exp < -4 or exp >= eprec:
        if prec > len(d.mant):
            prec = len(d.mant)
        return _fmt_e(d, prec - 1, "e" if verb == "g" else "E", neg)
    if prec > d.exp:
        prec = len(d.mant)
    return _fmt_f(d, max(prec - d.exp, 0), neg)


def _fmt_e(d: _Dec, prec: int, verb: str, neg: bool) -> str:
    out = "-" if neg else ""
    out += d.mant[0] if d.mant else "0"
    if prec > 0:
        out += "." + "".join(d.at(i) for i in range(1, prec + 1))
    exp = d.exp - 1 if d.mant else 0
    sign = "-" if exp < 0 else "+"
    exp = abs(exp)
    out += ("e" if verb in "eg" else "E") + sign + (f"0{exp}" if exp < 10 else str(exp))
    return out
