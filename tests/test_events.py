"""The one event path: publisher delivery, thread hand-off, subscriber faults, supervision."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from liveguard.service.events import Notice, Publisher, SalesChanged, supervise


def test_every_subscriber_gets_the_event_and_unsubscribe_stops_it() -> None:
    pub = Publisher()
    seen: list[object] = []
    other: list[object] = []
    stop = pub.subscribe(seen.append)
    pub.subscribe(other.append)
    pub.publish(SalesChanged("shopee"))
    stop()
    pub.publish(SalesChanged("tiktok"))
    assert seen == [SalesChanged("shopee")]
    assert other == [SalesChanged("shopee"), SalesChanged("tiktok")]


def test_a_failing_subscriber_never_reaches_the_publisher_and_is_told_once() -> None:
    pub = Publisher()
    seen: list[object] = []

    def broken(event: object) -> None:
        if isinstance(event, SalesChanged):
            raise RuntimeError("redraw failed")

    pub.subscribe(broken)
    pub.subscribe(seen.append)
    pub.publish(SalesChanged())
    pub.publish(SalesChanged())
    notices = [e for e in seen if isinstance(e, Notice)]
    assert len(notices) == 1
    assert "RuntimeError" in notices[0].text
    assert seen.count(SalesChanged()) == 2


async def test_events_from_another_thread_are_delivered_on_the_loop_thread() -> None:
    pub = Publisher()
    pub.bind()
    got = asyncio.get_running_loop().create_future()
    pub.subscribe(lambda e: got.set_result(threading.get_ident()))
    worker = threading.Thread(target=pub.publish, args=(SalesChanged(),))
    worker.start()
    worker.join()
    assert await asyncio.wait_for(got, 5) == threading.get_ident()


async def test_supervise_reports_a_failure_once_and_keeps_the_loop_going() -> None:
    pub = Publisher()
    notices: list[object] = []
    pub.subscribe(notices.append)
    rounds: list[int] = []
    pauses: list[float] = []
    finished = asyncio.Event()

    async def body() -> None:
        rounds.append(len(rounds))
        if len(rounds) in (2, 3):
            raise OSError("disk full")
        if len(rounds) == 5:
            finished.set()
            await asyncio.Event().wait()  # stay in round 5 until cancelled

    async def fake_sleep(seconds: float) -> None:
        pauses.append(seconds)
        await asyncio.sleep(0)

    task = asyncio.create_task(supervise("feed", body, pub, every=7.0, sleep=fake_sleep))
    await asyncio.wait_for(finished.wait(), 5)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(rounds) == 5
    assert [n.text for n in notices if isinstance(n, Notice)] == ["disk full"]
    assert pauses[:4] == [7.0, 1.0, 2.0, 7.0]
    assert task.cancelled()


async def test_supervise_ends_between_rounds_once_stop_is_set() -> None:
    pub = Publisher()
    stop = asyncio.Event()
    rounds: list[int] = []

    async def body() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 3:
            stop.set()  # the round under way still finishes

    await asyncio.wait_for(supervise("plan b", body, pub, every=0, stop=stop), 5)
    assert rounds == [0, 1, 2]


async def test_notices_from_before_the_room_starts_reach_every_later_subscriber() -> None:
    pub = Publisher()
    phone: list[object] = []
    pub.subscribe(phone.append)  # a subscriber from the start (the phone notifier)
    pub.publish(SalesChanged())  # nothing to redraw yet: not kept
    pub.notice("state/status.json: moved aside")
    screen: list[object] = []
    pub.subscribe(screen.append)  # the screen, once it is mounted
    assert [type(e).__name__ for e in phone] == ["SalesChanged", "Notice"]
    assert [type(e).__name__ for e in screen] == ["Notice"]
    pub.bind()  # the room started: news from now on is only for those listening
    pub.notice("disk full")
    late: list[object] = []
    pub.subscribe(late.append)
    assert [e.text for e in late if isinstance(e, Notice)] == ["state/status.json: moved aside"]
