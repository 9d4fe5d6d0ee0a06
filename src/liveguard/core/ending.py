"""When an active Plan B should end: a planned end (``ends_after``, ``ends_at``) and the live
channel it stood in for being back (``when_live_returns``). On the real night live was off
for three and a half days; a flash sale left running after it returned eats the margin."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Literal

from .config import Promotion
from .promotion import Switch

__all__ = ["REMIND_BEFORE", "Verdict", "planned_end", "verdict"]

REMIND_BEFORE = timedelta(minutes=10)

Verdict = Literal["ends_after", "ends_at", "live_returned", "ask", "remind"] | None


def planned_end(switch: Switch, promotion: Promotion, zone: tzinfo) -> datetime | None:
    """The earliest planned end of this activation, or None when none is configured."""
    start = switch.activated_at
    if start is None:
        return None
    ends = []
    if promotion.ends_after is not None:
        ends.append(start + promotion.ends_after)
    if promotion.ends_at is not None:
        local = start.astimezone(zone)
        at = local.replace(
            hour=promotion.ends_at.hour, minute=promotion.ends_at.minute, second=0, microsecond=0
        )
        if at <= local:
            at += timedelta(days=1)
        ends.append(at)
    return min(ends) if ends else None


def verdict(
    switch: Switch,
    promotion: Promotion,
    now: datetime,
    zone: tzinfo,
    live_up_since: datetime | None,
) -> Verdict:
    """What to do about an active promotion now: end it (and why), ask the seller, remind
    them that the planned end is near, or nothing. ``live_up_since`` is when the channel it
    stands in for came back up (None while it is not up)."""
    if switch.phase != "active" or switch.activated_at is None:
        return None
    end = planned_end(switch, promotion, zone)
    if end is not None and now >= end:
        after = switch.activated_at + promotion.ends_after if promotion.ends_after else None
        return "ends_after" if after is not None and after <= end else "ends_at"
    back = (
        live_up_since is not None
        and live_up_since >= switch.activated_at
        and now - live_up_since >= promotion.live_back_for
    )
    if back and promotion.when_live_returns == "stop":
        return "live_returned"
    if back and promotion.when_live_returns == "ask":
        return "ask"
    if end is not None and end - now <= REMIND_BEFORE:
        return "remind"
    return None
