"""Marketplace order exports (Shopee, TikTok Shop/Tokopedia, Lazada, plain CSV) into orders.

``parse_export`` reads and checks a whole file and writes nothing; the caller decides, all
or nothing, whether to store the result.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import tzinfo
from pathlib import Path

from .formats import FORMATS, ColumnPlan, ExportFormat, detect_format, generic_format
from .reader import ParsedExport, RowError, read_orders
from .tables import MAX_ROW_NUMBER, Cell, ExportFileError, open_table
from .vocabulary import StatusMapError, parse_status_map, vocabulary

__all__ = [
    "FORMAT_NAMES",
    "ExportFileError",
    "ImportCancelled",
    "ParsedExport",
    "RowError",
    "StatusMapError",
    "no_cyclic_gc",
    "parse_export",
    "parse_status_map",
]

FORMAT_NAMES = ("auto", "shopee", "tiktok", "lazada", "csv")
WATCH_EVERY = 2000  # rows between two progress reports / looks at the cancel flag

Progress = Callable[[int], None]  # the spreadsheet row reached
Cancelled = Callable[[], bool]


class ImportCancelled(Exception):
    """The seller cancelled while the file was being read; nothing was written."""


def _never() -> bool:
    return False


def _ignore(row: int) -> None:
    return None


def parse_export(
    path: Path,
    zone: tzinfo,
    *,
    format_name: str = "auto",
    channel: str | None = None,
    known_channels: Iterable[str] = (),
    mapping: Mapping[str, str] | None = None,
    status_map: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ParsedExport:
    """Read every row of ``path``; raises ExportFileError when the file as a whole is unusable,
    ImportCancelled as soon as ``cancelled()`` says so (it is asked every few thousand rows,
    and ``progress`` told the row reached)."""
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
        table.rows = _watched(table.rows, path, progress or _ignore, cancelled or _never)
        words = vocabulary(fmt.name).with_seller_map(status_map or {})
        return read_orders(table, fmt, plan, target, zone, path, words)


def _watched(
    rows: Iterator[tuple[int, Sequence[Cell]]],
    path: Path,
    progress: Progress,
    cancelled: Cancelled,
) -> Iterator[tuple[int, Sequence[Cell]]]:
    """The rows, with a look at the cancel flag every WATCH_EVERY of them, and a stop at
    Excel's last row (a sheet claiming row 10^11 would otherwise pad empty rows for ever)."""
    countdown = WATCH_EVERY
    for number, cells in rows:
        countdown -= 1
        if not countdown:
            countdown = WATCH_EVERY
            if cancelled():
                raise ImportCancelled(f"{path.name}: import cancelled; nothing written")
            progress(number)
            if number > MAX_ROW_NUMBER:
                raise ExportFileError(f"{path}: row {number}: past the last row a sheet can have")
        yield number, cells


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
