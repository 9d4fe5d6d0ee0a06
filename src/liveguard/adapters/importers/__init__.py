"""Marketplace order exports (Shopee, TikTok Shop/Tokopedia, Lazada, plain CSV) into orders.

``parse_export`` reads and checks a whole file and writes nothing; the caller decides, all
or nothing, whether to store the result.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import tzinfo
from pathlib import Path

from .formats import FORMATS, ColumnPlan, ExportFormat, detect_format, generic_format
from .reader import ParsedExport, RowError, read_orders
from .tables import ExportFileError, open_table
from .vocabulary import StatusMapError, parse_status_map, vocabulary

__all__ = [
    "FORMAT_NAMES",
    "ExportFileError",
    "ParsedExport",
    "RowError",
    "StatusMapError",
    "no_cyclic_gc",
    "parse_export",
    "parse_status_map",
]

FORMAT_NAMES = ("auto", "shopee", "tiktok", "lazada", "csv")


def parse_export(
    path: Path,
    zone: tzinfo,
    *,
    format_name: str = "auto",
    channel: str | None = None,
    known_channels: Iterable[str] = (),
    mapping: Mapping[str, str] | None = None,
    status_map: Mapping[str, str] | None = None,
) -> ParsedExport:
    """Read every row of ``path``; raises ExportFileError when the file as a whole is unusable."""
    if format_name not in FORMAT_NAMES:
        raise ExportFileError(f"unknown format {format_name!r} (use {', '.join(FORMAT_NAMES)})")
    with no_cyclic_gc(), open_table(path) as table:
        if not any(table.header):
            raise ExportFileError(f"{path}: empty file (no header row)")
        fmt = _choose_format(path, table.header, format_name, mapping or {})
        plan = ColumnPlan.locate(fmt, table.header)
        if isinstance(plan, str):
            raise ExportFileError(f"{path}: not a {fmt.name} export: {plan}")
        target = channel or _default_channel(fmt, list(known_channels))
        if not target:
            raise ExportFileError(f"{path}: which channel are these orders from? use --channel ID")
        words = vocabulary(fmt.name).with_seller_map(status_map or {})
        return read_orders(table, fmt, plan, target, zone, path, words)


def _choose_format(
    path: Path, header: list[str], name: str, mapping: Mapping[str, str]
) -> ExportFormat:
    if name == "csv" or (name == "auto" and mapping):
        return generic_format(header, mapping)
    if name != "auto":
        return FORMATS[name]
    found = detect_format(header)
    if found is not None:
        return found
    shown = ", ".join(repr(h) for h in header[:6] if h)
    raise ExportFileError(
        f"{path}: cannot tell the export format from its headers ({shown}); "
        "use --format shopee|tiktok|lazada, or --format csv with --map"
    )


def _default_channel(fmt: ExportFormat, known: list[str]) -> str:
    for candidate in fmt.channels:
        if candidate in known:
            return candidate
    if fmt.channels and not known:
        return fmt.channels[0]
    return ""


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """A big export allocates a million short-lived, acyclic objects; the cyclic collector
    would rescan them again and again (measured: ~20 % of a 100,000-row import)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
