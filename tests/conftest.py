"""Shared test fixtures: a real state home in tmp_path, a fixed clock, a control room app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Config
from liveguard.core.timekeeping import FixedClock

# Saturday 28 November 2026, 21.00 WIB: the kind of evening liveguard is for.
EVENING = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--big",
        action="store_true",
        default=False,
        help="run crash loops and fuzzing at full size (slow)",
    )


@pytest.fixture
def big(request: pytest.FixtureRequest) -> bool:
    """True with --big: crash/fuzz tests scale their rounds up."""
    return bool(request.config.getoption("--big"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(EVENING)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths.resolve(home=str(tmp_path / "home"))


@pytest.fixture
def home(paths: Paths, clock: FixedClock) -> Iterator[StateHome]:
    state = StateHome(paths, clock).open()
    yield state
    state.close()


def starter_config() -> Config:
    from liveguard.cli.home_commands import starter_config_text

    return parse_config(starter_config_text(), "liveguard.toml", environ={})


def make_room(home: StateHome, clock: FixedClock, lang: str = "en", config: Config | None = None):  # type: ignore[no-untyped-def]
    from liveguard.service.room import ControlRoom

    # Readiness is checked only when a test asks: its network answers would race snapshots.
    return ControlRoom(config or starter_config(), home, clock, lang, readiness_every=None)


def make_app(home: StateHome, clock: FixedClock, lang: str = "en", config: Config | None = None):  # type: ignore[no-untyped-def]
    """The control room app, deterministic: fixed clock, pinned theme, no animations."""
    from liveguard.ui.app import LiveguardApp

    return LiveguardApp(make_room(home, clock, lang, config), animations=False)
