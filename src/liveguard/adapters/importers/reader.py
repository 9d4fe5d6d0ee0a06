"""Turning export rows into orders: group product lines by order, check every row.

Nothing is written here. Every bad row is collected (row number, column, value) so the
caller can refuse the whole file or skip just those orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from liveguard.core.money import AmountError, parse_amount
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.parsing import DateError, classify_status, parse_datetime

from .formats import ColumnPlan, ExportFormat
from .tables import Cell, Table, cell_text, is_blank

__all__ = ["ParsedExport", "RowError", "read_orders"]

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

    def text(self) -> str:
        """``Total Pembayaran: not a number: 'abc'`` (the interface.md ``error`` field)."""
        return f"{self.column}: {self.message}" if self.column else self.message


@dataclass
class ParsedExport:
    format: str
    channel: str
    orders: list[Order]
    rows_read: int
    rejected: list[RowError]


@dataclass
class _Pending:
    first_row: int
    created: datetime | None
    amount_cell: Cell
    amount: int | None
    lines: list[tuple[OrderStatus, int]] = field(default_factory=list)
    raw_status: str = ""
    bad: bool = False


class _Reader:
    def __init__(
        self, fmt: ExportFormat, plan: ColumnPlan, header: list[str], zone: tzinfo
    ) -> None:
        self.fmt, self.plan, self.header, self.zone = fmt, plan, header, zone
        self.pending: dict[str, _Pending] = {}
        self.errors: list[RowError] = []
        self.statuses: dict[tuple[str, str], OrderStatus] = {}
        self.amounts: dict[Cell, int] = {}

    def column(self, index: int | None) -> str:
        return self.header[index] if index is not None and index < len(self.header) else ""

    def fail(self, row: int, index: int | None, value: Cell, message: str) -> None:
        self.errors.append(RowError(row, self.column(index), cell_text(value), message))

    def cell(self, cells: list[Cell], index: int | None) -> Cell:
        return cells[index] if index is not None and index < len(cells) else None

    def status_of(self, main: str, side: str) -> OrderStatus:
        # A file holds a handful of distinct statuses: classify each pair once.
        key = (main, side)
        status = self.statuses.get(key)
        if status is None:
            status = self.statuses[key] = classify_status(main, side)
        return status

    def line(self, number: int, cells: list[Cell]) -> None:
        plan = self.plan
        try:
            order_id = cells[plan.order_id]
        except IndexError:
            order_id = None
        if (
            not isinstance(order_id, str)
            or not order_id
            or order_id[0] in " \t"
            or order_id[-1] in " \t"
        ):
            order_id = cell_text(order_id)
        if not order_id:
            self.fail(number, plan.order_id, "", "empty order id")
            return
        status: OrderStatus | None = OrderStatus.PAID
        status_text = ""
        if plan.status is not None:
            status_text = cell_text(self.cell(cells, plan.status))
            if status_text:
                side = (
                    cell_text(self.cell(cells, plan.side_status))
                    if plan.side_status is not None
                    else ""
                )
                status = self.status_of(status_text, side)
            else:
                self.fail(number, plan.status, "", "empty status")
                status = None
        amount_cell = self.cell(cells, plan.amount)
        pending = self.pending.get(order_id)
        if pending is None:
            created = self._created(number, cells)
            pending = _Pending(number, created, amount_cell, None, raw_status=status_text)
            pending.bad = created is None
            self.pending[order_id] = pending
            line_amount = self._amount(number, amount_cell, status)
            pending.amount = line_amount
        elif self.fmt.line_amounts or (
            amount_cell != pending.amount_cell and not _empty(amount_cell)
        ):
            line_amount = self._amount(number, amount_cell, status)
            if (
                not self.fmt.line_amounts
                and line_amount is not None
                and line_amount != pending.amount
            ):
                self.fail(
                    number,
                    plan.amount,
                    amount_cell,
                    f"differs from row {pending.first_row} of the same order",
                )
                line_amount = None
        else:
            line_amount = pending.amount
        if status is None or line_amount is None:
            pending.bad = True
            return
        pending.lines.append((status, line_amount))

    def _created(self, number: int, cells: list[Cell]) -> datetime | None:
        value = self.cell(cells, self.plan.created)
        try:
            return parse_datetime(value, self.zone)
        except DateError as exc:
            self.fail(number, self.plan.created, value, str(exc))
            return None

    def _amount(self, number: int, value: Cell, status: OrderStatus | None) -> int | None:
        if _empty(value):
            if status is not None and status is not OrderStatus.PAID:
                return 0  # cancelled/unpaid orders often carry no amount
            self.fail(number, self.plan.amount, value, "empty amount")
            return None
        # Price points repeat across thousands of orders: parse each distinct cell once.
        known = self.amounts.get(value)
        if known is not None:
            return known
        try:
            amount = parse_amount(value if isinstance(value, int | float) else str(value))
        except AmountError as exc:
            self.fail(number, self.plan.amount, value, str(exc))
            return None
        if len(self.amounts) < 100_000:
            self.amounts[value] = amount
        return amount

    def orders(self, channel: str, source: str) -> list[Order]:
        out = []
        for order_id, p in self.pending.items():
            if p.bad or p.created is None or not p.lines:
                continue
            if len(p.lines) == 1:
                status, amount = p.lines[0]
                out.append(
                    Order(channel, order_id, p.created, amount, status, p.raw_status, source)
                )
                continue
            status = min((s for s, _ in p.lines), key=_STATUS_RANK.__getitem__)
            if self.fmt.line_amounts:
                amount = sum(a for s, a in p.lines if s is status)
            else:
                amount = p.amount or 0
            out.append(Order(channel, order_id, p.created, amount, status, p.raw_status, source))
        return out


def _empty(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_orders(
    table: Table, fmt: ExportFormat, plan: ColumnPlan, channel: str, zone: tzinfo
) -> ParsedExport:
    reader = _Reader(fmt, plan, table.header, zone)
    rows_read = 0
    rows: Iterator[tuple[int, list[Cell]]] = table.rows
    for number, cells in rows:
        if not (cells and cells[0]) and is_blank(cells):
            continue
        if fmt.description_row and number == 2 and _is_description(reader, cells):
            continue
        rows_read += 1
        reader.line(number, cells)
    orders = reader.orders(channel, f"import:{fmt.name}")
    return ParsedExport(fmt.name, channel, orders, rows_read, reader.errors)


def _is_description(reader: _Reader, cells: list[Cell]) -> bool:
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
