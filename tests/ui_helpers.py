"""Helpers for Pilot tests: the screen as plain text, and waiting on a condition (never a
fixed sleep) with a bounded deadline that fails with what was on screen."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

from rich.console import Console

DEADLINE_S = 45.0  # only guards against a hang; nothing here is a timing assertion


def screen_text(app: Any) -> str:
    """The screen as plain text (what export_screenshot draws, without the SVG)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


async def until(
    pilot: Any, what: str, condition: Callable[[], bool], deadline_s: float = DEADLINE_S
) -> None:
    """Let the app run until ``condition()`` holds; fail naming ``what`` after the deadline."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline_s
    while not condition():
        if loop.time() > give_up:
            raise AssertionError(f"never saw: {what}\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)


class OutageLooks:
    """Counts the Plan B loop's looks at the live outages (one per turn of the loop), so a
    test can wait for the loop to have run instead of sleeping. While ``held``, no look
    fires auto-activation: the test decides who is first, the seller or the timer."""

    def __init__(self, planb: Any, *, held: bool = False) -> None:
        self.count = 0
        self.held = held
        real = planb.consider_outage

        def consider(down: Any) -> Any:
            self.count += 1
            return None if self.held else real(down)

        planb.consider_outage = consider

    async def more(self, pilot: Any, turns: int = 2) -> None:
        """Wait until the loop has looked ``turns`` more times (a whole turn after now)."""
        target = self.count + turns
        await until(pilot, f"{turns} more turns of the Plan B loop", lambda: self.count >= target)
