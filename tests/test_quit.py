"""Quitting is always clean: the real control room on the demo's loopback world (probes,
order feeds and Plan B busy) quits at a random moment, again and again, and never raises.

Each round is a fresh home and a fresh app in this process (headless); the random moments
are seeded, so a failure names a round that can be replayed. ``--big`` runs more rounds.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from liveguard.adapters.config_file import load_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import SystemClock
from liveguard.demo import DemoWorld
from liveguard.service.room import ControlRoom
from liveguard.ui.app import LiveguardApp

ROUNDS = 50
BIG_ROUNDS = 300
SPEED = 60.0  # the demo's pacing: probes and feeds every few hundred milliseconds
LATEST_QUIT_S = 0.6


@pytest.fixture(scope="module")
def world() -> Iterator[DemoWorld]:
    with DemoWorld(speed=SPEED) as w:
        yield w


async def test_quitting_at_any_moment_never_raises(
    world: DemoWorld, tmp_path: Path, big: bool
) -> None:
    rounds = BIG_ROUNDS if big else ROUNDS
    for n in range(rounds):
        moment = random.Random(n)
        home_dir = tmp_path / f"home-{n}"
        config = load_config(world.write_config(home_dir / "liveguard.toml"), environ={})
        home = StateHome(Paths.resolve(home=str(home_dir)), SystemClock()).open()
        room = ControlRoom(config, home, SystemClock(), "en")
        room.planb.opener = None  # the link action must not open a browser
        app = LiveguardApp(room, animations=False)
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause(moment.uniform(0, LATEST_QUIT_S / 2))
                if moment.random() < 0.5:  # Plan B busy too: a countdown, then webhooks
                    await app.run_action("planb")  # the key's action, without the pilot's wait
                await pilot.pause(moment.uniform(0, LATEST_QUIT_S / 2))
                await pilot.press("q")
        except Exception as exc:
            raise AssertionError(f"round {n}: quitting raised {exc!r}") from exc
        finally:
            home.close()
        assert app.return_code == 0, f"round {n}: exit {app.return_code}"


async def test_news_landing_while_the_widgets_are_taken_down_is_dropped(
    world: DemoWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's old crash, made certain: a feed poll (and every other kind of news) lands
    after Textual has begun removing the regions and before the room is stopped."""
    from liveguard.core.status import Change
    from liveguard.service.events import Notice, PlanBChanged, SalesChanged, StatusChanged
    from liveguard.ui.regions.sales import SalesRegion

    config = load_config(world.write_config(tmp_path / "liveguard.toml"), environ={})
    home = StateHome(Paths.resolve(home=str(tmp_path)), SystemClock()).open()
    room = ControlRoom(config, home, SystemClock(), "en")
    status = room.status.statuses()[0]
    news = [
        SalesChanged("tiktok"),
        PlanBChanged(),
        Notice("late"),
        StatusChanged(Change(status, status)),
    ]
    landed: list[object] = []

    def poll_lands(region: SalesRegion) -> None:
        for event in news:
            room.events.publish(event)
        landed.append(region)

    monkeypatch.setattr(SalesRegion, "on_unmount", poll_lands, raising=False)
    app = LiveguardApp(room, animations=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("q")
    finally:
        home.close()
    assert landed and app.return_code == 0


def demo_in_a_terminal(quit_after_s: float) -> tuple[int, str]:
    """``liveguard demo`` in a pseudo-terminal, as a seller runs it; ``q`` after a while."""
    import os
    import pty
    import select
    import sys
    import time

    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    env.pop("LIVEGUARD_HOME", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real command
        os.execve(sys.executable, [sys.executable, "-m", "liveguard", "demo"], env)
    screen = b""
    started = time.monotonic()
    sent = False
    while time.monotonic() - started < quit_after_s + 60:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal: it has exited
                break
            if not data:
                break
            screen += data
        if not sent and time.monotonic() - started > quit_after_s:
            os.write(fd, b"q")
            sent = True
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), screen.decode(errors="replace")


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs a POSIX terminal")
def test_the_demo_command_quits_with_exit_0(big: bool) -> None:
    for n in range(50 if big else 3):
        moment = random.Random(1000 + n).uniform(1.0, 5.0)
        code, screen = demo_in_a_terminal(moment)
        assert code == 0, f"quit after {moment:.1f} s: exit {code}\n{screen[-600:]}"
        assert "unexpected error" not in screen and "Traceback" not in screen
