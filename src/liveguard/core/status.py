"""Live-feature status per channel: declarations, probe results with hysteresis, outages.

Pure: no I/O. Probe results come in as :class:`ProbeResult`; the book answers with the
channel's :class:`ChannelStatus` and a :class:`Change` when what the seller sees changed.

Hysteresis follows Gatus / Uptime Kuma: ``failures_before_down`` failures in a row before
DOWN (PENDING while they are counted), ``successes_before_up`` successes in a row before a
DOWN check counts as up again. A failure of liveguard itself is UNKNOWN and counts neither way.
A seller's declaration overrides every probe until it is cleared.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from .config import Alerts, Channel
from .text import REASON_MAX, clean_line
from .timekeeping import day_bounds_utc

__all__ = [
    "Beat",
    "Change",
    "ChannelStatus",
    "CheckTrack",
    "Declaration",
    "Outage",
    "ProbeResult",
    "Source",
    "State",
    "StatusBook",
    "downtime_between",
    "parse_stored_time",
    "uptime_on",
]


class State(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"
    PENDING = "pending"  # failures are being counted; shown, never final

    @property
    def public(self) -> State:
        """The state as the outside sees it (status --json): pending is not final yet."""
        return State.UP if self is State.PENDING else self


class Source(StrEnum):
    DECLARED = "declared"
    PROBE = "probe"
    INFERRED = "inferred"
    NONE = "none"


def bounded(reason: str) -> str:
    """A reason as the book keeps and stores it: one clean line of at most REASON_MAX
    characters, so status.json stays small whatever a server sends."""
    return clean_line(reason, REASON_MAX)


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at else None


def _when(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


def parse_stored_time(text: Any) -> datetime | None:
    """A stored time of liveguard's own, or None when it is missing or unreadable."""
    try:
        at = _when(text)
    except ValueError:
        return None
    return at if at is not None and at.tzinfo is not None else None


@dataclass(frozen=True)
class ProbeResult:
    """One check's answer. ``settled`` results (a shared feed) skip the failure counting."""

    outcome: State  # UP, DEGRADED, DOWN or UNKNOWN
    reason: str
    at: datetime
    latency_ms: int | None = None
    since: datetime | None = None  # when the source itself says the state began
    settled: bool = False


@dataclass(frozen=True)
class Beat:
    """One tick of the heartbeat bar."""

    at: datetime
    state: State
    latency_ms: int | None = None

    def to_doc(self) -> list[Any]:
        return [_iso(self.at), self.state.value, self.latency_ms]

    @classmethod
    def from_doc(cls, doc: list[Any]) -> Beat:
        return cls(datetime.fromisoformat(doc[0]), State(doc[1]), doc[2])


@dataclass(frozen=True)
class Declaration:
    state: State  # UP or DOWN
    who: str
    at: datetime
    reason: str = ""

    def to_doc(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "who": bounded(self.who),
            "at": _iso(self.at),
            "reason": bounded(self.reason),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Declaration:
        return cls(
            State(doc["state"]),
            str(doc["who"]),
            datetime.fromisoformat(doc["at"]),
            str(doc.get("reason", "")),
        )


@dataclass(frozen=True)
class Outage:
    channel: str
    start: datetime
    end: datetime | None
    source: Source
    reason: str

    def duration(self, now: datetime) -> timedelta:
        return (self.end or now) - self.start

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.start.astimezone(UTC).isoformat())

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "channel": self.channel,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "source": self.source.value,
            "reason": bounded(self.reason),
        }
        if self.end is not None:
            doc["duration_s"] = int((self.end - self.start).total_seconds())
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Outage:
        start = datetime.fromisoformat(doc["start"])
        return cls(
            doc["channel"],
            start,
            _when(doc.get("end")),
            Source(doc["source"]),
            str(doc.get("reason", "")),
        )


@dataclass
class CheckTrack:
    """The hysteresis of one check: its shown state and its runs of failures / successes."""

    state: State = State.UNKNOWN
    settled: State = State.UNKNOWN  # the last final state (never PENDING)
    since: datetime | None = None
    reason: str = ""
    latency_ms: int | None = None
    failures: int = 0
    successes: int = 0
    run_start: datetime | None = None  # first result of the current run of failures/successes
    answered: bool = False

    def to_doc(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "settled": self.settled.value,
            "since": _iso(self.since),
            "reason": bounded(self.reason),
            "latency_ms": self.latency_ms,
            "failures": self.failures,
            "successes": self.successes,
            "run_start": _iso(self.run_start),
            "answered": self.answered,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> CheckTrack:
        return cls(
            State(doc["state"]),
            State(doc["settled"]),
            _when(doc.get("since")),
            str(doc.get("reason", "")),
            doc.get("latency_ms"),
            int(doc.get("failures", 0)),
            int(doc.get("successes", 0)),
            _when(doc.get("run_start")),
            bool(doc.get("answered", False)),
        )

    def apply(self, result: ProbeResult, alerts: Alerts) -> None:
        self.answered = True
        self.latency_ms = result.latency_ms
        before = self.state
        if result.outcome is State.UNKNOWN:
            if self.settled is State.DOWN:
                return  # an outage does not end because liveguard could not look
            self._show(State.UNKNOWN, result.at, result.reason, before)
            return
        if result.settled:
            self.failures = self.successes = 0
            self.settled = result.outcome
            self._show(result.outcome, result.since or result.at, result.reason, before)
            return
        failed = result.outcome is State.DOWN
        if failed:
            self.successes = 0
            if self.failures == 0:
                self.run_start = result.at
            self.failures += 1
            if self.failures >= alerts.failures_before_down or self.settled is State.DOWN:
                self.settled = State.DOWN
                self._show(State.DOWN, self.run_start or result.at, result.reason, before)
            else:
                self._show(State.PENDING, self.run_start or result.at, result.reason, before)
            return
        self.failures = 0
        if self.successes == 0:
            self.run_start = result.at
        self.successes += 1
        if self.settled is State.DOWN and self.successes < alerts.successes_before_up:
            # still down: keep the outage's reason, say that it is recovering
            self.state = State.DOWN
            return
        self.settled = result.outcome
        start = self.run_start if before is State.DOWN else result.at
        self._show(result.outcome, start or result.at, result.reason, before)

    def _show(self, state: State, since: datetime, reason: str, before: State) -> None:
        if state is not before or self.since is None:
            self.since = since
        self.state = state
        self.reason = bounded(reason)


@dataclass(frozen=True)
class ChannelStatus:
    channel: str
    name: str
    live: bool
    state: State
    source: Source
    since: datetime | None
    reason: str
    latency_ms: int | None
    declaration: Declaration | None = None
    suggestion: str = ""  # what sales inference suspects; never a state by itself


@dataclass(frozen=True)
class Change:
    before: ChannelStatus
    after: ChannelStatus
    opened: Outage | None = None
    closed: Outage | None = None


# Which check's state speaks for a channel with several checks: a failing check wins.
_SEVERITY = {State.DOWN: 5, State.PENDING: 4, State.DEGRADED: 3, State.UP: 2, State.UNKNOWN: 1}


@dataclass
class _ChannelBook:
    channel: Channel
    tracks: list[CheckTrack]
    declaration: Declaration | None = None
    inferred: tuple[State, str, datetime] | None = None
    open_outage: Outage | None = None
    beats: list[Beat] = field(default_factory=list)
    # When liveguard itself first saw the channel DOWN (its own clock, whatever a feed
    # claims as "since"): the auto-activation wait counts from here.
    down_seen: datetime | None = None


class StatusBook:
    """Every channel's status; feed it results and declarations, read statuses and changes."""

    def __init__(
        self, channels: Sequence[Channel], alerts: Alerts, *, beats_kept: int = 60
    ) -> None:
        self.alerts = alerts
        self.beats_kept = beats_kept
        self._books = {c.id: _ChannelBook(c, [CheckTrack() for _ in c.checks]) for c in channels}

    @property
    def channels(self) -> list[Channel]:
        return [b.channel for b in self._books.values()]

    def _book(self, channel_id: str) -> _ChannelBook:
        try:
            return self._books[channel_id]
        except KeyError:
            raise KeyError(f"no channel {channel_id!r} in the config") from None

    # -- reading ------------------------------------------------------------------------
    def status(self, channel_id: str) -> ChannelStatus:
        book = self._book(channel_id)
        ch = book.channel
        inferred = book.inferred
        suggestion = inferred[1] if inferred and inferred[0] is State.DOWN else ""

        def shown(
            state: State, source: Source, since: datetime | None, reason: str, latency: int | None
        ) -> ChannelStatus:
            decl = book.declaration
            return ChannelStatus(
                ch.id, ch.name, ch.live, state, source, since, reason, latency, decl, suggestion
            )

        latency = next((t.latency_ms for t in book.tracks if t.latency_ms is not None), None)
        decl = book.declaration
        if decl is not None:
            return shown(decl.state, Source.DECLARED, decl.at, decl.reason, latency)
        answered = [t for t in book.tracks if t.answered]
        if answered:
            top = max(answered, key=_speaks_first)
            top_latency = top.latency_ms if top.latency_ms is not None else latency
            return shown(top.state, Source.PROBE, top.since, top.reason, top_latency)
        if inferred is not None:
            state, reason, at = inferred
            # Inference suggests; it never says DOWN by itself (field notes).
            state = State.UNKNOWN if state is State.DOWN else state
            return shown(state, Source.INFERRED, at, reason, None)
        return shown(State.UNKNOWN, Source.NONE, None, "", None)

    def snapshot(self) -> list[ChannelStatus]:
        return [self.status(cid) for cid in self._books]

    def beats(self, channel_id: str) -> list[Beat]:
        return list(self._book(channel_id).beats)

    def open_outage(self, channel_id: str) -> Outage | None:
        return self._book(channel_id).open_outage

    def declaration(self, channel_id: str) -> Declaration | None:
        return self._book(channel_id).declaration

    def down_seen(self, channel_id: str) -> datetime | None:
        """When liveguard first saw this channel DOWN (None when it is not DOWN)."""
        return self._book(channel_id).down_seen

    def tracks(self, channel_id: str) -> list[CheckTrack]:
        return self._book(channel_id).tracks

    # -- changing -----------------------------------------------------------------------
    def record(self, channel_id: str, check_index: int, result: ProbeResult) -> Change | None:
        book = self._book(channel_id)
        before = self.status(channel_id)
        book.tracks[check_index].apply(result, self.alerts)
        book.beats.append(Beat(result.at, result.outcome, result.latency_ms))
        del book.beats[: -self.beats_kept]
        return self._changed(book, before, result.at)

    def declare(
        self, channel_id: str, declaration: Declaration | None, at: datetime
    ) -> Change | None:
        """Set (or with None clear) the seller's declaration; it wins over every probe."""
        book = self._book(channel_id)
        before = self.status(channel_id)
        book.declaration = declaration
        return self._changed(book, before, declaration.at if declaration else at)

    def infer(
        self, channel_id: str, state: State | None, reason: str, at: datetime
    ) -> Change | None:
        """The hook for sales inference: a suggestion, shown only where nothing better is known."""
        book = self._book(channel_id)
        before = self.status(channel_id)
        book.inferred = None if state is None else (state, reason, at)
        return self._changed(book, before, at)

    def restore(
        self,
        channel_id: str,
        *,
        tracks: Iterable[CheckTrack] = (),
        declaration: Declaration | None = None,
        beats: Iterable[Beat] = (),
        open_outage: Outage | None = None,
        down_seen: datetime | None = None,
    ) -> None:
        """Put back what was stored; tracks of checks no longer configured are dropped."""
        if channel_id not in self._books:
            return
        book = self._books[channel_id]
        kept = list(tracks)
        if len(kept) == len(book.tracks):
            book.tracks = kept
        book.declaration = declaration
        book.beats = list(beats)[-self.beats_kept :]
        book.open_outage = open_outage
        book.down_seen = down_seen

    def settle(self, channel_id: str, at: datetime) -> Change | None:
        """Open or close the outage record to match the status (after a restore)."""
        book = self._book(channel_id)
        return self._changed(book, self.status(channel_id), at)

    def _changed(self, book: _ChannelBook, before: ChannelStatus, at: datetime) -> Change | None:
        after = self.status(book.channel.id)
        if after.state is not State.DOWN:
            book.down_seen = None
        elif book.down_seen is None:
            book.down_seen = at
        opened = closed = None
        if after.state is State.DOWN and book.open_outage is None:
            book.open_outage = opened = Outage(
                after.channel, after.since or at, None, after.source, bounded(after.reason)
            )
        elif after.state is not State.DOWN and book.open_outage is not None:
            end = after.since if after.since and after.since >= book.open_outage.start else at
            closed = replace(book.open_outage, end=end)
            book.open_outage = None
        if opened is None and closed is None and _same(before, after):
            return None
        return Change(before, after, opened, closed)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _speaks_first(track: CheckTrack) -> tuple[int, float]:
    """The most severe state; among equals the one that began first."""
    return (_SEVERITY[track.state], -(track.since or track.run_start or _EPOCH).timestamp())


def _same(a: ChannelStatus, b: ChannelStatus) -> bool:
    def seen(s: ChannelStatus) -> tuple[object, ...]:
        return (s.state, s.source, s.since, s.reason, s.suggestion)

    return seen(a) == seen(b)


def downtime_between(outages: Iterable[Outage], start: datetime, end: datetime) -> timedelta:
    """How long the outages overlap [start, end); an open outage runs until ``end``."""
    total = timedelta(0)
    for o in outages:
        lo = max(o.start, start)
        hi = min(o.end or end, end)
        if hi > lo:
            total += hi - lo
    return total


def uptime_on(outages: Iterable[Outage], day: date, zone: tzinfo, now: datetime) -> float | None:
    """Share of the local day (so far) the channel was not down; None before the day began."""
    start, end = day_bounds_utc(day, zone)
    end = min(end, now)
    if end <= start:
        return None
    down = downtime_between(outages, start, end)
    return max(0.0, 1.0 - down / (end - start))
