"""Size bounds for what liveguard stores, whatever the outside sent.

The text gate (``core.text``) cleans and caps a string where it enters; these bounds are
the stores' own guarantee on top of it: a record (an audit detail, an outbox error, a
journal entry) never grows past a few KB, so state files stay small even when something
slipped past the gate or a caller forgot it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ORDER_ID_MAX", "ORDER_STATUS_MAX", "STORED_TEXT_MAX", "bounded_text", "bounded_value"]

STORED_TEXT_MAX = 1000  # characters of one stored string (a reason is capped at 200 on entry)
STORED_ITEMS_MAX = 64  # entries of one stored list or table inside a record
STORED_DEPTH_MAX = 6
ORDER_ID_MAX = 128  # an order id from a feed or an export (longer: refused, never stored)
ORDER_STATUS_MAX = 80  # a marketplace's raw status text, as kept with the order

ELLIPSIS = "…"


def bounded_text(text: str, limit: int = STORED_TEXT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def bounded_value(value: Any, depth: int = 0) -> Any:
    """A JSON-like value with every string, list and table cut to its bound."""
    if isinstance(value, str):
        return bounded_text(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    if depth >= STORED_DEPTH_MAX:
        return bounded_text(repr(value), 80)
    if isinstance(value, dict):
        items = list(value.items())[:STORED_ITEMS_MAX]
        return {bounded_text(str(k), 80): bounded_value(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple):
        return [bounded_value(v, depth + 1) for v in list(value)[:STORED_ITEMS_MAX]]
    return bounded_text(str(value))
