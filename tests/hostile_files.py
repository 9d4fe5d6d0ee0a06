"""Hostile xlsx files, written by hand with zipfile so that every part is what an attacker
would choose: zip bombs, shared-string bombs, forged sheet dimensions and row numbers,
rows thousands of columns wide, XML entity bombs. Also used by benchmarks/hostile_memory.py.
"""

from __future__ import annotations

import itertools
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from xml.sax.saxutils import escape

from tests.fixtures_sales import SHOPEE_HEADERS

__all__ = ["HOSTILE_XLSX", "good_rows", "sheet_xml", "write_workbook"]

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_BOOK_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def _col(n: int) -> str:
    name = ""
    while n:
        n, rem = divmod(n - 1, 26)
        name = chr(65 + rem) + name
    return name


def _row(number: int, values: Iterable[str], first_col: int = 1) -> str:
    cells = "".join(
        f'<c r="{_col(first_col + i)}{number}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def good_rows(count: int = 3) -> list[list[str]]:
    """Shopee rows: order id, status, …, created time, …, total payment."""
    rows = []
    for i in range(count):
        row = [""] * len(SHOPEE_HEADERS)
        row[0], row[1] = f"HX{i}", "Selesai"
        row[5] = "2026-11-28 20:00"
        row[13] = "150000"
        rows.append(row)
    return rows


def sheet_xml(
    rows: Iterable[str] = (),
    *,
    dimension: str = "A1:P4",
    doctype: str = "",
    header: bool = True,
) -> Iterator[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'.encode()
    yield f'<worksheet xmlns="{_NS}"><dimension ref="{dimension}"/><sheetData>'.encode()
    if header:
        yield _row(1, SHOPEE_HEADERS).encode()
    for n, values in enumerate(good_rows(), start=2):
        yield _row(n, values).encode()
    for extra in rows:
        yield extra.encode()
    yield b"</sheetData></worksheet>"


def write_workbook(
    path: Path,
    sheet: Iterable[bytes],
    *,
    shared_strings: Iterable[bytes] | None = None,
    workbook_doctype: str = "",
) -> Path:
    """A minimal workbook whose parts are streamed in (a 1 GB part costs no memory here)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        overrides = (
            f'<Override PartName="/xl/workbook.xml" ContentType="{_BOOK_CT}"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SHEET_CT}"/>'
        )
        z.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0"?><Types xmlns="{_CT}">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?>{workbook_doctype}<workbook xmlns="{_NS}" '
            f'xmlns:r="{_REL}"><sheets><sheet name="orders" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
            f'Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            for part in sheet:
                out.write(part)
        if shared_strings is not None:
            with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
                for part in shared_strings:
                    out.write(part)
    return path


def _padding(total: int, chunk: bytes = b" " * 1_000_000) -> Iterator[str]:
    for _ in range(total // len(chunk)):
        yield chunk.decode()


_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def _zip_bomb(path: Path) -> Path:  # 300 MB of sheet XML in ~300 KB
    return write_workbook(path, sheet_xml(_padding(300_000_000)))


def _strings_bomb(path: Path) -> Path:  # 300 MB of shared strings in ~300 KB
    strings = (s.encode() for s in itertools.chain(["<sst>"], _padding(300_000_000), ["</sst>"]))
    return write_workbook(path, sheet_xml(), shared_strings=strings)


def _huge_dimensions(path: Path) -> Path:  # declares 1,048,576 rows x 16,384 columns
    return write_workbook(path, sheet_xml(dimension="A1:XFD1048576"))


def _forged_row_number(path: Path) -> Path:  # a row numbered 10^11, after three real ones
    return write_workbook(path, sheet_xml([_row(99_999_999_999, ["x"])]))


def _wide_rows(path: Path) -> Path:  # 5,000 rows, each with a cell in column XFD
    rows = (_row(n, ["x"], first_col=16_384) for n in range(5, 5_005))
    return write_workbook(path, sheet_xml(rows))


def _entity_bomb_sheet(path: Path) -> Path:  # billion laughs in the sheet
    rows = ['<row r="5"><c r="A5" t="inlineStr"><is><t>&lol9;</t></is></c></row>']
    return write_workbook(path, sheet_xml(rows, doctype=_LAUGHS))


def _entity_bomb_book(path: Path) -> Path:  # billion laughs in the workbook part
    return write_workbook(path, sheet_xml(), workbook_doctype=_LAUGHS)


# name -> (writer, what reading it gives: "read" = the 3 good orders and nothing else;
# otherwise words of the one-line refusal)
HOSTILE_XLSX: dict[str, tuple[Callable[[Path], Path], str]] = {
    "zip-bomb": (_zip_bomb, "refused"),
    "strings-bomb": (_strings_bomb, "refused"),
    "huge-dimensions": (_huge_dimensions, "read"),
    "forged-row-number": (_forged_row_number, "past the last row"),
    "wide-rows": (_wide_rows, "read"),
    "entity-bomb-sheet": (_entity_bomb_sheet, "XML entities are not allowed"),
    "entity-bomb-book": (_entity_bomb_book, "XML entities are not allowed"),
}
