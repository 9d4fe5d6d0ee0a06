"""The pure status model: expectations, hysteresis, declarations, outages, uptime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveguard.core.config import Alerts, Channel, Check
from liveguard.core.expectations import Observed, evaluate, parse_expectation
from liveguard.core.status import (
    Beat,
    CheckTrack,
    Declaration,
    Outage,
    ProbeResult,
    Source,
    State,
    StatusBook,
    uptime_on,
)

T0 = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # 20.00 WIB
JAKARTA = ZoneInfo("Asia/Jakarta")
HTTP = Check("http", url="http://127.0.0.1/x")


def book(fails: int = 3, ups: int = 2, checks: int = 1) -> StatusBook:
    channels = [Channel("tiktok", "TikTok Shop", True, (HTTP,) * checks), Channel("wa", "WhatsApp")]
    return StatusBook(channels, Alerts(fails, ups))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def result(state: State, minute: float, reason: str = "") -> ProbeResult:
    return ProbeResult(state, reason or state.value, at(minute), 42)


# -- expectations ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "seen", "why"),
    [
        ("status == 200", Observed(True, 503, 5, ""), "status 503 (expected 200)"),
        ("status < 400", Observed(True, 302, 5, ""), None),
        ("body.live.enabled == true", Observed(True, 200, 5, '{"live":{"enabled":false}}'),
         "body.live.enabled is false (expected true)"),
        ("body.live.enabled == true", Observed(True, 200, 5, "<html>"), "not JSON"),
        ("body.live.enabled == true", Observed(True, 200, 5, '{"live":{}}'),
         "body.live.enabled is missing (expected true)"),
        ("body.items[1].ok == true", Observed(True, 200, 5, '{"items":[{},{"ok":true}]}'), None),
        ("body.count >= 3", Observed(True, 200, 5, '{"count":"many"}'),
         'body.count is "many" (expected >= 3)'),
        ("body.flag == 1", Observed(True, 200, 5, '{"flag":true}'), "body.flag is true (expected 1)"),
        ("body contains LIVE", Observed(True, 200, 5, "we are LIVE"), None),
        ("body contains LIVE", Observed(True, 200, 5, "off"), 'body does not contain "LIVE"'),
        ("body.tags contains live", Observed(True, 200, 5, '{"tags":["live","shop"]}'), None),
        ("response_time < 3000", Observed(True, 200, 3400, ""),
         "response time 3400 ms (expected < 3000)"),
        ("connected == true", Observed(False), "not connected (expected connected true)"),
        ("status != 503", Observed(True, 503, 1, ""), "status 503 (expected != 503)"),
    ],
)  # fmt: skip
def test_evaluate_gives_a_specific_reason(rule: str, seen: Observed, why: str | None) -> None:
    assert evaluate(parse_expectation(rule), seen) == why


# -- hysteresis --------------------------------------------------------------------------
def test_pending_then_down_after_n_failures_then_up_after_m_successes() -> None:
    b = book(fails=3, ups=2)
    seen = []
    for minute, outcome in enumerate(
        [State.UP, State.DOWN, State.DOWN, State.DOWN, State.DOWN, State.UP, State.UP]
    ):
        b.record(
            "tiktok",
            0,
            result(outcome, minute, "status 503 (expected 200)" if outcome is State.DOWN else ""),
        )
        seen.append(b.status("tiktok").state)
    assert seen == [
        State.UP,
        State.PENDING,
        State.PENDING,
        State.DOWN,
        State.DOWN,
        State.DOWN,
        State.UP,
    ]
    status = b.status("tiktok")
    assert status.source is Source.PROBE


def test_down_since_is_the_first_failure_and_outage_spans_the_failures() -> None:
    b = book(fails=2, ups=1)
    b.record("tiktok", 0, result(State.UP, 0))
    b.record("tiktok", 0, result(State.DOWN, 1, "timed out after 10 s"))
    change = b.record("tiktok", 0, result(State.DOWN, 2, "timed out after 10 s"))
    assert change is not None and change.opened is not None
    assert change.opened.start == at(1)
    assert b.status("tiktok").since == at(1)
    assert b.status("tiktok").reason == "timed out after 10 s"
    change = b.record("tiktok", 0, result(State.UP, 5))
    assert change is not None and change.closed is not None
    assert change.closed.duration(at(9)) == timedelta(minutes=4)
    assert change.closed.reason == "timed out after 10 s"


def test_a_single_failure_that_recovers_never_opens_an_outage() -> None:
    b = book(fails=3)
    b.record("tiktok", 0, result(State.UP, 0))
    change = b.record("tiktok", 0, result(State.DOWN, 1))
    assert change is not None and change.after.state is State.PENDING and change.opened is None
    change = b.record("tiktok", 0, result(State.UP, 2))
    assert change is not None and change.after.state is State.UP and change.closed is None
    assert b.open_outage("tiktok") is None


def test_unknown_counts_neither_way_and_does_not_end_an_outage() -> None:
    b = book(fails=2, ups=2)
    b.record("tiktok", 0, result(State.DOWN, 0))
    b.record("tiktok", 0, result(State.UNKNOWN, 1, "liveguard is busy"))
    assert b.status("tiktok").state is State.UNKNOWN
    b.record("tiktok", 0, result(State.DOWN, 2))
    assert b.status("tiktok").state is State.DOWN
    b.record("tiktok", 0, result(State.UNKNOWN, 3, "DNS is not working on this machine"))
    assert b.status("tiktok").state is State.DOWN
    assert b.open_outage("tiktok") is not None


def test_fresh_channel_with_no_answer_is_unknown_with_no_source() -> None:
    status = book().status("wa")
    assert (status.state, status.source, status.since) == (State.UNKNOWN, Source.NONE, None)


def test_slow_passing_check_is_degraded_and_back_to_up() -> None:
    b = book()
    b.record("tiktok", 0, result(State.UP, 0))
    b.record("tiktok", 0, result(State.DEGRADED, 1, "response time 3400 ms (expected < 3000)"))
    assert b.status("tiktok").state is State.DEGRADED
    assert b.status("tiktok").since == at(1)
    b.record("tiktok", 0, result(State.UP, 2))
    assert b.status("tiktok").state is State.UP


def test_the_failing_check_speaks_for_a_channel_with_several() -> None:
    b = book(fails=1, checks=2)
    b.record("tiktok", 0, result(State.UP, 0))
    b.record("tiktok", 1, result(State.DOWN, 0, "connection refused"))
    assert (b.status("tiktok").state, b.status("tiktok").reason) == (
        State.DOWN,
        "connection refused",
    )


def test_feed_results_skip_the_counting_and_keep_the_feeds_since() -> None:
    b = book(fails=3)
    since = at(-30)
    b.record(
        "tiktok", 0, ProbeResult(State.DOWN, "LIVE suspended", at(0), since=since, settled=True)
    )
    status = b.status("tiktok")
    assert (status.state, status.since, status.reason) == (State.DOWN, since, "LIVE suspended")


# -- declarations ------------------------------------------------------------------------
def test_declaration_overrides_probes_until_cleared() -> None:
    b = book(fails=1)
    b.record("tiktok", 0, result(State.UP, 0))
    decl = Declaration(State.DOWN, "ani", at(1), "LIVE button fails")
    change = b.declare("tiktok", decl, at(1))
    assert (
        change is not None and change.opened is not None and change.opened.source is Source.DECLARED
    )
    b.record("tiktok", 0, result(State.UP, 2))
    status = b.status("tiktok")
    assert (status.state, status.source, status.reason, status.since) == (
        State.DOWN, Source.DECLARED, "LIVE button fails", at(1),
    )  # fmt: skip
    assert status.declaration is not None and status.declaration.who == "ani"
    change = b.declare("tiktok", None, at(5))
    assert change is not None and change.closed is not None
    assert change.closed.end == at(5)
    assert (b.status("tiktok").state, b.status("tiktok").source) == (State.UP, Source.PROBE)


def test_inference_only_suggests_and_never_says_down() -> None:
    b = book()
    b.infer("tiktok", State.DOWN, "2 orders in the last hour (usually 14)", at(0))
    status = b.status("tiktok")
    assert (status.state, status.source) == (State.UNKNOWN, Source.INFERRED)
    assert status.suggestion == "2 orders in the last hour (usually 14)"
    b.record("tiktok", 0, result(State.UP, 1))
    assert b.status("tiktok").source is Source.PROBE
    assert b.status("tiktok").suggestion  # still shown next to the probe's word


# -- what is stored ----------------------------------------------------------------------
def test_status_records_are_stored_as_plain_documents_and_read_back_whole() -> None:
    wib = at(5).astimezone(JAKARTA)  # stored in UTC whatever zone it came in
    track = CheckTrack(State.PENDING, State.UP, wib, "status 503", 120, 2, 0, at(4), True)
    assert track.to_doc() == {
        "state": "pending", "settled": "up", "since": "2026-11-28T13:05:00+00:00",
        "reason": "status 503", "latency_ms": 120, "failures": 2, "successes": 0,
        "run_start": "2026-11-28T13:04:00+00:00", "answered": True,
    }  # fmt: skip
    assert CheckTrack.from_doc(track.to_doc()) == track
    assert CheckTrack.from_doc({"state": "up", "settled": "up"}) == CheckTrack(State.UP, State.UP)
    declared = Declaration(State.DOWN, "ani", wib, "LIVE button fails")
    assert declared.to_doc() == {
        "state": "down", "who": "ani", "at": "2026-11-28T13:05:00+00:00",
        "reason": "LIVE button fails",
    }  # fmt: skip
    assert Declaration.from_doc(declared.to_doc()) == declared
    assert Declaration.from_doc({"state": "up", "who": "ani", "at": wib.isoformat()}).reason == ""
    closed = Outage("tiktok", wib, at(17), Source.PROBE, "timed out")
    assert closed.to_doc() == {
        "channel": "tiktok", "start": "2026-11-28T13:05:00+00:00",
        "end": "2026-11-28T13:17:00+00:00", "source": "probe", "reason": "timed out",
        "duration_s": 720,
    }  # fmt: skip
    assert Outage.from_doc(closed.to_doc()) == closed
    still_open = Outage("tiktok", wib, None, Source.DECLARED, "")
    assert "duration_s" not in still_open.to_doc() and still_open.to_doc()["end"] is None
    assert Outage.from_doc(still_open.to_doc()) == still_open
    beat = Beat(wib, State.DEGRADED, 3100)
    assert beat.to_doc() == ["2026-11-28T13:05:00+00:00", "degraded", 3100]
    assert Beat.from_doc(beat.to_doc()) == beat


# -- uptime ------------------------------------------------------------------------------
def test_uptime_today_counts_only_todays_part_of_outages() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=JAKARTA)  # 12 h into the local day
    outages = [
        Outage("tiktok", now - timedelta(hours=14), now - timedelta(hours=11), Source.PROBE, "x"),
        Outage("tiktok", now - timedelta(hours=1), None, Source.DECLARED, "y"),  # still open
    ]
    assert uptime_on(outages, now.date(), JAKARTA, now) == pytest.approx(1 - 2 / 12)
    assert uptime_on([], now.date(), JAKARTA, now) == 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([State.UP, State.DOWN, State.DEGRADED, State.UNKNOWN]), max_size=40),
       st.integers(1, 4), st.integers(1, 4))  # fmt: skip
def test_down_only_after_enough_failures_in_a_row(
    outcomes: list[State], fails: int, ups: int
) -> None:
    b = book(fails=fails, ups=ups)
    run = 0
    was_down = False
    for i, outcome in enumerate(outcomes):
        b.record("tiktok", 0, result(outcome, i))
        if outcome is State.DOWN:
            run += 1
        elif outcome is not State.UNKNOWN:
            run = 0
        state = b.status("tiktok").state
        if state is State.DOWN and not was_down:
            assert run >= fails
        was_down = state is State.DOWN or (was_down and outcome is State.UNKNOWN)
        # an outage is open exactly while the channel shows DOWN
        assert (b.open_outage("tiktok") is not None) == (state is State.DOWN)
