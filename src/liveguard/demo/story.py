"""The demo's scripted evening: orders everywhere, TikTok Live goes down, Plan B, live returns.

Story time is counted in story seconds (about two minutes in all); ``speed`` compresses it
against the wall clock. :meth:`Story.advance_to` moves the story in fixed ticks, so the same
seed gives the same orders however often it is called; tests call it directly, the demo
runner calls it a few times a second. The story never asks liveguard anything: it only
looks at what the webhook receiver got (a Shopee flash sale makes Shopee orders climb).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from .shop import FeedOrder, Shop

__all__ = ["BEATS", "DEFAULT_SEED", "LENGTH_S", "Beat", "Story"]

DEFAULT_SEED = 20250830  # the evening TikTok Live stopped in Indonesia
TICK_S = 0.5  # story seconds per step of the order generator
LENGTH_S = 120.0


@dataclass(frozen=True)
class Beat:
    at: float  # story seconds from the start
    name: str


BEATS: tuple[Beat, ...] = (
    Beat(0.0, "evening"),  # orders on every channel, TikTok strongest
    Beat(20.0, "tiktok_503"),  # TikTok's live endpoint answers 503
    Beat(32.0, "statuspage_outage"),  # the status page says TikTok Live: major outage
    Beat(105.0, "live_back"),  # TikTok Live answers again (see _ready); the page follows
    Beat(LENGTH_S, "epilogue"),  # the evening goes on as it started
)

# Live comes back only once a flash sale has run this long, or at the latest then: at high
# speeds the control room's probe rhythm (1 s at least) cannot keep up with story time.
SALE_BEFORE_LIVE_BACK_S = 15.0
LATEST_LIVE_BACK_S = 150.0

# Orders per story minute.
NORMAL_RATE = {"tiktok": 30.0, "shopee": 9.0, "tokopedia": 5.0, "instagram": 4.0}
TIKTOK_DOWN_RATE = 1.5  # a trickle of ordinary shop orders while live is off
FLASH_SALE_RATE = 36.0  # Shopee while the flash sale runs
# Before the story starts: the earlier evening, orders per real minute, this far back.
EARLIER_RATE = {"tiktok": 0.6, "shopee": 0.25, "tokopedia": 0.15, "instagram": 0.1}
EARLIER = timedelta(hours=2)
# Yesterday's evening runs this much past the story's length, so "vs yesterday" still has
# something to compare with for a while after the story ends.
YESTERDAY_AFTER_S = 180.0

PRICES = (39_000, 49_000, 59_000, 79_000, 89_000, 99_000, 129_000, 149_000, 199_000)
QUANTITIES = (1, 1, 1, 1, 2, 2, 3)
CANCEL_SHARE = 0.06


def beat_at(name: str) -> float:
    return next(b.at for b in BEATS if b.name == name)


class Story:
    def __init__(
        self,
        shop: Shop,
        *,
        started_at: datetime,
        speed: float = 1.0,
        seed: int = DEFAULT_SEED,
        zone: tzinfo | None = None,
    ) -> None:
        if not speed > 0 or math.isinf(speed):
            raise ValueError(f"speed must be a number above 0, not {speed!r}")
        self.shop = shop
        self.started_at = started_at
        self.speed = speed
        self.zone = zone or ZoneInfo("Asia/Jakarta")
        self.rng = random.Random(seed)
        self.elapsed = 0.0  # story seconds already played
        self.phase = ""
        self._next_beat = 0
        self._serial = dict.fromkeys(NORMAL_RATE, 0)
        self._begun = False
        self._sale_seen_at: float | None = None  # story time the flash sale was first seen

    @property
    def done(self) -> bool:
        return self.phase == "epilogue"

    def wall_seconds(self, story_seconds: float) -> float:
        return story_seconds / self.speed

    def begin(self) -> None:
        """What happened before the story: yesterday evening (the same hours, without an
        outage: what "vs yesterday" compares with) and today's earlier evening."""
        if self._begun:
            return
        self._begun = True
        yesterday = self.started_at - timedelta(days=1)
        self._earlier(yesterday, floor=yesterday - EARLIER)
        t = 0.0
        while t < LENGTH_S + YESTERDAY_AFTER_S:
            at = yesterday + timedelta(seconds=self.wall_seconds(t))
            for channel, rate in NORMAL_RATE.items():
                for _ in range(self._poisson(rate * TICK_S / 60.0)):
                    self._order(channel, at)
            t += TICK_S
        start_of_day = self.started_at.astimezone(self.zone).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        self._earlier(self.started_at, floor=start_of_day)

    def _earlier(self, until: datetime, floor: datetime) -> None:
        first = max(until - EARLIER, floor)
        for minute in range(int((until - first).total_seconds() // 60)):
            at = first + timedelta(minutes=minute)
            for channel, rate in EARLIER_RATE.items():
                for _ in range(self._poisson(rate)):
                    self._order(channel, at + timedelta(seconds=self.rng.randrange(60)))

    def advance_to(self, story_seconds: float) -> list[str]:
        """Play the story up to ``story_seconds``; returns the beats that happened."""
        self.begin()
        happened: list[str] = []
        while self.elapsed + TICK_S <= story_seconds + 1e-9:
            happened += self._beats_until(self.elapsed)
            self._tick(self.elapsed)
            self.elapsed += TICK_S
        happened += self._beats_until(min(self.elapsed, story_seconds))
        return happened

    # -- internals ---------------------------------------------------------------------------
    def _beats_until(self, t: float) -> list[str]:
        names = []
        while self._next_beat < len(BEATS) and self._ready(BEATS[self._next_beat], t):
            beat = BEATS[self._next_beat]
            self._play(beat.name)
            self.phase = beat.name
            names.append(beat.name)
            self._next_beat += 1
        return names

    def _ready(self, beat: Beat, t: float) -> bool:
        if beat.at > t + 1e-9:
            return False
        if beat.name != "live_back" or t >= LATEST_LIVE_BACK_S - 1e-9:
            return True
        return self._sale_seen_at is not None and t >= self._sale_seen_at + SALE_BEFORE_LIVE_BACK_S

    def _play(self, name: str) -> None:
        if name == "tiktok_503":
            self.shop.set_live("tiktok", False)
        elif name == "statuspage_outage":
            self.shop.set_component("tiktok", "major_outage")
        elif name == "live_back":
            self.shop.set_live("tiktok", True)
            self.shop.set_component("tiktok", "operational")

    def _rates(self) -> dict[str, float]:
        rates = dict(NORMAL_RATE)
        if not self.shop.live_up("tiktok") or self.shop.component("tiktok") != "operational":
            rates["tiktok"] = TIKTOK_DOWN_RATE
        if self.shop.flash_sale_on():
            rates["shopee"] = FLASH_SALE_RATE
            if self._sale_seen_at is None:
                self._sale_seen_at = self.elapsed
        return rates

    def _tick(self, t: float) -> None:
        at = self.started_at + timedelta(seconds=self.wall_seconds(t))
        for channel, rate in self._rates().items():
            for _ in range(self._poisson(rate * TICK_S / 60.0)):
                self._order(channel, at)

    def _order(self, channel: str, at: datetime) -> None:
        self._serial[channel] += 1
        prefix = next(c.prefix for c in self.shop.channels if c.id == channel)
        amount = self.rng.choice(PRICES) * self.rng.choice(QUANTITIES)
        status = "CANCELLED" if self.rng.random() < CANCEL_SHARE else "READY_TO_SHIP"
        order = FeedOrder(
            order_sn=f"{prefix}{at.astimezone(self.zone):%y%m%d}{self._serial[channel]:05d}",
            create_time=int(at.timestamp()),
            total_amount=f"{amount:,}".replace(",", "."),
            order_status=status,
        )
        self.shop.add_order(channel, order)

    def _poisson(self, mean: float) -> int:
        # Knuth's method: fine for the small means used here.
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1
