"""Rows out of a CSV or xlsx export, streamed: header first, then (row number, cells).

Row numbers are the ones a seller sees in a spreadsheet (the header is row 1).
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liveguard.core.text import clean_line

__all__ = ["ExportFileError", "Table", "cell_text", "is_blank", "open_table", "read_error"]

Cell = Any  # str from CSV; str, int, float, datetime or None from xlsx

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # old binary .xls
_SHEET_NAMES = ("orders", "order", "pesanan")
MESSAGE_MAX = 1000  # a message naming a file (its path), quoting a little and advising


class ExportFileError(Exception):
    """The file itself cannot be read: one line naming the file and why. It may quote the
    file's own text, so it is cleaned here."""

    def __init__(self, message: str) -> None:
        super().__init__(clean_line(message, MESSAGE_MAX))


class DamagedSheetError(Exception):
    """A workbook opened (read-only, lazily) but one of its rows cannot be parsed."""


# What reading the rows may raise; the caller turns it into an ExportFileError naming the row.
READ_ERRORS = (csv.Error, UnicodeDecodeError, DamagedSheetError)


@dataclass
class Table:
    kind: str  # "csv" or "xlsx"
    header: list[str]
    rows: Iterator[tuple[int, Sequence[Cell]]]  # (spreadsheet row number, cells)


@contextmanager
def open_table(path: Path) -> Iterator[Table]:
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ExportFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if head.startswith(_OLE_MAGIC):
        raise ExportFileError(f"{path}: an old .xls file; save it as .xlsx or CSV and import that")
    if head.startswith(_XLSX_MAGIC):
        with _xlsx_table(path) as table:
            yield table
    else:
        with _csv_table(path, head) as table:
            yield table


def _delimiter(head: bytes, encoding: str = "utf-8") -> str:
    first = head.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()[:1]
    line = first[0] if first else ""
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@contextmanager
def _csv_table(path: Path, head: bytes) -> Iterator[Table]:
    encoding = "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode Text": UTF-16 with a BOM, tab-separated
    else:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the 4096-byte edge
                encoding = "cp1252"  # what Excel on Windows writes for "CSV" without UTF-8
    with path.open("r", encoding=encoding, errors="strict", newline="") as text:
        reader = csv.reader(text, delimiter=_delimiter(head, encoding))
        try:
            header = next(reader, [])
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ExportFileError(f"{path}: not a readable CSV file ({read_error(exc)})") from None

        yield Table("csv", [h.strip() for h in header], enumerate(reader, start=2))


@contextmanager
def _xlsx_table(path: Path) -> Iterator[Table]:
    import openpyxl  # imported here: it costs ~150 ms and most runs never read a workbook

    # A file object, not the name: openpyxl refuses names that do not end in .xlsx, and a
    # seller's download is often renamed. The content (zip magic) decided it is a workbook.
    fh = path.open("rb")
    try:
        book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        fh.close()
        raise ExportFileError(
            f"{path}: not a readable xlsx workbook ({type(exc).__name__})"
        ) from None
    try:
        names = {name.strip().lower(): name for name in book.sheetnames}
        sheet_name = next((names[n] for n in _SHEET_NAMES if n in names), book.sheetnames[0])
        cells = _guarded(book[sheet_name].iter_rows(values_only=True))
        try:
            header_row = next(cells, ())
        except DamagedSheetError as exc:
            raise ExportFileError(f"{path}: row 1: not readable ({exc})") from None
        header = ["" if h is None else str(h).strip() for h in header_row]

        yield Table("xlsx", header, enumerate(cells, start=2))
    finally:
        book.close()
        fh.close()


def read_error(exc: Exception) -> str:
    """Why a row could not be read, in words: not the codec's internals."""
    if isinstance(exc, UnicodeDecodeError):
        names = {
            "charmap": "Windows-1252",
            "utf-8": "UTF-8",
            "utf-16-le": "UTF-16",
            "utf-16-be": "UTF-16",
        }
        codec = names.get(exc.encoding, exc.encoding)
        return f"not {codec} text: byte 0x{exc.object[exc.start]:02x} cannot be read"
    return str(exc)


def _guarded(rows: Iterator[tuple[Cell, ...]]) -> Iterator[tuple[Cell, ...]]:
    """Rows of a sheet; openpyxl parses the XML only as it goes, so damage surfaces here."""
    try:
        yield from rows
    except Exception as exc:  # ParseError, ValueError, IndexError…: openpyxl raises many kinds
        raise DamagedSheetError(f"damaged sheet: {type(exc).__name__}") from None


def cell_text(value: Cell) -> str:
    """A cell as text; whole floats from xlsx (order ids, counts) without the ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def is_blank(row: Sequence[Cell]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)
