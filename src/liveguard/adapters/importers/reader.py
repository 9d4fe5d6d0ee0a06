"""Turning export rows into orders: group product lines by order, check every row.

Nothing is written here. Every bad row is collected (row number, column, value) so the
caller can refuse the whole file or skip just those orders. A problem in an order that
cannot change revenue (cancelled, unpaid or returned: an empty date, say) never blocks the
file: that order is *skipped* with its reason. Status words mean what ``status_words.toml``
says; a word in no table is an error naming it. Order ids that Excel turned into numbers
are an error too: such orders are never merged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from operator import itemgetter
from pathlib import Path

from liveguard.core.bounds import ORDER_ID_MAX, ORDER_STATUS_MAX
from liveguard.core.money import AmountError, parse_amount
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.parsing import DateError, DateReader, parse_datetime
from liveguard.core.text import CELL_MAX, NAME_MAX, clean_line

from .formats import ColumnPlan, ExportFormat
from .tables import (
    MESSAGE_MAX,
    READ_ERRORS,
    Cell,
    ExportFileError,
    Table,
    cell_text,
    is_blank,
    read_error,
)
from .vocabulary import UnknownWord, Vocabulary

__all__ = ["ParsedExport", "RowError", "read_orders"]

_WS = " \t\r\n"
# Excel (and LibreOffice) show a long number in scientific notation and save it that way
# ("5.83871E+17", always a capital E);
# a number cell of 16 digits or more that Excel stored (a float: Excel keeps 15 digits) has
# lost its last ones. An integer cell holds every digit (a program wrote it): it is an id.
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_EXACT_DIGITS = 1e15
_SHOWN_ROWS = 3  # rows named in a one-line summary of many

# Statuses an order's lines are reduced by: a paid line makes the order paid; otherwise
# the "strongest" non-sale wins.
_STATUS_RANK = {
    OrderStatus.PAID: 0,
    OrderStatus.RETURNED: 1,
    OrderStatus.CANCELLED: 2,
    OrderStatus.UNPAID: 3,
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    message: str

    def __post_init__(self) -> None:
        # column, cell and message quote the file: clean where they enter
        object.__setattr__(self, "column", clean_line(self.column, NAME_MAX))
        object.__setattr__(self, "value", clean_line(self.value, CELL_MAX))
        # the message is ours around quoted cells (each already capped): it may advise at length
        object.__setattr__(self, "message", clean_line(self.message, MESSAGE_MAX))

    def text(self) -> str:
        """``Total Pembayaran: not a number: 'abc'`` (the ``error`` field of ``import --json``)."""
        return f"{self.column}: {self.message}" if self.column else self.message


@dataclass
class ParsedExport:
    format: str
    channel: str
    orders: list[Order]
    rows_read: int
    rejected: list[RowError]
    skipped: list[RowError] = field(default_factory=list)  # orders that cannot change revenue


class _Pending:
    """An order being assembled from its lines (slots: there is one per order of a big file).

    Lines are folded in as they come: ``status`` is the strongest status of the good lines
    so far (None: no good line yet) and ``total`` the sum of those lines' amounts.
    ``problems`` are the order's bad cells, judged at the end: an order that may be a sale
    (``maybe_sale``: a paid line, or a line whose status is unknown) is refused with them;
    any other order is skipped with them.
    """

    __slots__ = (
        "amount",
        "amount_cell",
        "bad",
        "created",
        "first_row",
        "maybe_sale",
        "problems",
        "raw_status",
        "status",
        "total",
    )

    def __init__(
        self,
        first_row: int,
        created: datetime | None,
        amount_cell: Cell,
        amount: int | None,
        raw_status: str,
        status: OrderStatus | None,
    ) -> None:
        """From the order's first line (its time, amount and status as read, or None)."""
        self.first_row = first_row
        self.created = created
        self.amount_cell = amount_cell
        self.amount = amount
        self.raw_status = raw_status
        good = status is not None and amount is not None
        self.bad = created is None or not good
        self.status: OrderStatus | None = status if good else None
        self.total = amount if amount is not None and good else 0
        self.maybe_sale = status is None or status is OrderStatus.PAID
        self.problems: tuple[RowError, ...] = ()

    def add_line(self, status: OrderStatus, amount: int) -> None:
        best = self.status
        if status is best:
            self.total += amount
        elif best is None or _STATUS_RANK[status] < _STATUS_RANK[best]:
            self.status, self.total = status, amount


class _Reader:
    def __init__(
        self,
        fmt: ExportFormat,
        plan: ColumnPlan,
        header: list[str],
        zone: tzinfo,
        words: Vocabulary,
    ) -> None:
        self.fmt, self.plan, self.header, self.zone, self.words = fmt, plan, header, zone, words
        self.pending: dict[str, _Pending] = {}
        self.errors: list[RowError] = []
        self.skipped: list[RowError] = []
        self.amounts: dict[Cell, int] = {}
        self.read_date = DateReader(zone)
        self.statuses: dict[tuple[Cell, Cell], tuple[OrderStatus | None, str]] = {}
        # (column index, word) -> rows where a status word in no table was found
        self.unknown_words: dict[tuple[int | None, str], list[int]] = {}
        self.mangled_ids: list[tuple[int, str]] = []  # (row, id as read)
        self.line_amounts = fmt.line_amounts
        self.has_status = plan.status is not None
        self.has_side = plan.side_status is not None
        # Missing optional columns are picked from the id column and ignored.
        indexes = (
            plan.order_id,
            plan.order_id if plan.status is None else plan.status,
            plan.order_id if plan.side_status is None else plan.side_status,
            plan.amount,
            plan.created,
        )
        self.pick = itemgetter(*indexes)
        self.width = max(indexes) + 1
        self.row = 1  # the last row read (the header is row 1)

    def column(self, index: int | None) -> str:
        return self.header[index] if index is not None and index < len(self.header) else ""

    def fail(self, row: int, index: int | None, value: Cell, message: str) -> None:
        self.errors.append(self.problem(row, index, value, message))

    def problem(self, row: int, index: int | None, value: Cell, message: str) -> RowError:
        return RowError(row, self.column(index), shown(value), message)

    def cell(self, cells: Sequence[Cell], index: int | None) -> Cell:
        return cells[index] if index is not None and index < len(cells) else None

    def status_of(self, main: Cell, side: Cell) -> tuple[OrderStatus | None, str]:
        """(normalised status, raw status text) of a status cell pair, classified once per
        distinct pair (a file holds a handful); None when empty or a word is unknown."""
        key = (main, side)
        known = self.statuses.get(key)
        if known is None:
            text = cell_text(main)
            status = self.words.classify(text, cell_text(side)) if text else None
            if isinstance(status, UnknownWord):
                index = self.plan.side_status if status.side else self.plan.status
                self.unknown_words.setdefault((index, status.word), [])
                status = None
            known = self.statuses[key] = (status, text[:ORDER_STATUS_MAX])
        return known

    def note_unknown(self, number: int, main: Cell, side: Cell) -> None:
        """Remember the row of an unknown word (the pair was classified before)."""
        text = cell_text(main)
        if not text:
            return
        found = self.words.classify(text, cell_text(side))
        if isinstance(found, UnknownWord):
            index = self.plan.side_status if found.side else self.plan.status
            self.unknown_words.setdefault((index, found.word), []).append(number)

    def read(self, rows: Iterable[tuple[int, Sequence[Cell]]], description_row: bool) -> int:
        """Fold every row into its pending order; returns how many rows were read.

        The hot loop of big imports: names bound once, one C-level pick of the five cells,
        strings used as they are unless they need trimming, statuses and amounts cached.
        """
        pick, width, pending_orders = self.pick, self.width, self.pending
        statuses, amounts, read_date = self.statuses, self.amounts, self.read_date
        has_status, has_side, line_amounts = self.has_status, self.has_side, self.line_amounts
        plan, ws = self.plan, _WS
        rows_read = 0
        number = self.row
        try:
            for number, cells in rows:
                if not (cells and cells[0]) and is_blank(cells):
                    continue
                if number == 2 and description_row and _is_description(self, cells):
                    continue
                rows_read += 1
                try:
                    order_id, status_cell, side_cell, amount_cell, created_cell = pick(cells)
                except IndexError:
                    padded = [*cells, *([None] * width)]
                    order_id, status_cell, side_cell, amount_cell, created_cell = pick(padded)
                if (
                    type(order_id) is not str
                    or not order_id
                    or order_id[0] in ws
                    or order_id[-1] in ws
                ):
                    raw_id = order_id
                    order_id = cell_text(order_id)
                    if not order_id:
                        self.fail(number, plan.order_id, "", "empty order id")
                        continue
                    if type(raw_id) is float and abs(raw_id) >= _EXACT_DIGITS:
                        self.mangled_ids.append((number, order_id))
                        continue
                if "E+" in order_id and _SCIENTIFIC.match(order_id):
                    self.mangled_ids.append((number, order_id))
                    continue
                if len(order_id) > ORDER_ID_MAX:  # stored in the day file: kept small
                    self.fail(number, plan.order_id, "", f"longer than {ORDER_ID_MAX} characters")
                    continue
                status: OrderStatus | None = OrderStatus.PAID
                raw_status = ""
                if has_status:
                    side = side_cell if has_side else ""
                    known = statuses.get((status_cell, side)) or self.status_of(status_cell, side)
                    status, raw_status = known
                    if status is None:
                        if raw_status:
                            self.note_unknown(number, status_cell, side)
                        else:
                            self.fail(number, plan.status, "", "empty status")
                pending = pending_orders.get(order_id)
                if pending is None:
                    problems: tuple[RowError, ...] = ()
                    try:
                        created: datetime | None = read_date(created_cell)
                    except DateError as exc:
                        problems = (self._date_problem(number, created_cell, exc),)
                        created = None
                    line_amount = amounts.get(amount_cell)
                    if line_amount is None:
                        got = self._amount(number, amount_cell, status)
                        if isinstance(got, RowError):
                            problems, line_amount = (*problems, got), None
                        else:
                            line_amount = got
                    pending = pending_orders[order_id] = _Pending(
                        number, created, amount_cell, line_amount, raw_status, status
                    )
                    if problems:
                        pending.problems = problems
                    continue
                if status is None or status is OrderStatus.PAID:
                    pending.maybe_sale = True
                if line_amounts or (amount_cell != pending.amount_cell and not _empty(amount_cell)):
                    got = self._amount(number, amount_cell, status)
                    if isinstance(got, RowError):
                        pending.problems += (got,)
                        line_amount = None
                    elif not line_amounts and got != pending.amount:
                        message = f"differs from row {pending.first_row} of the same order"
                        pending.problems += (
                            self.problem(number, plan.amount, amount_cell, message),
                        )
                        line_amount = None
                    else:
                        line_amount = got
                else:
                    line_amount = pending.amount
                if status is None or line_amount is None:
                    pending.bad = True
                else:
                    pending.add_line(status, line_amount)
        finally:
            self.row = number  # the last row read, for a reading error on the next
        return rows_read

    def _date_problem(self, number: int, cell: Cell, exc: DateError) -> RowError:
        """The date cell as the seller sees it (never Python's ``None``)."""
        if _empty(cell):
            return self.problem(number, self.plan.created, "", "empty date")
        detail = f" ({exc.detail})" if exc.detail else ""
        return self.problem(number, self.plan.created, cell, f"not a date: {shown(cell)!r}{detail}")

    def _amount(self, number: int, value: Cell, status: OrderStatus | None) -> int | RowError:
        """The amount of a cell, or what is wrong with it."""
        # Price points repeat across thousands of orders: parse each distinct cell once.
        known = self.amounts.get(value)
        if known is not None:
            return known
        if _empty(value):
            if status is not None and status is not OrderStatus.PAID:
                return 0  # cancelled/unpaid orders often carry no amount
            return self.problem(number, self.plan.amount, value, "empty amount")
        try:
            amount = parse_amount(value if isinstance(value, int | float) else str(value))
        except AmountError as exc:
            return self.problem(number, self.plan.amount, value, str(exc))
        if len(self.amounts) < 100_000:
            self.amounts[value] = amount
        return amount

    def finish(self) -> None:
        """Judge each order's problems (refused if it may be a sale, else skipped) and add
        the one-line summaries of unknown status words and Excel-mangled ids."""
        for p in self.pending.values():
            if p.problems:
                if p.maybe_sale or p.status is OrderStatus.PAID:
                    self.errors.extend(p.problems)
                else:  # one reason per skipped order
                    self.skipped.append(p.problems[0])
        for (index, word), rows in self.unknown_words.items():
            if rows:
                self.errors.append(self.problem(rows[0], index, word, _unknown_word(word, rows)))
        if self.mangled_ids:
            row, text = self.mangled_ids[0]
            rows = [r for r, _ in self.mangled_ids]
            message = _mangled_ids(text, rows)
            self.errors.append(self.problem(row, self.plan.order_id, text, message))
        self.errors.sort(key=lambda e: e.row)
        self.skipped.sort(key=lambda e: e.row)

    def orders(self, channel: str, source: str) -> list[Order]:
        # Shopee/TikTok repeat the order's amount on each line; Lazada/CSV lines add up.
        sums = self.line_amounts
        return [
            Order(
                channel,
                order_id,
                p.created,
                p.total if sums else p.amount,
                p.status,
                p.raw_status,
                source,
            )
            for order_id, p in self.pending.items()
            if not p.bad and p.status is not None and p.created is not None and p.amount is not None
        ]


def shown(value: Cell) -> str:
    """A cell as the seller sees it in the spreadsheet, made safe to quote back."""
    return clean_line(cell_text(value), CELL_MAX)


def _rows_text(rows: list[int]) -> str:
    named = ", ".join(str(r) for r in rows[:_SHOWN_ROWS])
    more = len(rows) - _SHOWN_ROWS
    return (
        f"row {named}"
        if len(rows) == 1
        else f"rows {named}" + (f" and {more} more" if more > 0 else "")
    )


def _unknown_word(word: str, rows: list[int]) -> str:
    quoted = clean_line(word, CELL_MAX)
    return (
        f"unknown status {quoted!r} ({_rows_text(rows)}): liveguard will not guess whether it "
        f'is a sale; say what it means with --status-map "{quoted}=paid" (or unpaid, '
        "cancelled, returned), or in the config under [imports] status_map"
    )


def _mangled_ids(example: str, rows: list[int]) -> str:
    return (
        f"order ids changed into numbers by Excel ({_rows_text(rows)}, e.g. "
        f"{clean_line(example, CELL_MAX)!r}): different orders may now share one id, so these "
        "rows are not imported; export the file again and import it as downloaded, or open "
        "it with the id column as Text"
    )


def _empty(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_orders(
    table: Table,
    fmt: ExportFormat,
    plan: ColumnPlan,
    channel: str,
    zone: tzinfo,
    path: Path,
    words: Vocabulary,
) -> ParsedExport:
    reader = _Reader(fmt, plan, table.header, zone, words)
    try:
        rows_read = reader.read(table.rows, fmt.description_row)
    except READ_ERRORS as exc:
        raise ExportFileError(
            f"{path}: row {reader.row + 1}: not readable ({read_error(exc)})"
        ) from None
    reader.finish()
    orders = reader.orders(channel, f"import:{fmt.name}")
    return ParsedExport(fmt.name, channel, orders, rows_read, reader.errors, reader.skipped)


def _is_description(reader: _Reader, cells: Sequence[Cell]) -> bool:
    """TikTok's row 2 explains each column in words: neither its time nor amount parses."""
    try:
        parse_datetime(reader.cell(cells, reader.plan.created), reader.zone)
        return False
    except DateError:
        pass
    try:
        parse_amount(cell_text(reader.cell(cells, reader.plan.amount)))
        return False
    except AmountError:
        return True
