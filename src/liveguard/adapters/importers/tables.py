"""Rows out of a CSV or xlsx export, streamed: header first, then (row number, cells).

Row numbers are the ones a seller sees in a spreadsheet (the header is row 1).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from liveguard.core.text import clean_line

__all__ = ["ExportFileError", "Table", "cell_text", "is_blank", "open_table", "read_error"]

Cell = Any  # str from CSV; str, int, float, datetime or None from xlsx

# Workbook bounds, checked on the zip's directory before anything is parsed (docs/bounds.md).
# zipfile stops a member at its declared size and checks its CRC, so a member cannot
# inflate past what is checked here.
XLSX_MAX_MEMBERS = 500
XLSX_MAX_MEMBER_BYTES = 256_000_000  # one sheet's XML (a 20,000-row export: ~17 MB)
XLSX_MAX_TOTAL_BYTES = 512_000_000
XLSX_MAX_STRINGS_BYTES = 64_000_000  # the shared strings are read whole, up front
XLSX_MAX_RATIO = 100  # real exports compress 5-20 times; a bomb a thousand times
XLSX_RATIO_FROM_BYTES = 1_000_000  # small members may compress as they like
MAX_COLUMNS = 256  # cells right of this (or of the header) are not read
MAX_ROW_NUMBER = 1_048_576  # Excel's last row; a row numbered past it is a forged sheet

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
        fh = path.open("rb")
    except OSError as exc:
        raise ExportFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        try:
            # A peek, not a read: a CSV is read through this same open file, so what decided
            # its encoding is what is read (and a pipe or a growing file reads the same).
            head = fh.peek(4096)[:4096]
        except OSError as exc:
            raise ExportFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
        if head.startswith(_OLE_MAGIC):
            raise ExportFileError(
                f"{path}: an old .xls file; save it as .xlsx or CSV and import that"
            )
        if head.startswith(_XLSX_MAGIC):
            with _xlsx_table(path) as table:
                yield table
        else:
            with _csv_table(fh, path, head) as table:
                yield table


def _delimiter(head: bytes, encoding: str = "utf-8") -> str:
    first = head.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()[:1]
    line = first[0] if first else ""
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@contextmanager
def _csv_table(fh: IO[bytes], path: Path, head: bytes) -> Iterator[Table]:
    encoding = "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode Text": UTF-16 with a BOM, tab-separated
    else:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the 4096-byte edge
                encoding = "cp1252"  # what Excel on Windows writes for "CSV" without UTF-8
    with io.TextIOWrapper(fh, encoding=encoding, errors="strict", newline="") as text:
        reader = csv.reader(text, delimiter=_delimiter(head, encoding))
        try:
            header = next(reader, [])
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ExportFileError(f"{path}: not a readable CSV file ({read_error(exc)})") from None

        yield Table("csv", [h.strip() for h in header], enumerate(reader, start=2))


@contextmanager
def _xlsx_table(path: Path) -> Iterator[Table]:
    import openpyxl  # imported here: it costs ~150 ms and most runs never read a workbook
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # e.g. OPENPYXL_DEFUSEDXML=False in the environment
        raise ExportFileError(f"{path}: xlsx files are read only with defusedxml switched on")
    # A file object, not the name: openpyxl refuses names that do not end in .xlsx, and a
    # seller's download is often renamed. The content (zip magic) decided it is a workbook.
    fh = path.open("rb")
    try:
        check_workbook_zip(fh, path)
        book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except ExportFileError:
        fh.close()
        raise
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        fh.close()
        raise ExportFileError(f"{path}: not a readable xlsx workbook ({_why(exc)})") from None
    try:
        names = {name.strip().lower(): name for name in book.sheetnames}
        sheet_name = next((names[n] for n in _SHEET_NAMES if n in names), book.sheetnames[0])
        sheet = book[sheet_name]
        sheet.reset_dimensions()  # the declared size is the file's word: padding for hours
        try:
            first = next(
                _guarded(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS, values_only=True)), ()
            )
        except DamagedSheetError as exc:
            raise ExportFileError(f"{path}: row 1: not readable ({exc})") from None
        header = ["" if h is None else str(h).strip() for h in first]
        while header and not header[-1]:
            header.pop()
        cells = _guarded(sheet.iter_rows(max_col=max(1, len(header)), values_only=True))
        next(cells, ())  # the header, read above

        yield Table("xlsx", header, enumerate(cells, start=2))
    finally:
        book.close()
        fh.close()


def check_workbook_zip(fh: IO[bytes], path: Path) -> None:
    """Refuse a workbook whose zip directory promises too much, before parsing any XML."""
    try:
        members = zipfile.ZipFile(fh).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ExportFileError(f"{path}: not a readable xlsx workbook ({exc})") from None
    finally:
        fh.seek(0)
    if len(members) > XLSX_MAX_MEMBERS:
        raise ExportFileError(f"{path}: not an export: {len(members)} parts in the workbook")
    total = 0
    for member in members:
        size = member.file_size
        total += size
        limit = (
            XLSX_MAX_STRINGS_BYTES
            if member.filename.lower().endswith("sharedstrings.xml")
            else XLSX_MAX_MEMBER_BYTES
        )
        ratio = size / max(1, member.compress_size)
        if size > limit or (size > XLSX_RATIO_FROM_BYTES and ratio > XLSX_MAX_RATIO):
            raise ExportFileError(
                f"{path}: refused: {member.filename[:60]} would unpack to {size:,} bytes "
                f"({ratio:,.0f} times its packed size); not a marketplace export"
            )
    if total > XLSX_MAX_TOTAL_BYTES:
        raise ExportFileError(f"{path}: refused: would unpack to {total:,} bytes")


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
        raise DamagedSheetError(f"damaged sheet: {_why(exc)}") from None


def _why(exc: Exception) -> str:
    from defusedxml import DefusedXmlException

    cause: BaseException | None = exc
    for _ in range(8):  # openpyxl wraps what its XML parser raised
        if cause is None:
            break
        if isinstance(cause, DefusedXmlException):
            return "XML entities are not allowed"  # an entity bomb, or an external entity
        cause = cause.__cause__ or cause.__context__
    return type(exc).__name__


def cell_text(value: Cell) -> str:
    """A cell as text; whole floats from xlsx (order ids, counts) without the ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def is_blank(row: Sequence[Cell]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)
