"""Rupiah: parsing what sellers type and export, and showing it the Indonesian way.

Money is always an ``int`` of whole Rupiah. Floats never hold money; fractional sen in
exports (``1.250.000,00``) are accepted only when they are zero-ish and rounded half-up.
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency

__all__ = ["AmountError", "format_compact", "format_rupiah", "parse_amount"]

# The largest amount liveguard accepts for one order: Rp100 miliar. Anything above is
# almost certainly a pasted order id or a typo, and would dwarf every chart.
MAX_AMOUNT = 100_000_000_000


class AmountError(ValueError):
    """Raised with a message a seller can read: what was wrong with the amount."""


_SUFFIXES = {
    "rb": 1_000,
    "ribu": 1_000,
    "k": 1_000,
    "jt": 1_000_000,
    "juta": 1_000_000,
    "miliar": 1_000_000_000,
}
_SUFFIX_RE = re.compile(r"^(?P<num>[0-9][0-9.,]*)(?P<suffix>[a-z]+)$")
_GROUPED_DOTS = re.compile(r"^\d{1,3}(\.\d{3})+$")
_GROUPED_COMMAS = re.compile(r"^\d{1,3}(,\d{3})+$")


def parse_amount(text: str | int | float) -> int:
    """Read a Rupiah amount in any form a seller types or an export holds.

    Accepts ``125000``, ``125.000``, ``Rp125.000``, ``Rp 125.000``, ``IDR 125.000``,
    ``125rb``, ``1,2jt``, ``1.250.000,00``, ``1250000.0`` and plain numbers from xlsx cells.
    """
    if isinstance(text, bool):
        raise AmountError(f"not an amount: {text!r}")
    if isinstance(text, int):
        return _checked(text, str(text))
    if isinstance(text, float):
        if text != text or text in (float("inf"), float("-inf")):
            raise AmountError(f"not a number: {text!r}")
        return _checked(_round(Decimal(str(text))), str(text))
    raw = text
    s = text.strip().lower().replace("\u00a0", " ")
    for prefix in ("rp.", "rp", "idr"):
        if s.startswith(prefix):
            s = s[len(prefix) :].strip()
            break
    s = s.replace(" ", "")
    if not s:
        raise AmountError(f"not a number: {raw!r}")
    if s.startswith("-"):
        raise AmountError(f"negative amount: {raw!r}")
    m = _SUFFIX_RE.match(s)
    if m:
        factor = _SUFFIXES.get(m.group("suffix"))
        if factor is None:
            raise AmountError(f"unknown unit {m.group('suffix')!r} in {raw!r} (use rb or jt)")
        # In "1,2jt" and "1.5jt" the separator is a decimal point.
        value = _decimal(m.group("num").replace(",", "."), raw) * factor
        return _checked(_round(value), raw)
    return _checked(_round(_plain_number(s, raw)), raw)


def _plain_number(s: str, raw: str) -> Decimal:
    if "," in s and "." in s:
        # Whichever separator comes last is the decimal one: 1.250.000,00 or 1,250,000.00
        if s.rfind(",") > s.rfind("."):
            return _decimal(s.replace(".", "").replace(",", "."), raw)
        return _decimal(s.replace(",", ""), raw)
    if "." in s:
        if _GROUPED_DOTS.match(s):
            return _decimal(s.replace(".", ""), raw)
        return _decimal(s, raw)  # 1250000.0 as written by a spreadsheet
    if "," in s:
        if _GROUPED_COMMAS.match(s) and not s.endswith((",00", ",0")):
            return _decimal(s.replace(",", ""), raw)
        return _decimal(s.replace(",", "."), raw)  # 125000,50
    return _decimal(s, raw)


def _decimal(s: str, raw: str) -> Decimal:
    if not re.fullmatch(r"\d+(\.\d+)?", s):
        raise AmountError(f"not a number: {raw!r}")
    try:
        return Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - guarded by the regex above
        raise AmountError(f"not a number: {raw!r}") from exc


def _round(value: Decimal) -> int:
    if value > MAX_AMOUNT:
        # Too large to quantize in the default context; _checked turns it into an error.
        return MAX_AMOUNT + 1
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _checked(value: int, raw: str) -> int:
    if value < 0:
        raise AmountError(f"negative amount: {raw!r}")
    if value > MAX_AMOUNT:
        raise AmountError(f"amount too large: {raw!r} (more than Rp100 miliar)")
    return value


def format_rupiah(amount: int) -> str:
    """``Rp1.250.000``: the official spelling, no space, dots for thousands."""
    sign = "-" if amount < 0 else ""
    text = format_currency(
        abs(amount), "IDR", locale="id_ID", format="¤#,##0", currency_digits=False
    )
    return sign + text


def format_compact(amount: int, lang: str = "id") -> str:
    """Short form where space is short: ``Rp1,2 jt``, ``Rp12,5 rb`` (English: ``Rp1.2M``)."""
    sign = "-" if amount < 0 else ""
    n = abs(amount)
    units = (
        (1_000_000_000_000, "T", "T"),
        (1_000_000_000, "M", "B"),
        (1_000_000, "jt", "M"),
        (1_000, "rb", "K"),
    )
    for size, id_unit, en_unit in units:
        if n >= size:
            value = Decimal(n) / size
            digits = 0 if value >= 100 else 1
            # Truncate, never round up: a glance must not overstate revenue.
            q = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_DOWN)
            num = f"{q:f}".rstrip("0").rstrip(".") if digits else f"{q:f}"
            if lang == "id":
                return f"{sign}Rp{num.replace('.', ',')} {id_unit}"
            return f"{sign}Rp{num}{en_unit}"
    return sign + format_rupiah(n)
