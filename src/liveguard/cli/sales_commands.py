"""``liveguard sale add``, ``liveguard import`` and ``liveguard today`` (docs/reference.md)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any

from liveguard.adapters.importers import (
    FORMAT_NAMES,
    ExportFileError,
    StatusMapError,
    parse_status_map,
)
from liveguard.adapters.state_home import StateError
from liveguard.core.ledger import ChannelDay, DaySummary
from liveguard.core.money import format_rupiah
from liveguard.core.timekeeping import format_clock, zone_abbreviation
from liveguard.i18n import Catalog
from liveguard.service.sales import ImportCancelled, ImportOutcome, SaleInputError, SalesService

from .context import EXIT_USAGE, CliError, Context

EXIT_REJECTED = 1  # an import refused because of bad rows (nothing written)
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it


def register(sub: Any) -> None:
    sale = sub.add_parser("sale", help="record sales by hand")
    sale_sub = sale.add_subparsers(dest="sale_command", metavar="add", required=True)
    add = sale_sub.add_parser("add", help="record one sale by hand")
    add.add_argument("channel", metavar="CHANNEL", help="channel id from the config")
    add.add_argument("amount", metavar="AMOUNT", help="125000, 125.000, Rp125.000, 125rb, 1,2jt …")
    add.add_argument(
        "--order", metavar="ID", help="the order id (re-recording it updates, never doubles)"
    )
    add.add_argument(
        "--at", metavar="TIME", help="ISO 8601; without an offset, the seller's zone (default: now)"
    )
    add.add_argument(
        "--status",
        default="paid",
        choices=["paid", "cancelled", "returned", "unpaid"],
        help="default: paid",
    )
    add.set_defaults(func=run_sale_add)

    imp = sub.add_parser("import", help="import a marketplace order export (csv or xlsx)")
    imp.add_argument("file", metavar="FILE", help="the export file")
    imp.add_argument(
        "--format", default="auto", choices=FORMAT_NAMES, help="default: detect from the headers"
    )
    imp.add_argument("--channel", metavar="ID", help="the channel these orders belong to")
    imp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    imp.add_argument("--json", action="store_true", help="print JSON (docs/reference.md)")
    imp.add_argument(
        "--skip-bad-rows", action="store_true", help="import the good orders, skip bad rows"
    )
    imp.add_argument(
        "--map",
        metavar="FIELD=COLUMN",
        action="append",
        default=[],
        help="for --format csv: which column holds id, created, amount or status (repeatable)",
    )
    imp.add_argument(
        "--status-map",
        metavar="WORD=MEANING",
        action="append",
        default=[],
        help="what a status word of the file means: paid, unpaid, cancelled or returned "
        "(repeatable; adds to [imports] status_map in the config)",
    )
    imp.set_defaults(func=run_import)

    today = sub.add_parser("today", help="sales per channel for a day")
    today.add_argument("--json", action="store_true", help="print JSON (docs/reference.md)")
    today.add_argument(
        "--date", metavar="YYYY-MM-DD", help="another day (default: today, seller's zone)"
    )
    today.set_defaults(func=run_today)


def _service(ctx: Context) -> SalesService:
    return SalesService(ctx.config(), ctx.state(), ctx.clock)


def run_sale_add(ctx: Context, args: argparse.Namespace) -> int:
    sales = _service(ctx)
    t = Catalog(ctx.lang)
    try:
        order, result = sales.add_sale(
            args.channel, args.amount, order_id=args.order, at=args.at, status=args.status
        )
    except (SaleInputError, StateError) as exc:
        raise CliError(str(exc)) from None
    sales.maintain()  # sellers who only use the CLI get old days compacted too
    channel = ctx.config().channel(order.channel)
    print(
        t(
            "sales.cli.recorded",
            amount=format_rupiah(order.amount),
            channel=channel.name if channel else order.channel,
            order=order.order_id,
            time=format_clock(order.created, sales.zone),
            status=t(f"sales.entry.{order.status.value}"),
            result=t(f"sales.cli.{result}"),
        )
    )
    return 0


def _mapping(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, column = pair.partition("=")
        if not sep or key not in ("id", "created", "amount", "status") or not column:
            raise CliError(
                f"--map {pair!r}: use FIELD=COLUMN with FIELD one of id, created, amount, status",
                EXIT_USAGE,
            )
        out[key] = column
    return out


def run_import(ctx: Context, args: argparse.Namespace) -> int:
    sales = _service(ctx)
    path = Path(args.file).expanduser()
    try:
        status_map = parse_status_map(args.status_map)
    except StatusMapError as exc:
        raise CliError(f"--status-map {exc}", EXIT_USAGE) from None
    stop = _InterruptStops()
    try:
        with stop:
            outcome = sales.import_file(
                path,
                format_name=args.format,
                channel=args.channel,
                dry_run=args.dry_run,
                skip_bad_rows=args.skip_bad_rows,
                mapping=_mapping(args.map),
                status_map=status_map,
                cancelled=stop.requested,
                on_saving=stop.hold,
            )
    except (ImportCancelled, KeyboardInterrupt):
        print(Catalog(ctx.lang)("importing.cli_cancelled", file=path.name), file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ExportFileError, StateError) as exc:
        raise CliError(str(exc)) from None
    if outcome.written:
        sales.maintain()
    refused = bool(outcome.rejected) and not args.skip_bad_rows
    if args.json:
        print(json.dumps(outcome.as_json(), ensure_ascii=False))
    else:
        _print_import(outcome, Catalog(ctx.lang), ctx, refused)
    return EXIT_REJECTED if refused else 0


class _InterruptStops:
    """Ctrl-C during an import: while the file is read, the first one asks the reader to stop
    (it looks every few thousand rows), a second one stops at once; nothing is written either
    way. Once saving has begun (a few atomic writes), Ctrl-C waits for it to end, so an
    import is never left half-saved."""

    def __init__(self) -> None:
        self._asked = False
        self._saving = False
        self._previous: Any = None

    def requested(self) -> bool:
        return self._asked

    def hold(self) -> None:
        self._saving = True

    def _on_interrupt(self, signum: int, frame: object) -> None:
        if self._saving:
            return
        if self._asked:
            raise KeyboardInterrupt
        self._asked = True

    def __enter__(self) -> _InterruptStops:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _print_import(outcome: ImportOutcome, t: Catalog, ctx: Context, refused: bool) -> None:
    channel = ctx.config().channel(outcome.channel)
    for error in outcome.rejected:
        line = t("imports.cli.row", file=outcome.file, row=error.row, error=error.text())
        print(line, file=sys.stderr)
    if refused and not outcome.dry_run:
        print(t("sales.cli.import_refused", count=len(outcome.rejected)), file=sys.stderr)
        return
    for skip in outcome.skipped:
        print(t("imports.cli.skipped_row", file=outcome.file, row=skip.row, reason=skip.text()))
    print(
        t(
            "sales.cli.import_summary",
            file=outcome.file,
            format=outcome.format,
            channel=channel.name if channel else outcome.channel,
            added=outcome.results["added"],
            updated=outcome.results["updated"],
            unchanged=outcome.results["unchanged"],
            rows=outcome.rows_read,
        )
    )
    if outcome.skipped:
        print(t("imports.cli.skipped", count=len(outcome.skipped)))
    if outcome.dry_run:
        print(t("sales.cli.import_dry"))
    if outcome.rejected and not refused:
        print(t("sales.cli.import_skipped", count=len(outcome.rejected)))
    elif refused:
        print(t("sales.cli.import_refused", count=len(outcome.rejected)), file=sys.stderr)


def run_today(ctx: Context, args: argparse.Namespace) -> int:
    sales = _service(ctx)
    day: date | None = None
    if args.date:
        try:
            day = date.fromisoformat(args.date)
        except ValueError:
            raise CliError(f"--date {args.date!r}: use YYYY-MM-DD", EXIT_USAGE) from None
    try:
        summary = sales.today(day)
    except StateError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps(today_json(summary, sales), ensure_ascii=False))
        return 0
    t = Catalog(ctx.lang)
    print(
        t(
            "sales.cli.today_title",
            shop=ctx.config().shop,
            day=summary.day.isoformat(),
            zone=zone_abbreviation(sales.zone, summary.as_of),
        )
    )
    print(today_table(summary, t))
    return 0


def _change_text(day: ChannelDay, t: Catalog) -> str:
    change = day.vs_yesterday
    if change.ratio is not None:
        return change.percent()
    return t("sales.new") if change.kind == "new" else t("sales.dash")


def today_table(summary: DaySummary, t: Catalog) -> str:
    header = (
        t("sales.channel"),
        t("sales.orders"),
        t("sales.revenue"),
        t("sales.vs_yesterday"),
        t("sales.share"),
    )
    rows = [header]
    for day in [*summary.channels, summary.total]:
        share = f"{round(day.share * 100)}%" if day.share is not None else t("sales.dash")
        rows.append(
            (
                day.name or t("sales.total"),
                str(day.orders),
                format_rupiah(day.revenue),
                _change_text(day, t),
                share,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(widths[i]) for i, cell in enumerate(row) if i
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def today_json(summary: DaySummary, sales: SalesService) -> dict[str, Any]:
    zone = sales.zone

    def channel(day: ChannelDay) -> dict[str, Any]:
        return {
            "id": day.id,
            "name": day.name,
            "orders": day.orders,
            "revenue": day.revenue,
            "cancelled": day.cancelled,
            "vs_yesterday": day.vs_yesterday.as_json(),
            "vs_last_week": day.vs_last_week.as_json(),
            "average": day.average,
            "share": None if day.share is None else round(day.share, 4),
            "hourly_orders": list(day.hourly_orders),
            "hourly_revenue": list(day.hourly_revenue),
        }

    total = summary.total
    return {
        "date": summary.day.isoformat(),
        "timezone": sales.config.timezone,
        "currency": "IDR",
        "as_of": summary.as_of.astimezone(zone).isoformat(timespec="seconds"),
        "channels": [channel(c) for c in summary.channels],
        "total": {
            "orders": total.orders,
            "revenue": total.revenue,
            "cancelled": total.cancelled,
            "vs_yesterday": total.vs_yesterday.as_json(),
            "hourly_revenue": list(total.hourly_revenue),
        },
    }
