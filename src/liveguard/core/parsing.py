"""Reading times and statuses the way marketplace exports, feeds and sellers write them.

Dates in Indonesian exports come as ``2026-10-03 18:00:00``, ``03/10/2026 19.30`` (dot as the
time separator, day first), ``27/11/2026 20:41:07``, ``03 Okt 2026 18:00``, or as Excel
serial numbers. A time without an offset is the seller's local time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from .orders import OrderStatus

__all__ = [
    "EARLIEST",
    "LATEST",
    "DateError",
    "DateReader",
    "classify_status",
    "is_sane_instant",
    "parse_datetime",
    "parse_seller_time",
]


class DateError(ValueError):
    """Raised with a message a seller can read; ``detail`` is why the text is no date, when
    that is more than "not a date" (e.g. "no such time")."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


# Excel's day zero (it counts the fictional 29 Feb 1900, so day 1 = 1900-01-01 in practice).
_EXCEL_EPOCH = datetime(1899, 12, 30)
# Serial numbers accepted as dates: 1982-10-05 .. 2119-01-01; outside that it is not a date.
_SERIAL_MIN, _SERIAL_MAX = 30_000.0, 80_000.0

_TIME = r"(?:[ T,]+(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2})(?:[.,]\d+)?)?)?"
_OFFSET = r"\s*(?P<tz>Z|UTC|[+-]\d{2}(?::?\d{2})?)?"
_YMD = re.compile(r"^(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})" + _TIME + _OFFSET + r"$")
_DMY = re.compile(r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})" + _TIME + _OFFSET + r"$")
_DMONY = re.compile(
    r"^(?P<d>\d{1,2})[ -](?P<mon>[A-Za-z]{3,9})[ -](?P<y>\d{4})" + _TIME + _OFFSET + r"$"
)
_NUMBER = re.compile(r"^\d{5}(?:\.\d+)?$")
# What a seller types for a sale a moment ago: "20.41", "20:41", "27/11 20.41".
_SHORT = re.compile(r"^(?:(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[ ,]+)?(?P<H>\d{1,2})[:.](?P<M>\d{2})$")

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "mei": 5, "jun": 6, "jul": 7,
    "aug": 8, "agu": 8, "agt": 8, "sep": 9, "oct": 10, "okt": 10, "nov": 11, "dec": 12, "des": 12,
}  # fmt: skip


# Times from outside (exports, feeds, status feeds) are believed only inside this window;
# outside it they are "unreadable time", never an overflow deeper in (year 1 at +14:00).
EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)
LATEST = datetime(2120, 1, 1, tzinfo=UTC)


def is_sane_instant(at: datetime) -> bool:
    """True for an aware instant inside [EARLIEST, LATEST)."""
    try:
        return at.tzinfo is not None and EARLIEST <= at < LATEST
    except OverflowError:  # comparing converts to UTC, which can overflow
        return False


def parse_seller_time(text: str, now: datetime, zone: tzinfo) -> datetime:
    """A time as a seller types it: ``20.41`` or ``20:41`` (today, or yesterday when that
    would be later than now), ``27/11 20.41`` (the last 27 November up to now), or any form
    :func:`parse_datetime` reads. Raises DateError."""
    m = _SHORT.match(text.strip())
    if m is None:
        return parse_datetime(text.strip(), zone)
    local_now = now.astimezone(zone)
    hour, minute = int(m.group("H")), int(m.group("M"))
    try:
        if m.group("d") is None:
            at = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if at > local_now + timedelta(minutes=5):
                at -= timedelta(days=1)
        else:
            day, month = int(m.group("d")), int(m.group("m"))
            at = local_now.replace(
                month=month, day=day, hour=hour, minute=minute, second=0, microsecond=0
            )
            if at > local_now + timedelta(minutes=5):
                at = at.replace(year=at.year - 1)
    except ValueError:
        raise DateError(f"not a time: {text!r}") from None
    return at.astimezone(UTC)


def parse_datetime(value: object, zone: tzinfo) -> datetime:
    """An aware UTC instant from any date form an export, feed or seller gives.

    Naive values (no offset) are read in ``zone``. Raises DateError, also for a time
    outside 1980-2119 (``unreadable time``).
    """
    try:
        at = _parse_datetime(value, zone)
    except DateError:
        raise
    except (OverflowError, ValueError):  # year 1 at +14:00; an offset of -30:00
        at = None
    if at is None or not is_sane_instant(at):
        shown = value if isinstance(value, int | float | datetime) else str(value)[:40]
        raise DateError(f"unreadable time: {shown!r} (outside 1980-2119)")
    return at


def _parse_datetime(value: object, zone: tzinfo) -> datetime:
    if type(value) is str:
        # Fast path for the common export forms (called once per order on big imports).
        m = (_DMY if value[2:3] in ("/", ".", "-") else _YMD).match(value)
        if m is not None and m.group("tz") is None:
            hour, minute, second = (
                int(m.group("H") or 0),
                int(m.group("M") or 0),
                int(m.group("S") or 0),
            )
            try:
                midnight = _midnight_utc(
                    int(m.group("y")), int(m.group("m")), int(m.group("d")), zone
                )
            except ValueError as exc:
                raise DateError(f"not a date: {value!r} ({exc})", str(exc)) from None
            if hour > 23 or minute > 59 or second > 59:
                raise DateError(f"not a date: {value!r} (no such time)", "no such time")
            if midnight is not None:
                return midnight + timedelta(hours=hour, minutes=minute, seconds=second)
            naive = datetime(
                int(m.group("y")), int(m.group("m")), int(m.group("d")), hour, minute, second
            )
            return naive.replace(tzinfo=zone).astimezone(UTC)
    if isinstance(value, datetime):
        local = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return local.astimezone(UTC)
    if isinstance(value, bool):
        raise DateError(f"not a date: {value!r}")
    if isinstance(value, int | float):
        return _from_serial(float(value), zone, value)
    if not isinstance(value, str):
        raise DateError(f"not a date: {value!r}")
    text = value.strip()
    if not text:
        raise DateError("empty date")
    if _NUMBER.match(text):
        return _from_serial(float(text), zone, value)
    m = _YMD.match(text) or _DMY.match(text)
    month: int | None = None
    if m is None:
        m = _DMONY.match(text)
        if m is not None:
            month = _MONTHS.get(m.group("mon")[:3].lower())
            if month is None:
                raise DateError(f"not a date: {value!r} (unknown month)", "unknown month")
    if m is None:
        try:
            return parse_datetime(datetime.fromisoformat(text), zone)
        except ValueError:
            raise DateError(f"not a date: {value!r}") from None
    try:
        naive = datetime(
            int(m.group("y")),
            month or int(m.group("m")),
            int(m.group("d")),
            int(m.group("H") or 0),
            int(m.group("M") or 0),
            int(m.group("S") or 0),
        )
    except ValueError as exc:
        raise DateError(f"not a date: {value!r} ({exc})", str(exc)) from None
    return naive.replace(tzinfo=_offset(m.group("tz"), zone)).astimezone(UTC)


class DateReader:
    """``parse_datetime`` for a whole export: the date part of "DATE TIME" cells is read once
    per distinct day, the time part by position. Same results; anything unusual falls back
    to ``parse_datetime`` (which also words the errors)."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self._midnights: dict[str, datetime | None] = {}
        # day text -> ("2026-11-27T", "+07:00"): an "HH:MM:SS" time between them is one
        # C-level datetime.fromisoformat (three times faster than the arithmetic below).
        self._iso_days: dict[str, tuple[str, str] | None] = {}

    def __call__(self, value: object) -> datetime:
        if type(value) is str:
            day_text, sep, clock = value.partition(" ")
            if sep:
                iso_day = self._iso_days.get(day_text, _NO_DAY)
                if iso_day is _NO_DAY:
                    iso_day = self._iso_days[day_text] = self._iso_day(day_text)
                if iso_day is not None and len(clock) == 8 and clock < "24":
                    try:
                        return datetime.fromisoformat(iso_day[0] + clock + iso_day[1]).astimezone(
                            UTC
                        )
                    except ValueError:
                        pass  # not HH:MM:SS (e.g. dots): the general path below
                midnight = self._midnights.get(day_text, _UNSEEN)
                if midnight is _UNSEEN:
                    midnight = self._midnights[day_text] = self._midnight(day_text)
                seconds = _clock_seconds(clock)
                if midnight is not None and seconds is not None:
                    return midnight + timedelta(seconds=seconds)
        return parse_datetime(value, self.zone)

    def _iso_day(self, day_text: str) -> tuple[str, str] | None:
        midnight = self._midnights.get(day_text, _UNSEEN)
        if midnight is _UNSEEN:
            midnight = self._midnights[day_text] = self._midnight(day_text)
        if midnight is None:
            return None
        local = midnight.astimezone(self.zone).isoformat()  # 2026-11-27T00:00:00+07:00
        return local[:11], local[19:]

    def _midnight(self, day_text: str) -> datetime | None:
        m = _YMD.match(day_text) or _DMY.match(day_text)
        if m is None or m.group("H") is not None or m.group("tz") is not None:
            return None
        try:
            midnight = _midnight_utc(
                int(m.group("y")), int(m.group("m")), int(m.group("d")), self.zone
            )
        except (ValueError, OverflowError):
            return None
        return midnight if midnight is None or is_sane_instant(midnight) else None


_UNSEEN = datetime.min
_NO_DAY = ("", "")


def _clock_seconds(clock: str) -> int | None:
    """``20:41:07``, ``20.41.07``, ``19.30`` as seconds after midnight; None for anything else."""
    if len(clock) == 8 and clock[2] in ":." and clock[5] == clock[2]:
        h, m, s = clock[0:2], clock[3:5], clock[6:8]
    elif len(clock) == 5 and clock[2] in ":.":
        h, m, s = clock[0:2], clock[3:5], "00"
    else:
        return None
    if not (h.isdigit() and m.isdigit() and s.isdigit()):
        return None
    hours, minutes, secs = int(h), int(m), int(s)
    if hours > 23 or minutes > 59 or secs > 59:
        return None
    return hours * 3600 + minutes * 60 + secs


@lru_cache(maxsize=4096)
def _midnight_utc(year: int, month: int, day: int, zone: tzinfo) -> datetime | None:
    """The UTC instant of local midnight, or None when the offset changes that day (DST):
    then the caller converts the full local time instead of adding hours to midnight."""
    start = datetime(year, month, day, tzinfo=zone)
    if start.utcoffset() != start.replace(hour=23, minute=59).utcoffset():
        return None
    return start.astimezone(UTC)


def _offset(text: str | None, zone: tzinfo) -> tzinfo:
    if not text:
        return zone
    if text in ("Z", "UTC"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _from_serial(serial: float, zone: tzinfo, raw: object) -> datetime:
    if not (_SERIAL_MIN <= serial <= _SERIAL_MAX):
        raise DateError(f"not a date: {raw!r}")
    # Round to the second: serials carry float noise (0.7916666 for 19.00).
    naive = _EXCEL_EPOCH + timedelta(seconds=round(serial * 86400))
    return naive.replace(tzinfo=zone).astimezone(UTC)


# Keyword classification of marketplace statuses (Indonesian and English UIs). The order
# matters: "Pembatalan Pengembalian" style combined columns are read return-first.
_RETURNED = ("pengembalian", "dikembalikan", "return", "refund", "retur")
_CANCELLED = ("batal", "cancel", "gagal", "failed", "canceled")
# In the side column a *request* ("Pembatalan Diajukan") is not yet a cancellation.
_CANCELLED_SIDE = ("dibatalkan", "cancelled", "canceled")
_UNPAID = ("belum bayar", "unpaid", "menunggu pembayaran", "awaiting payment", "pending payment")


def classify_status(raw: str, cancel_or_return: str = "") -> OrderStatus:
    """Normalise a marketplace status to paid|cancelled|returned|unpaid.

    ``cancel_or_return`` is the separate cancellation/return column some exports have
    (Shopee ``Status Pembatalan/ Pengembalian``, TikTok ``Cancelation/Return Type``); when it
    names a return or cancellation it wins over the main status. Any other non-empty status
    (``Selesai``, ``Dikirim``, ``Perlu Dikirim``, ``Completed``, ``To ship``, …) is a paid
    order: exports list orders from payment onward.
    """
    extra = cancel_or_return.strip().lower()
    main = raw.strip().lower()
    if main in ("paid", "cancelled", "returned", "unpaid"):
        return OrderStatus(main)
    if any(word in main for word in _UNPAID):
        return OrderStatus.UNPAID
    if any(word in main for word in _RETURNED):
        return OrderStatus.RETURNED
    if any(word in main for word in _CANCELLED):
        return OrderStatus.CANCELLED
    if extra:
        if any(word in extra for word in _RETURNED):
            return OrderStatus.RETURNED
        if extra == "cancel" or any(word in extra for word in _CANCELLED_SIDE):
            return OrderStatus.CANCELLED
    return OrderStatus.PAID
