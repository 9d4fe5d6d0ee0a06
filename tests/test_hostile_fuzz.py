"""Hypothesis against the bounds: arbitrary remote times, compressed streams, feed replies
and stored records never raise anything but their one readable error, and never yield
more than their bound. 300 cases per property (Hypothesis' own count, deterministic seed
per run of the database-less profile)."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveguard.adapters.http_pool import _Inflater
from liveguard.adapters.order_feed import FeedError, parse_feed
from liveguard.adapters.probes import _feed_since
from liveguard.core.bounds import STORED_ITEMS_MAX, STORED_TEXT_MAX, bounded_value
from liveguard.core.config import OrderSource
from liveguard.core.parsing import EARLIEST, LATEST, DateError, parse_datetime
from liveguard.core.timekeeping import load_zone

CASES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZONE = load_zone("Asia/Jakarta")
NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=10), inner, max_size=6)
    ),
    max_leaves=40,
)
remote_times = (
    st.text(max_size=40)
    | st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat())
    | st.from_regex(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}", fullmatch=True)
    | st.integers()
    | st.floats()
)


@CASES
@given(remote_times)
def test_a_remote_time_is_sane_or_a_date_error(value: object) -> None:
    try:
        at = parse_datetime(value, ZONE)
    except DateError:
        return
    assert EARLIEST <= at < LATEST and at.tzinfo is not None


@CASES
@given(remote_times)
def test_a_status_feed_since_is_sane_or_dropped(value: object) -> None:
    since, readable = _feed_since(value, NOW)
    assert since is None or (EARLIEST <= since <= NOW.replace(minute=5))
    assert readable or since is None


@CASES
@given(
    st.sampled_from(["", "gzip", "deflate", "identity", "br", "gzip, gzip", "x-gzip"]),
    st.binary(max_size=3000) | st.integers(0, 400_000).map(lambda n: zlib.compress(b"a" * n)),
    st.integers(1, 50_000),
)
def test_inflating_never_yields_past_the_room_left(encoding: str, data: bytes, room: int) -> None:
    try:
        inflate = _Inflater.for_encoding(encoding)
        out = b""
        for start in range(0, len(data), 700):
            out += inflate.feed(data[start : start + 700], room - len(out))
            if len(out) >= room:
                break
    except httpx.DecodingError:
        return
    assert len(out) <= room


@CASES
@given(json_values)
def test_an_order_feed_reply_is_orders_or_one_feed_error(reply: object) -> None:
    source = OrderSource("http-json", "shopee", "http://127.0.0.1:1/")
    try:
        orders = parse_feed(json.dumps(reply).encode(), source, ZONE)
    except FeedError as exc:
        assert len(str(exc)) <= 200 and "\n" not in str(exc)
        return
    assert all(EARLIEST <= o.created < LATEST for o in orders)


@CASES
@given(json_values, st.integers(0, 3_000_000))
def test_a_stored_record_is_bounded(value: object, pad: int) -> None:
    stored = bounded_value({"detail": value, "error": "x" * pad, "many": list(range(pad % 500))})
    text = json.dumps(stored)
    assert len(stored["error"]) <= STORED_TEXT_MAX
    assert len(stored["many"]) <= STORED_ITEMS_MAX
    assert len(text) < 4 * STORED_TEXT_MAX + 200 + len(json.dumps(bounded_value(value)))


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_bomb_fed_in_network_chunks_stops_at_the_room(coding: str) -> None:
    wbits = zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    bomb = packer.compress(b"\0" * 50_000_000) + packer.flush()
    inflate = _Inflater.for_encoding(coding)
    out = b""
    for start in range(0, len(bomb), 65536):
        out += inflate.feed(bomb[start : start + 65536], 1_000_001 - len(out))
        if len(out) > 1_000_000:
            break
    assert len(out) == 1_000_001
