"""Arbitrary text through the one gate (core/text.py), then through each surface: the CLI's
stream, screen content, table cells, toasts, feed and export errors, config errors. None may
raise, let a control character through, or turn text into live markup."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import unicodedata
from datetime import timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.text import Text
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import DataTable, Static

from liveguard.adapters.config_file import ConfigError, parse_config
from liveguard.adapters.importers.reader import RowError
from liveguard.adapters.order_feed import FeedError, parse_feed
from liveguard.cli.output import TerminalSafeStream
from liveguard.core.config import OrderSource
from liveguard.core.text import CELL_MAX, REASON_MAX, clean_line, terminal_safe
from liveguard.ui.app import PlainToastApp
from liveguard.ui.content import cell, fill, plain, styled

BIG = "--big" in sys.argv  # the conftest flag; hypothesis settings are fixed at import
EXAMPLES = 2000 if BIG else 200

FRAGMENTS = [
    "[@click=app.quit]q[/]",
    "[@click=app.planb]",
    "[@click=app.screenshot('f','dir')]",
    "[/]",
    "[b]",
    "[$accent]",
    "[ b]",
    "\\",
    "\x1b]0;t\x07",
    "\x1b]52;c;eA==\x07",
    "\x1b[2J",
    "\x9b",
    "\r",
    "\n",
    "\u202e",
    "\u2066",
    "\u200b",
    "\ufeff",
    "\u2028",
    "{reason}",
    "${HOOK_TOKEN}",
    "%s",
]
HOSTILE_TEXT = st.lists(st.one_of(st.text(), st.sampled_from(FRAGMENTS)), max_size=12).map("".join)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


def controls(text: str, *, newline_ok: bool = False) -> list[str]:
    return [
        ch
        for ch in text
        if not (newline_ok and ch == "\n")
        and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")
    ]


def is_inert(content: Content) -> bool:
    """No style and no action came from the text itself."""
    return all("@click" not in str(span.style) for span in content.spans)


@FUZZ
@given(HOSTILE_TEXT)
def test_the_gate_then_the_screen_helpers(text: str) -> None:
    line = clean_line(text)
    assert not controls(line)
    assert len(line) <= REASON_MAX
    for content in (plain(line), styled(line, "bold")):
        assert content.plain == line
        assert is_inert(content)
    assert plain(line).spans == []
    filled = fill("{name} · {reason}", name=styled(line, "bold"), reason=line)
    assert filled.plain == f"{line} · {line}"
    assert is_inert(filled)
    assert cell(line).plain == line and cell(line).spans == []
    # even text that skipped the gate reaches no terminal with a control in it
    assert not controls(plain(text).plain, newline_ok=True)
    assert not controls(cell(text).plain, newline_ok=True)


@FUZZ
@given(HOSTILE_TEXT)
def test_the_cli_stream_writes_no_control_character(text: str) -> None:
    sink = io.StringIO()
    stream = TerminalSafeStream(sink)
    assert stream.write(text) == len(text)
    print(text, file=stream)  # type: ignore[arg-type]
    assert not controls(sink.getvalue(), newline_ok=True)
    assert terminal_safe(text) == terminal_safe(terminal_safe(text))


def test_the_terminal_filter_knows_every_control_and_format_character() -> None:
    unsafe = [
        chr(cp)
        for cp in range(sys.maxunicode + 1)
        if chr(cp) != "\n" and unicodedata.category(chr(cp)) in ("Cc", "Cf", "Cs")
    ]
    assert terminal_safe("".join(unsafe)) == " "  # the tab becomes a space; the rest go


SOURCE = OrderSource("shopee", "http://127.0.0.1/orders", timedelta(seconds=30))


@FUZZ
@given(HOSTILE_TEXT, HOSTILE_TEXT)
def test_feed_fields_come_out_clean(order_id: str, status: str) -> None:
    body = json.dumps(
        [
            {"id": order_id or "x", "created": "2026-11-28T20:00:00+07:00", "amount": 1000},
            {"id": "B", "created": "2026-11-28T20:00:00+07:00", "amount": 5, "status": status},
            {"id": "C", "created": status, "amount": order_id},
        ]
    ).encode()
    try:
        orders = parse_feed(body, SOURCE, ZoneInfo("Asia/Jakarta"))
    except FeedError as exc:
        assert not controls(str(exc)) and len(str(exc)) <= REASON_MAX
    else:
        for order in orders:
            assert not controls(order.order_id) and not controls(order.raw_status)


@FUZZ
@given(HOSTILE_TEXT, HOSTILE_TEXT, HOSTILE_TEXT)
def test_export_errors_quote_cells_cleanly(column: str, value: str, message: str) -> None:
    error = RowError(3, column, value, message)
    for text in (error.text(), error.value):
        assert not controls(text)
    assert len(error.value) <= CELL_MAX


@FUZZ
@given(HOSTILE_TEXT)
def test_config_errors_echo_values_cleanly(text: str) -> None:
    toml = f"[[channels]]\nid = {json.dumps(text)}\nname = {json.dumps(text)}\n"
    try:
        config = parse_config(toml, environ={})
    except ConfigError as exc:
        assert not controls(str(exc))
    else:
        assert all(not controls(c.name) for c in config.channels)


# -- the real widgets, in a running app --------------------------------------------------
class Surfaces(PlainToastApp):
    """The control room's toasts with one Static and one DataTable."""

    def compose(self) -> ComposeResult:
        yield Static(id="static")
        yield DataTable(id="table")


@settings(max_examples=4 if not BIG else 40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(HOSTILE_TEXT, min_size=10, max_size=10))
def test_widgets_show_any_text_literally_and_keep_running(drawn: list[str]) -> None:
    texts = ["".join(FRAGMENTS), *drawn]  # every hostile piece, every time

    async def drive() -> list[str]:
        app = Surfaces()
        shown = []
        async with app.run_test(notifications=True) as pilot:
            table = app.query_one(DataTable)
            table.add_column("reason")
            for text in texts:
                line = clean_line(text)
                app.query_one(Static).update(plain(line))
                table.add_row(cell(line))
                app.notify(text, title=text)
                await pilot.pause()
                rendered = app.query_one(Static).render()
                shown.append(rendered.plain if isinstance(rendered, Content) else str(rendered))
            assert app.is_running
            cells = [table.get_row_at(r)[0] for r in range(table.row_count)]
            assert all(isinstance(c, Text) for c in cells)
        return shown

    shown = asyncio.run(drive())
    assert shown == [clean_line(t) for t in texts]
