"""Rupiah parsing and formatting; WIB/WITA/WIT times and day boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liveguard.core.money import AmountError, format_compact, format_rupiah, parse_amount
from liveguard.core.timekeeping import (
    DurationError,
    FixedClock,
    day_bounds_utc,
    format_clock,
    format_day,
    format_duration,
    hour_of,
    load_zone,
    local_day,
    parse_duration,
    zone_abbreviation,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("125000", 125_000),
        ("125.000", 125_000),
        ("Rp125.000", 125_000),
        ("Rp 125.000", 125_000),
        ("rp125.000", 125_000),
        ("IDR 125.000", 125_000),
        ("125rb", 125_000),
        ("125 rb", 125_000),
        ("1,2jt", 1_200_000),
        ("1.5jt", 1_500_000),
        ("1.250.000,00", 1_250_000),
        ("1.250.000", 1_250_000),
        ("1,250,000.00", 1_250_000),
        ("1250000.0", 1_250_000),
        ("125000,50", 125_001),
        (1_250_000, 1_250_000),
        (1_250_000.0, 1_250_000),
        ("0", 0),
    ],
)
def test_every_amount_form_a_seller_writes(text: str | int | float, expected: int) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a number"),
        ("abc", "not a number"),
        ("-5000", "negative"),
        ("12xyz", "unknown unit"),
        ("1.2.3,4,5", "not a number"),
        ("999999999999999", "too large"),
        ("10000000000000000000000000000", "too large"),
        ("1" * 60 + "jt", "too large"),
        (True, "not an amount"),
        (float("nan"), "not a number"),
    ],
)
def test_bad_amounts_say_what_is_wrong(text: object, message: str) -> None:
    with pytest.raises(AmountError, match=message):
        parse_amount(text)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=100_000_000_000))
def test_formatted_rupiah_reads_back_as_the_same_amount(amount: int) -> None:
    assert parse_amount(format_rupiah(amount)) == amount


@given(st.text(max_size=30))
def test_any_text_is_an_amount_or_a_clear_error(text: str) -> None:
    try:
        value = parse_amount(text)
    except AmountError as exc:
        assert str(exc)
    else:
        assert isinstance(value, int) and value >= 0


def test_rupiah_is_written_the_official_way() -> None:
    assert format_rupiah(1_250_000) == "Rp1.250.000"
    assert format_rupiah(0) == "Rp0"
    assert format_rupiah(-12_500) == "-Rp12.500"


@pytest.mark.parametrize(
    ("amount", "indonesian", "english"),
    [
        (1_250_000, "Rp1,2 jt", "Rp1.2M"),
        (12_500, "Rp12,5 rb", "Rp12.5K"),
        (999, "Rp999", "Rp999"),
        (125_000_000, "Rp125 jt", "Rp125M"),
        (2_000_000_000, "Rp2 M", "Rp2B"),
        # the edges of each unit, and what is truncated there
        (0, "Rp0", "Rp0"),
        (1_000, "Rp1 rb", "Rp1K"),
        (99_999, "Rp99,9 rb", "Rp99.9K"),
        (100_000, "Rp100 rb", "Rp100K"),
        (999_999, "Rp999 rb", "Rp999K"),
        (1_000_000, "Rp1 jt", "Rp1M"),
        (-1_250_000, "-Rp1,2 jt", "-Rp1.2M"),
        (1_000_000_000, "Rp1 M", "Rp1B"),
        (2_500_000_000_000, "Rp2,5 T", "Rp2.5T"),
    ],
)
def test_compact_rupiah_never_overstates(amount: int, indonesian: str, english: str) -> None:
    assert format_compact(amount, "id") == indonesian
    assert format_compact(amount, "en") == english


@pytest.mark.parametrize(
    ("zone", "label", "local_hour"),
    [("Asia/Jakarta", "WIB", 21), ("Asia/Makassar", "WITA", 22), ("Asia/Jayapura", "WIT", 23)],
)
def test_times_are_written_with_a_dot_and_the_zone(zone: str, label: str, local_hour: int) -> None:
    instant = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
    assert format_clock(instant, load_zone(zone)) == f"{local_hour}.00 {label}"
    assert hour_of(instant, load_zone(zone)) == local_hour


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("Asia/Pontianak", "WIB"),
        ("Asia/Ujung_Pandang", "WITA"),
        ("Europe/Amsterdam", "CET"),  # outside Indonesia: what the zone database says
        ("UTC", "UTC"),
    ],
)
def test_zone_names(zone: str, label: str) -> None:
    winter = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
    assert zone_abbreviation(load_zone(zone), winter) == label


@pytest.mark.parametrize(
    ("zone", "offset"), [("Asia/Jakarta", 7), ("Asia/Makassar", 8), ("Asia/Jayapura", 9)]
)
def test_today_starts_at_local_midnight(zone: str, offset: int) -> None:
    tz = load_zone(zone)
    start, end = day_bounds_utc(date(2026, 11, 29), tz)
    assert start == datetime(2026, 11, 29, tzinfo=UTC) - timedelta(hours=offset)
    assert end - start == timedelta(days=1)
    last_second = start - timedelta(seconds=1)
    assert local_day(last_second, tz) == date(2026, 11, 28)
    assert local_day(start, tz) == date(2026, 11, 29)


def test_the_same_instant_is_a_different_day_in_wib_and_wita() -> None:
    # 16.30 UTC is 23.30 WIB (still Sunday 29th) but 00.30 WITA (already Monday 30th).
    instant = datetime(2026, 11, 29, 16, 30, tzinfo=UTC)
    assert local_day(instant, load_zone("Asia/Jakarta")) == date(2026, 11, 29)
    assert local_day(instant, load_zone("Asia/Makassar")) == date(2026, 11, 30)


def test_unknown_zone_is_a_readable_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Asia/Bandung'"):
        load_zone("Asia/Bandung")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5), ("30s", 30), ("5m", 300), ("2h", 7200), ("1.5s", 1.5),
        ("5 detik", 5), ("10 menit", 600), ("2 jam", 7200), ("1,5 jam", 5400),
        ("5 minutes", 300), ("1 hari", 86400),
    ],
)  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["10x", "", "5 menitan", "-5s", "s", "10"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(DurationError, match="bad duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "en", "id_"),
    [
        (45, "45 s", "45 dtk"),
        (720, "12 min", "12 mnt"),
        (11100, "3 h 5 min", "3 j 5 mnt"),
        (-5, "0 s", "0 dtk"),  # a clock that went back never shows a negative time
        (59, "59 s", "59 dtk"),
        (60, "1 min", "1 mnt"),
        (3599, "59 min", "59 mnt"),
        (3600, "1 h", "1 j"),
        (86399, "23 h 59 min", "23 j 59 mnt"),
        (86400, "1 d", "1 hr"),
        (90060, "1 d 1 h", "1 hr 1 j"),
    ],
)
def test_durations_for_people(seconds: int, en: str, id_: str) -> None:
    assert format_duration(timedelta(seconds=seconds), "en") == en
    assert format_duration(timedelta(seconds=seconds), "id") == id_


def test_header_date_in_both_languages() -> None:
    assert format_day(date(2026, 11, 29), "id") == "Minggu, 29 November 2026"
    assert format_day(date(2026, 11, 29), "en") == "Sunday, 29 November 2026"


def test_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(datetime(2026, 11, 29, 14, 0, tzinfo=UTC))
    before = clock.now()
    assert clock.now() == before
    clock.advance(timedelta(minutes=5))
    assert clock.now() - before == timedelta(minutes=5)
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 11, 29))
