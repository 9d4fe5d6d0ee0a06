"""Hostile exports: zip bombs, shared-string bombs, forged dimensions and row numbers,
absurdly wide rows and XML entity bombs are refused (or read for what they really hold)
before they cost time or memory; an import that never ends stops on Esc in the room and on
Ctrl-C in the CLI, with nothing written, and quitting during it never hangs."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from liveguard.adapters.importers import WATCH_EVERY, ExportFileError
from liveguard.adapters.state_home import StateHome
from liveguard.core.bounds import ORDER_ID_MAX
from liveguard.core.timekeeping import FixedClock
from liveguard.service.sales import ImportCancelled
from liveguard.ui.screens.import_file import ImportScreen
from tests.cli_runner import ROOT
from tests.conftest import make_app, make_room
from tests.fixtures_sales import SHOPEE_HEADERS, TIKTOK_HEADERS, write_xlsx
from tests.hostile_files import HOSTILE_XLSX, good_rows

# No hostile file may make the reader walk more than this many rows (a hang guard that
# needs no clock: the reader asks ``cancelled()`` every WATCH_EVERY rows).
MAX_LOOKS = 1_100_000 // WATCH_EVERY


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {name: make(folder / f"{name}.xlsx") for name, (make, _) in HOSTILE_XLSX.items()}


@pytest.mark.parametrize("name", list(HOSTILE_XLSX))
def test_a_hostile_workbook_is_refused_or_read_for_what_it_holds(
    hostile: dict[str, Path], home: StateHome, clock: FixedClock, name: str
) -> None:
    sales = make_room(home, clock).sales
    looks: list[int] = []

    def cancelled() -> bool:
        looks.append(1)
        assert len(looks) < MAX_LOOKS, "the reader is walking rows the file does not hold"
        return False

    expected = HOSTILE_XLSX[name][1]
    if expected == "read":
        outcome = sales.import_file(hostile[name], channel="shopee", cancelled=cancelled)
        assert (outcome.results["added"], outcome.rows_read, outcome.rejected) == (3, 3, [])
        return
    with pytest.raises(ExportFileError) as refused:
        sales.import_file(hostile[name], channel="shopee", cancelled=cancelled)
    assert expected in str(refused.value) and "\n" not in str(refused.value)
    assert sales.orders.days() == []


def test_the_cli_refuses_a_zip_bomb_in_one_line(hostile: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "liveguard.toml").write_text('[[channels]]\nid = "shopee"\n')
    done = subprocess.run(
        [sys.executable, "-m", "liveguard", "--home", str(tmp_path), "import",
         str(hostile["zip-bomb"])],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "refused" in done.stderr


# -- an import that never ends ----------------------------------------------------------
PACE_AFTER_ROWS = 100_000


class EndlessExport:
    """A TikTok CSV export behind a named pipe that never ends: rows keep coming until the
    reader lets go of the pipe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self.rows_written = 0
        self.finished = threading.Event()  # the reader let go
        self._thread = threading.Thread(target=self._write, daemon=True)
        self._thread.start()

    def _write(self) -> None:
        row = "T{n},Completed,,,,,,,,150000,2026-11-28 20:00:00,,,,buyer,\n"
        try:
            with self.path.open("w", encoding="utf-8") as out:
                out.write(",".join(TIKTOK_HEADERS) + "\n")
                n = 0
                while True:
                    out.write(row.format(n=n) * 50)
                    n += 1
                    self.rows_written += 50
                    if self.rows_written > PACE_AFTER_ROWS:
                        # past the first rows, a trickle: the reader must never reach the
                        # export row limit (a refusal) before the test has pressed Esc
                        time.sleep(0.005)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
        finally:
            self.finished.set()

    def close(self) -> None:
        """Unblock a writer still waiting for a reader (a test that failed early)."""
        if not self.finished.is_set():
            with contextlib.suppress(OSError):
                os.close(os.open(self.path, os.O_RDONLY | os.O_NONBLOCK))
        self.finished.wait(30)


@pytest.fixture
def endless(tmp_path: Path) -> Iterator[EndlessExport]:
    export = EndlessExport(tmp_path / "endless.csv")
    yield export
    export.close()


def test_cancelling_while_reading_writes_nothing(
    endless: EndlessExport, home: StateHome, clock: FixedClock
) -> None:
    sales = make_room(home, clock).sales
    with pytest.raises(ImportCancelled):
        sales.import_file(
            endless.path, channel="tiktok", cancelled=lambda: endless.rows_written > 50_000
        )
    assert sales.orders.days() == []


async def start_reading(pilot: Pilot[None], path: Path) -> tuple[ImportScreen, Static]:
    """Open the import dialog on ``path`` and wait until it shows the reading's progress."""
    await pilot.press("i")
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    screen.query_one("#import-path", Input).value = str(path)
    await pilot.press("enter")
    preview = screen.query_one("#import-preview", Static)
    while "row" not in str(preview.render()):  # progress: the reading goes on
        await pilot.pause(0.05)
    return screen, preview


async def test_esc_stops_an_endless_import_in_the_room_with_nothing_written(
    endless: EndlessExport, home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen, preview = await start_reading(pilot, endless.path)
        assert app.is_running
        await pilot.press("escape")  # stops the reading, the dialog stays
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        assert str(preview.render()) == "Import of endless.csv stopped; nothing written."
        await pilot.press("escape")  # and now closes it
        assert not isinstance(app.screen, ImportScreen)
    assert endless.finished.wait(30)
    assert app.room.sales.orders.days() == []


async def test_quitting_during_an_endless_import_does_not_hang(
    endless: EndlessExport, home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_reading(pilot, endless.path)
        app.exit()
    # leaving run_test waited for the app, its workers and their threads
    assert endless.finished.wait(30)
    assert app.room.sales.orders.days() == []


def test_ctrl_c_stops_an_endless_cli_import_with_nothing_written(
    endless: EndlessExport, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "liveguard.toml").write_text('[[channels]]\nid = "tiktok"\n')
    child = subprocess.Popen(
        [sys.executable, "-m", "liveguard", "--home", str(home), "import", str(endless.path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    while endless.rows_written < 20_000 and child.poll() is None:
        threading.Event().wait(0.05)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert err == "import of endless.csv cancelled; nothing written\n" and out == ""
    assert list((home / "state" / "orders").glob("*.json")) == []


def test_an_export_cell_cannot_put_a_megabyte_order_id_in_the_day_file(
    home: StateHome, clock: FixedClock, tmp_path: Path
) -> None:
    rows = good_rows(2)
    rows[1][0] = "H" * 1_000_000
    path = write_xlsx(tmp_path / "long.xlsx", SHOPEE_HEADERS, rows)
    sales = make_room(home, clock).sales
    outcome = sales.import_file(path, channel="shopee", skip_bad_rows=True)
    assert [(e.row, e.text()) for e in outcome.rejected] == [
        (3, f"No. Pesanan: longer than {ORDER_ID_MAX} characters")
    ]
    assert outcome.results["added"] == 1
    assert all(f.stat().st_size < 2_000 for f in (home.dir / "orders").glob("*.json"))
