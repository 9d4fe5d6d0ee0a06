"""Today's sales in the control room: snapshots (80×24, 120×40, both languages) and key flows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Button, Checkbox, Input, Select, Static

from liveguard.adapters.state_home import StateHome
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.timekeeping import FixedClock
from liveguard.ui.regions.sales import SalesRegion, sparkline
from liveguard.ui.screens.import_file import ImportScreen
from liveguard.ui.screens.sale_entry import SaleEntryScreen
from tests.conftest import make_app
from tests.fixtures_sales import Sample, write_shopee_xlsx

SIZES = [(80, 24), (120, 40)]


def seeded_app(home: StateHome, clock: FixedClock, lang: str = "en"):  # type: ignore[no-untyped-def]
    """The starter shop at 21.00 WIB with a believable day and yesterday behind it."""
    app = make_app(home, clock, lang)
    now = clock.now()
    orders = []
    plan = {"tiktok": (9, 180_000), "shopee": (6, 95_000), "instagram": (2, 60_000)}
    for channel, (count, amount) in plan.items():
        for n in range(count):
            orders.append(
                Order(
                    channel,
                    f"{channel}-t{n}",
                    now - timedelta(minutes=37 * n + 3),
                    amount + 5_000 * n,
                )
            )
            orders.append(
                Order(
                    channel, f"{channel}-y{n}", now - timedelta(days=1, minutes=45 * n + 10), amount
                )
            )
    orders.append(
        Order("shopee", "shopee-c1", now - timedelta(minutes=90), 50_000, OrderStatus.CANCELLED)
    )
    orders.append(Order("tokopedia", "tokopedia-y1", now - timedelta(days=1, hours=2), 40_000))
    app.room.sales.orders.upsert_many(orders)
    return app


def region_text(app) -> str:  # type: ignore[no-untyped-def]
    body = app.query_one("#sales-body", Static)
    return "\n".join(body.render_line(y).text for y in range(body.size.height))


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_sales_region_snapshot(
    snap_compare, home: StateHome, clock: FixedClock, lang: str, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(seeded_app(home, clock, lang), terminal_size=size)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_sale_entry_snapshot(snap_compare, home: StateHome, clock: FixedClock, lang: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        seeded_app(home, clock, lang), terminal_size=(80, 24), press=["s", *"125rb"]
    )


def test_import_preview_snapshot(
    snap_compare, home: StateHome, clock: FixedClock, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # a relative path keeps the snapshot free of tmp names
    write_shopee_xlsx(
        tmp_path / "shopee.xlsx",
        [
            Sample("A1", "28/11/2026 19.30", "1.250.000", "Selesai", lines=2),
            Sample("A2", "28/11/2026 19.40", "abc", "Selesai"),
        ],
    )

    async def preview(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("i")
        await pilot.press(*"shopee.xlsx", "enter")
        await pilot.app.workers.wait_for_complete()
        # a blinking cursor would make the picture depend on when it is taken
        pilot.app.screen.query_one("#import-path").cursor_blink = False
        await pilot.pause()

    assert snap_compare(seeded_app(home, clock, "en"), terminal_size=(120, 40), run_before=preview)


def test_sparkline_scales_and_leaves_the_future_blank() -> None:
    hours = (0,) * 8 + (1, 2, 4, 8) + (0,) * 12
    assert sparkline(hours, upto=13) == "········▁▂▄█·" + " " * 11
    assert sparkline(hours, per_char=2, upto=24) == "····▂█······"


async def test_region_shows_every_channel_total_and_comparison(
    home: StateHome, clock: FixedClock
) -> None:
    app = seeded_app(home, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = region_text(app)
        assert "TikTok Shop" in text and "Tokopedia" in text and "Total" in text
        assert "Rp1.8M" in text  # TikTok: 9 orders from 180,000 up by 5,000 each
        assert "1 cancelled/returned" in text
        assert "-100%" in text  # Tokopedia sold yesterday before 21.00, nothing today


async def test_sale_entry_records_and_the_region_updates(
    home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        assert isinstance(app.screen, SaleEntryScreen)
        await pilot.press(*"1,2jt", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, SaleEntryScreen)
        assert "Rp1.2M" in region_text(app)
        row = app.room.sales.today().channel("tiktok")
        assert row is not None and row.revenue == 1_200_000


async def test_sale_entry_starts_on_the_channel_of_the_last_sale(
    home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock)
    app.room.sales.add_sale("Instagram", "60rb")  # by name, in any case
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        assert app.screen.query_one("#sale-channel", Select).value == "instagram"
        await pilot.press(*"125rb", "tab", "tab", *"20.41", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, SaleEntryScreen)
    row = app.room.sales.today().channel("instagram")
    assert row is not None and (row.orders, row.revenue) == (2, 185_000)


async def test_sale_entry_refuses_a_bad_amount_and_esc_cancels(
    home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s", *"banyak", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SaleEntryScreen)
        error = app.screen.query_one("#sale-error", Static)
        assert "not a number" in str(error.render())
        await pilot.press("escape")
        assert not isinstance(app.screen, SaleEntryScreen)
    assert app.room.sales.orders.days() == []


async def test_import_previews_then_confirms(
    home: StateHome, clock: FixedClock, tmp_path: Path
) -> None:
    good = Sample("B1", "28/11/2026 19.30", "250.000", "Selesai", lines=2)
    path = write_shopee_xlsx(
        tmp_path / "shopee.xlsx", [good, Sample("B2", "28/11/2026 19.40", "abc", "Selesai")]
    )
    app = make_app(home, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        screen.query_one("#import-path", Input).value = str(path)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        preview = str(screen.query_one("#import-preview", Static).render())
        assert "row 4: Total Pembayaran: not a number: 'abc'" in preview
        confirm = screen.query_one("#import-confirm", Button)
        assert confirm.disabled  # all or nothing until the seller chooses to skip
        assert app.room.sales.orders.days() == []
        screen.query_one("#import-skip", Checkbox).value = True
        await pilot.pause()
        assert not confirm.disabled
        await pilot.click("#import-confirm")
        await app.workers.wait_for_complete()  # the save runs in a worker thread
        await pilot.pause()
        assert not isinstance(app.screen, ImportScreen)
    row = app.room.sales.today().channel("shopee")
    assert row is not None and (row.orders, row.revenue) == (1, 250_000)


async def test_import_of_a_missing_file_says_so(
    home: StateHome, clock: FixedClock, tmp_path: Path
) -> None:
    app = make_app(home, clock, "id")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("i")
        app.screen.query_one("#import-path", Input).value = str(tmp_path / "hilang.xlsx")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = str(app.screen.query_one("#import-preview", Static).render())
        assert text.startswith("Tidak bisa impor") and "hilang.xlsx" in text


async def test_sales_arriving_from_elsewhere_redraw_the_region(
    home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Rp375K" not in region_text(app)
        app.room.sales.add_sale("shopee", "375.000")  # as a feed poll or a CLI import would
        await pilot.pause()
        assert "Rp375K" in region_text(app)
        assert isinstance(app.query_one(SalesRegion), SalesRegion)


async def test_a_stale_feed_is_shown_with_its_reason_and_keeps_the_numbers(
    home: StateHome, clock: FixedClock
) -> None:
    from dataclasses import replace

    from liveguard.core.config import OrderSource
    from tests.conftest import starter_config
    from tests.servers import closed_port

    source = OrderSource("http-json", "shopee", f"http://127.0.0.1:{closed_port()}/orders")
    app = make_app(home, clock, config=replace(starter_config(), sources=(source,)))
    app.room.sales.add_sale("shopee", "80.000")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        view = await app.room.sales.poll_source(0)
        await pilot.pause()
        assert view.state == "stale"
        text = " ".join(region_text(app).split())  # the reason may wrap anywhere
        assert "Shopee order feed stale: cannot fetch" in text and "(last good never)" in text
        assert "Rp80K" in text
