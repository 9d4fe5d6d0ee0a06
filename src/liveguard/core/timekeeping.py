"""Time: one injectable clock, the seller's zone, and the Indonesian way of writing times.

Everything is stored in UTC. "Today" and hours are cut in the seller's configured zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Clock",
    "DurationError",
    "FixedClock",
    "SystemClock",
    "day_bounds_utc",
    "format_clock",
    "format_day",
    "format_duration",
    "hour_of",
    "load_zone",
    "local_day",
    "parse_duration",
    "zone_abbreviation",
]

_INDONESIAN_ZONES = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Ujung_Pandang": "WITA",
    "Asia/Jayapura": "WIT",
}


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that moves only when told to: for tests, snapshots and benchmarks."""

    current: datetime

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.current = self.current.astimezone(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def load_zone(name: str) -> ZoneInfo:
    """The zone by IANA name; raises ValueError with a readable message when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (e.g. Asia/Jakarta, Asia/Makassar)") from exc


def zone_abbreviation(zone: tzinfo, at: datetime | None = None) -> str:
    """WIB, WITA, WIT for Indonesian zones; otherwise what the zone database says."""
    key = getattr(zone, "key", None)
    if key in _INDONESIAN_ZONES:
        return _INDONESIAN_ZONES[key]
    name = (at or datetime.now(UTC)).astimezone(zone).tzname()
    return name or str(zone)


def local_day(instant: datetime, zone: tzinfo) -> date:
    return instant.astimezone(zone).date()


def hour_of(instant: datetime, zone: tzinfo) -> int:
    """The local hour (0-23) the instant falls in."""
    return instant.astimezone(zone).hour


def day_bounds_utc(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the local day, as UTC instants."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def format_clock(instant: datetime, zone: tzinfo, *, seconds: bool = False) -> str:
    """``21.00 WIB``: dot as the separator, as Indonesians write times."""
    local = instant.astimezone(zone)
    text = local.strftime("%H.%M.%S" if seconds else "%H.%M")
    return f"{text} {zone_abbreviation(zone, instant)}"


_DURATION_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([a-z]+)\s*$", re.IGNORECASE)
# Units as a seller writes them, in either language: "5m", "10 menit", "2 jam", "30 detik".
_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0, "dtk": 1.0, "detik": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0, "mnt": 60.0,
    "menit": 60.0,
    "h": 3600.0, "hour": 3600.0, "hours": 3600.0, "j": 3600.0, "jam": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0, "hari": 86400.0,
}  # fmt: skip


class DurationError(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    """``500ms``, ``30s``, ``5m``, ``2h``, ``1d``, or in words (``5 detik``, ``10 menit``,
    ``2 jam``, ``1,5 jam``, ``30 seconds``) into a timedelta."""
    if not isinstance(text, str):
        raise DurationError(f"bad duration {text!r} (use a string like 500ms, 30s, 5m or 2h)")
    m = _DURATION_RE.match(text)
    unit = _UNIT_SECONDS.get(m.group(2).lower()) if m else None
    if m is None or unit is None:
        raise DurationError(f"bad duration {text!r} (use 500ms, 30s, 5m, 2h or 10 menit)")
    return timedelta(seconds=float(m.group(1).replace(",", ".")) * unit)


def format_duration(delta: timedelta, lang: str = "en") -> str:
    """Short durations: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h`` (id: ``j``, ``hr``)."""
    total = int(delta.total_seconds())
    if total < 0:
        total = 0
    day_unit, hour_unit, min_unit, sec_unit = (
        ("hr", "j", "mnt", "dtk")
        if lang == "id"
        else (
            "d",
            "h",
            "min",
            "s",
        )
    )
    if total < 60:
        return f"{total} {sec_unit}"
    minutes, _ = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} {min_unit}"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} {hour_unit} {minutes} {min_unit}" if minutes else f"{hours} {hour_unit}"
    days, hours = divmod(hours, 24)
    return f"{days} {day_unit} {hours} {hour_unit}" if hours else f"{days} {day_unit}"


def format_day(day: date, lang: str = "en") -> str:
    """``Jumat, 27 November 2026`` / ``Friday, 27 November 2026``: the header's date."""
    from babel.dates import format_date

    return format_date(day, format="EEEE, d MMMM y", locale="id_ID" if lang == "id" else "en_GB")
