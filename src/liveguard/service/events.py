"""The one path from background work to whoever shows it: typed events through one publisher.

Services publish; the control room (as Textual messages), the notifier (phone messages) and
tests subscribe. A subscriber that raises is reported once as a notice and never reaches the
publishing loop, so a broken redraw cannot stop probes, feeds or Plan B.

Events may be published from any thread: off the event loop they are handed to the loop the
publisher was bound to (``bind``), so subscribers always run on that loop's thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from liveguard.core.status import Change

__all__ = [
    "Event",
    "Notice",
    "PlanBChanged",
    "Publisher",
    "SalesChanged",
    "SourceChanged",
    "StatusChanged",
    "Subscriber",
    "supervise",
]

log = logging.getLogger("liveguard")

Severity = Literal["information", "warning", "error"]


@dataclass(frozen=True)
class StatusChanged:
    """A channel's status changed (probe, declaration, inference); ``change`` says how."""

    change: Change


@dataclass(frozen=True)
class SalesChanged:
    """Orders were stored, a feed was polled or the day turned; ``channel`` when known."""

    channel: str | None = None


@dataclass(frozen=True)
class SourceChanged:
    """An order source turned fresh or stale (``reason`` says why it is stale)."""

    source: str
    channel: str
    state: Literal["fresh", "stale"]
    reason: str = ""


@dataclass(frozen=True)
class PlanBChanged:
    """The Plan B switch, its outbox or its checklist changed.

    ``kind`` names what happened, for those who tell the seller (e.g. ``"transition"``,
    ``"attempt"``, ``"tick"``); ``detail`` is the audit record's detail when there is one.
    """

    kind: str = "changed"
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    """A one-line message for the seller, shown when it happens (a full disk, a file moved
    aside, a failed background round). ``key`` folds repeats of the same notice together."""

    text: str
    severity: Severity = "warning"
    key: str = ""
    at: datetime | None = None


Event = StatusChanged | SalesChanged | SourceChanged | PlanBChanged | Notice
Subscriber = Callable[[Event], None]


KEEP_EARLY = 20  # notices kept from before the room started (the screen is still being built)


class Publisher:
    """Hands every event to every subscriber, on the event loop it is bound to.

    Notices published before ``bind`` (the room starting: e.g. a file moved aside while the
    control room draws its first frame) are kept, a few, and handed to each subscriber that
    joins later too, so the screen, which subscribes when it is mounted, still shows them.
    """

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._failed: set[tuple[int, str]] = set()
        self._early: deque[Notice] = deque(maxlen=KEEP_EARLY)

    def bind(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Deliver on ``loop`` (default: the running loop) from now on."""
        self._loop = loop or asyncio.get_running_loop()
        self._thread = threading.get_ident()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns the function that removes it again."""
        self._subscribers.append(subscriber)
        for notice in list(self._early):
            self._hand(subscriber, notice)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        loop = self._loop
        if loop is not None and threading.get_ident() != self._thread:
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._deliver, event)
            return
        self._deliver(event)

    def notice(self, text: str, severity: Severity = "warning", key: str = "") -> None:
        self.publish(Notice(text, severity, key or text))

    def _deliver(self, event: Event) -> None:
        if self._loop is None and isinstance(event, Notice):
            self._early.append(event)
        for subscriber in list(self._subscribers):
            self._hand(subscriber, event)

    def _hand(self, subscriber: Subscriber, event: Event) -> None:
        try:
            subscriber(event)
        except Exception as exc:  # a subscriber's bug must not reach the publisher
            log.exception("subscriber %r failed on %r", subscriber, type(event).__name__)
            mark = (id(subscriber), type(exc).__name__)
            if mark not in self._failed and not isinstance(event, Notice):
                self._failed.add(mark)
                self._deliver(Notice(f"could not show a change ({type(exc).__name__})"))


async def supervise(
    name: str,
    body: Callable[[], Awaitable[None]],
    publisher: Publisher,
    *,
    every: float,
    backoff: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0),
    describe: Callable[[BaseException], str] = str,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    stop: asyncio.Event | None = None,
) -> None:
    """Run ``body`` every ``every`` seconds until cancelled.

    An iteration that raises is logged, published once as a notice (again only after the
    loop has recovered and failed anew), and retried after a growing pause; only
    cancellation ends the loop, or ``stop`` once set (looked at between rounds, so a round
    that is under way finishes first).
    """
    failures = 0
    while stop is None or not stop.is_set():
        try:
            await body()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("%s: round failed", name)
            if failures == 0:
                publisher.publish(Notice(describe(exc), "error", key=f"loop:{name}"))
            failures += 1
            await sleep(backoff[min(failures - 1, len(backoff) - 1)])
            continue
        if failures:
            failures = 0
        await sleep(every)
