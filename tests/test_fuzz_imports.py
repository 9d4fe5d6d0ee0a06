"""Fuzz every import format: whatever the file holds, a valid result or one clear error.

Random bytes, wrong encodings, missing and extra columns, huge cells, empty files, a "xlsx"
that is a zip of garbage, a CSV 10,000 columns wide. An error is an ExportFileError (or a
refused import) that names the file in one line, and the state folder is byte-for-byte as
it was. ``--big`` runs thousands of cases per strategy instead of ~200.
"""

from __future__ import annotations

import codecs
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.importers import FORMAT_NAMES, ExportFileError
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import FixedClock
from liveguard.service.sales import ImportOutcome, SalesService
from tests.fixtures_sales import (
    LAZADA_HEADERS,
    SHOPEE_HEADERS,
    TIKTOK_HEADERS,
    Sample,
    shop_config,
    shopee_rows,
    write_csv,
    write_shopee_xlsx,
    write_xlsx,
)

HEADERS = {"shopee": SHOPEE_HEADERS, "tiktok": TIKTOK_HEADERS, "lazada": LAZADA_HEADERS}
CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "Selesai",
            "Dibatalkan",
            "COMPLETED",
            "Rp125.000",
            "1.250.000,00",
            "100rb",
            "1,2jt",
            "-5",
            "9" * 40,
            "28/11/2026 19.30",
            "2026-11-28 18:00:00",
            "31/02/2026 25.99",
            "nan",
            "inf",
            "\x00",
            '"',
            ";",
            "\r\n",
        ]
    ),
)
ENCODINGS = ("utf-16", "utf-16-le", "cp1252", "latin-1", "utf-8")
MB = 1_000_000
GOOD = [Sample("A1", "28/11/2026 19.30", "125.000", "Selesai")]
GOOD_MORE = [Sample(f"B{i}", "28/11/2026 20.00", "50.000", "Dibatalkan") for i in range(5)]


def examples(big: bool) -> int:
    return 3000 if big else 200


def fuzz_settings(big: bool) -> settings:
    return settings(
        max_examples=examples(big), deadline=None, suppress_health_check=list(HealthCheck)
    )


@pytest.fixture
def sales(home: StateHome, clock: FixedClock) -> SalesService:
    config = parse_config(shop_config(channels=("tiktok", "shopee", "lazada", "wa")), "t", {})
    return SalesService(config, home, clock)


def state_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under the state folder (the lock file excluded: it is not state)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def attempt(
    sales: SalesService, path: Path, format_name: str = "auto", channel: str | None = None
) -> ImportOutcome | str:
    """Import ``path``; an ExportFileError becomes its message. The state folder must not
    change unless the import says it wrote."""
    before = state_bytes(sales.home.dir)
    try:
        outcome = sales.import_file(path, format_name=format_name, channel=channel)
    except ExportFileError as exc:
        message = str(exc)
        assert message and "\n" not in message, repr(message)
        assert "Traceback" not in message
        assert state_bytes(sales.home.dir) == before
        return message
    assert outcome.rows_read >= 0
    for rejected in outcome.rejected:
        assert rejected.row >= 2 and "\n" not in rejected.text()
    if not outcome.written:
        assert state_bytes(sales.home.dir) == before
    return outcome


def check_with_rows(
    sales: SalesService, tmp_path: Path, name: str, write: Callable[[Path], None]
) -> ImportOutcome | str:
    path = tmp_path / name
    write(path)
    try:
        return attempt(sales, path)
    finally:
        path.unlink(missing_ok=True)


# -- hypothesis: whole-file garbage -----------------------------------------------------------
def test_random_bytes_in_every_format(sales: SalesService, tmp_path: Path, big: bool) -> None:
    @fuzz_settings(big)
    @given(
        st.binary(max_size=3000),
        st.sampled_from(FORMAT_NAMES),
        st.sampled_from(["orders.csv", "orders.xlsx", "export"]),
        st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xef\xbb\xbf", b"\xff\xfe"]),
    )
    def check(data: bytes, format_name: str, name: str, magic: bytes) -> None:
        path = tmp_path / name
        path.write_bytes(magic + data)
        attempt(sales, path, format_name, channel="wa" if format_name == "csv" else None)

    check()


def test_wrong_encodings_and_stray_bytes(sales: SalesService, tmp_path: Path, big: bool) -> None:
    @fuzz_settings(big)
    @given(
        st.sampled_from(sorted(HEADERS)),
        st.lists(st.lists(CELLS, max_size=20), max_size=8),
        st.sampled_from(ENCODINGS),
        st.lists(st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=3)), max_size=4),
    )
    def check(
        fmt: str, rows: list[list[str]], encoding: str, strays: list[tuple[int, bytes]]
    ) -> None:
        lines = [",".join(HEADERS[fmt])] + [",".join(r) for r in rows]
        text = "\r\n".join(lines) + "\r\n"
        data = bytearray(text.encode(encoding, errors="replace"))
        for at, stray in strays:
            data[at % (len(data) + 1) : at % (len(data) + 1)] = stray
        path = tmp_path / f"{fmt}.csv"
        path.write_bytes(bytes(data))
        attempt(sales, path)

    check()


def test_missing_and_extra_columns(sales: SalesService, tmp_path: Path, big: bool) -> None:
    @fuzz_settings(big)
    @given(
        st.sampled_from(sorted(HEADERS)),
        st.data(),
        st.lists(st.text(max_size=10), max_size=5),
        st.lists(st.lists(CELLS, max_size=25), max_size=6),
        st.booleans(),
    )
    def check(
        fmt: str,
        data: st.DataObject,
        extra: list[str],
        rows: list[list[str]],
        as_xlsx: bool,
    ) -> None:
        header = HEADERS[fmt]
        kept = data.draw(st.lists(st.sampled_from(header), unique=True, max_size=len(header)))
        columns = kept + extra
        if as_xlsx:
            # what a spreadsheet can hold: openpyxl refuses control characters in cells
            clean = [[ILLEGAL_CHARACTERS_RE.sub("", c) for c in r] for r in rows]
            columns = [ILLEGAL_CHARACTERS_RE.sub("", c) for c in columns]
            path = write_xlsx(tmp_path / "x.xlsx", columns, clean)
        else:
            path = write_csv(tmp_path / "x.csv", columns, rows)
        attempt(sales, path)

    check()


def test_zip_of_garbage_named_xlsx(sales: SalesService, tmp_path: Path, big: bool) -> None:
    names = st.sampled_from(
        ["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "_rels/.rels"]
    )

    @fuzz_settings(big)
    @given(
        st.lists(
            st.tuples(
                st.one_of(
                    names,
                    st.text(
                        st.characters(exclude_characters="\x00", exclude_categories=["Cs"]),
                        max_size=8,
                    ),
                ),
                st.binary(max_size=300),
            )
        )
    )
    def check(entries: list[tuple[str, bytes]]) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in dict(entries).items():
                archive.writestr(name or "x", data)
        path = tmp_path / "Order.all.xlsx"
        path.write_bytes(buffer.getvalue())
        result = attempt(sales, path)
        assert isinstance(result, str) and "xlsx" in result

    check()


def test_real_workbook_with_a_damaged_sheet(sales: SalesService, tmp_path: Path, big: bool) -> None:
    """openpyxl opens read-only workbooks lazily: damage inside a sheet shows up mid-rows."""
    good = write_shopee_xlsx(tmp_path / "good.xlsx", [*GOOD, *GOOD_MORE])
    with zipfile.ZipFile(good) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheets = sorted(n for n in parts if n.startswith("xl/worksheets/") or "sharedStrings" in n)

    @fuzz_settings(big)
    @given(
        st.sampled_from(sheets),
        st.lists(st.tuples(st.integers(0, 100_000), st.binary(max_size=4)), min_size=1, max_size=6),
        st.integers(0, 100_000),
    )
    def check(part: str, edits: list[tuple[int, bytes]], cut: int) -> None:
        data = bytearray(parts[part])
        for at, replacement in edits:
            at %= len(data)
            data[at : at + len(replacement)] = replacement
        if cut % 3 == 0:
            data = data[: cut % len(data)]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in parts.items():
                archive.writestr(name, bytes(data) if name == part else content)
        path = tmp_path / "damaged.xlsx"
        path.write_bytes(buffer.getvalue())
        attempt(sales, path)

    check()


def test_a_workbook_damaged_past_its_first_rows_names_the_row(
    sales: SalesService, tmp_path: Path
) -> None:
    """Found by fuzzing: openpyxl parses a read-only sheet as it goes, so the damage raised a
    bare ParseError/ValueError from the middle of the rows."""
    good = write_shopee_xlsx(tmp_path / "good.xlsx", [*GOOD, *GOOD_MORE])
    with zipfile.ZipFile(good) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    bad_number = sheet.replace(
        '<c r="A4" t="inlineStr"><is><t>B1</t></is></c>', '<c r="A4" t="n"><v>x</v></c>'
    )
    cut_short = sheet[: sheet.index('<row r="5"') + 40]
    for name, damaged in (("number.xlsx", bad_number), ("cut.xlsx", cut_short)):
        assert damaged != sheet
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            for part, content in parts.items():
                fresh = damaged.encode() if part == "xl/worksheets/sheet1.xml" else content
                archive.writestr(part, fresh)
        result = attempt(sales, path)
        assert isinstance(result, str) and "readable" in result, result
        if name == "number.xlsx":
            assert "row 4: not readable (damaged sheet: ValueError)" in result


# -- fixed nasty files ------------------------------------------------------------------------


def shopee_csv_rows(cell_at: int, value: str) -> list[list[str]]:
    row = [str(c) for c in next(shopee_rows(GOOD))]
    row[cell_at] = value
    return [row]


@pytest.mark.parametrize(
    "column", ["No. Pesanan", "Total Pembayaran", "Status Pesanan", "SKU Induk"]
)
def test_a_one_megabyte_cell(sales: SalesService, tmp_path: Path, column: str) -> None:
    at = SHOPEE_HEADERS.index(column)
    rows = shopee_csv_rows(at, "9" * MB if column == "Total Pembayaran" else "x" * MB)
    result = check_with_rows(
        sales, tmp_path, "huge.csv", lambda p: write_csv(p, SHOPEE_HEADERS, rows)
    )
    # the csv module refuses a cell over 128 KiB: the whole file is refused, naming the row
    assert isinstance(result, str) and "row 2: not readable" in result and "field limit" in result


def test_a_one_megabyte_cell_in_xlsx(sales: SalesService, tmp_path: Path) -> None:
    samples = [Sample("B" * MB, "28/11/2026 19.30", "125.000", "Selesai")]
    path = write_shopee_xlsx(tmp_path / "huge.xlsx", samples)
    result = attempt(sales, path)
    # the order id is refused in one line naming the row and column; nothing is written
    assert isinstance(result, ImportOutcome), result
    assert (result.rows_read, result.orders, result.written) == (1, 0, False)
    assert [(e.row, e.text()) for e in result.rejected] == [
        (2, "No. Pesanan: longer than 128 characters")
    ]


@pytest.mark.parametrize(
    "content", [b"", b"\n\n\n", b"\xef\xbb\xbf", b"\xff\xfe", b",,,,\r\n", b"PK\x03\x04"]
)
def test_empty_files(sales: SalesService, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    result = attempt(sales, path)
    assert isinstance(result, str) and str(path) in result


def test_a_csv_ten_thousand_columns_wide(sales: SalesService, tmp_path: Path) -> None:
    header = [*SHOPEE_HEADERS, *(f"extra {i}" for i in range(10_000 - len(SHOPEE_HEADERS)))]
    row = [str(c) for c in next(shopee_rows(GOOD))] + ["x"] * (len(header) - len(SHOPEE_HEADERS))
    path = write_csv(tmp_path / "wide.csv", header, [row, row[:5]])
    result = attempt(sales, path)
    assert isinstance(result, ImportOutcome) and result.rows_read == 2


def test_a_file_that_is_a_folder_or_missing(sales: SalesService, tmp_path: Path) -> None:
    assert "cannot read" in str(attempt(sales, tmp_path))
    assert "cannot read" in str(attempt(sales, tmp_path / "nope.csv"))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_excel_unicode_text_utf16_with_tabs_is_read(
    sales: SalesService, tmp_path: Path, encoding: str
) -> None:
    """Excel's "Unicode Text" export: UTF-16 with a BOM, tab-separated (was read as cp1252)."""
    rows = [SHOPEE_HEADERS, *([str(c) for c in r] for r in shopee_rows([*GOOD, *GOOD_MORE]))]
    text = "\r\n".join("\t".join(r) for r in rows) + "\r\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    path = tmp_path / "Order.all.txt"
    path.write_bytes(data)
    result = attempt(sales, path)
    assert isinstance(result, ImportOutcome) and result.written, result
    assert result.format == "shopee" and result.orders == 6 and not result.rejected


# -- the real command on nasty files --------------------------------------------------------
def nasty_files(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    files = {
        "random.csv": os.urandom(4000),
        "utf16.csv": ",".join(SHOPEE_HEADERS).encode("utf-16") + b"\x00\xd8",
        "zipjunk.xlsx": b"PK\x03\x04" + os.urandom(2000),
        "empty.csv": b"",
        "ole.xls": b"\xd0\xcf\x11\xe0" + bytes(500),
    }
    good = write_shopee_xlsx(folder / "good.xlsx", [*GOOD, *GOOD_MORE])
    with zipfile.ZipFile(good) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].replace(b"<t>B1</t>", b"<t>B1</t></is></c></t>")
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        for part, content in parts.items():
            archive.writestr(part, sheet if part == "xl/worksheets/sheet1.xml" else content)
    files["damaged.xlsx"] = damaged.getvalue()
    good.unlink()
    out = {}
    for name, data in files.items():
        out[name] = folder / name
        out[name].write_bytes(data)
    return out


def test_liveguard_import_on_nasty_files_says_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "liveguard.toml").write_text(shop_config())
    env = {k: v for k, v in os.environ.items() if k not in ("LIVEGUARD_HOME", "LIVEGUARD_DEBUG")}
    for name, path in nasty_files(tmp_path / "files").items():
        before = state_bytes(home / "state") if (home / "state").exists() else {}
        done = subprocess.run(
            [sys.executable, "-m", "liveguard", "--home", str(home), "import", str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        lines = done.stderr.strip().splitlines()
        assert done.returncode != 0, name
        assert len(lines) == 1 and lines[0].startswith("liveguard: "), (name, done.stderr)
        assert "Traceback" not in done.stderr + done.stdout
        assert "unexpected error" not in done.stderr and str(path) in done.stderr, done.stderr
        after = state_bytes(home / "state") if (home / "state").exists() else {}
        assert after == before or not before, name
