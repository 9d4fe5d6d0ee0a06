"""Path completion in the import screen, on real files."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import FixedClock
from liveguard.ui.path_suggester import PathSuggester
from liveguard.ui.screens.import_file import ImportScreen
from tests.conftest import make_app


async def test_completes_folders_and_importable_files(tmp_path: Path) -> None:
    (tmp_path / "Downloads").mkdir()
    (tmp_path / "Downloads" / "Order.all.20261128.xlsx").write_bytes(b"")
    (tmp_path / "Downloads" / "notes.pdf").write_bytes(b"")
    (tmp_path / ".hidden").mkdir()
    s = PathSuggester()
    base = f"{tmp_path}/"
    assert await s.get_suggestion(base + "Dow") == base + "Downloads/"
    assert (
        await s.get_suggestion(base + "Downloads/Or") == base + "Downloads/Order.all.20261128.xlsx"
    )
    assert await s.get_suggestion(base + "Downloads/no") is None  # not importable
    assert await s.get_suggestion(base + ".h") == base + ".hidden/"
    assert await s.get_suggestion(base + "missing/x") is None
    assert await s.get_suggestion("") is None


async def test_right_arrow_accepts_the_completion(
    home: StateHome, clock: FixedClock, tmp_path: Path
) -> None:
    (tmp_path / "shopee-orders.xlsx").write_bytes(b"")
    app = make_app(home, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        box = app.screen.query_one("#import-path", Input)
        box.value = f"{tmp_path}/sho"
        box.cursor_position = len(box.value)
        await pilot.pause()
        await pilot.pause()
        await pilot.press("right")
        assert box.value == f"{tmp_path}/shopee-orders.xlsx"
