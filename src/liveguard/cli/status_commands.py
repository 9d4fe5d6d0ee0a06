"""``liveguard status [--json]`` and ``liveguard mark CHANNEL up|down|clear [--reason]``."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections import Counter
from datetime import datetime
from typing import Any

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.order_feed import FeedError, fetch_orders
from liveguard.adapters.state_home import StateError
from liveguard.core.config import Config, OrderSource
from liveguard.core.promotion import public_state
from liveguard.core.status import ChannelStatus, State
from liveguard.core.text import clean_line
from liveguard.core.timekeeping import format_clock, format_duration, load_zone
from liveguard.i18n import Catalog
from liveguard.service.planb import PlanBService
from liveguard.service.readiness import ReadinessService, as_json
from liveguard.service.sales import SalesService
from liveguard.service.status import StatusService, exit_code

from . import shopee_commands
from .context import CliError, Context
from .readiness_commands import readiness_service

EXIT_UNKNOWN = 3


def register(sub: Any) -> None:
    status = sub.add_parser(
        "status",
        help="check every channel once and print its state "
        "(exit 0 all up, 1 degraded, 2 a live channel down, 3 unknown)",
    )
    status.add_argument("--json", action="store_true", help="print JSON (docs/reference.md)")
    status.set_defaults(func=run_status)

    mark = sub.add_parser("mark", help="declare a channel's live status (clear = back to probes)")
    mark.add_argument("channel", metavar="CHANNEL", help="channel id, name or alias")
    mark.add_argument(
        "state",
        type=mark_word,
        metavar="STATE",
        help="down (mati), up (normal, aktif) or clear (hapus)",
    )
    mark.add_argument("--reason", default="", metavar="TEXT", help="why, in a few words")
    mark.set_defaults(func=run_mark)


def run_status(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config()
    service = StatusService(config, ctx.state(), ctx.clock)
    readiness = readiness_service(ctx)

    async def check() -> list[ChannelStatus]:
        drops = SalesService(config, ctx.state(), ctx.clock).live_drops()  # the suggestion
        statuses, _ = await asyncio.gather(service.check_once(drops=drops), readiness.check())
        return statuses

    try:
        statuses = asyncio.run(check())
    except StateError as exc:
        raise CliError(str(exc)) from None
    now = ctx.clock.now()
    if args.json:
        data = status_json(statuses, now, service)
        feeds = asyncio.run(feeds_json(config, now))
        data["sources"] = feeds + shopee_commands.sources_json(config, ctx.state(), now)
        data["planb"] = planb_json(ctx, readiness)
        print(json.dumps(data, ensure_ascii=False))
    else:
        t = Catalog(ctx.lang)
        if not statuses:
            print(t("status.no_channels", path=str(ctx.paths.config)))
        for s in statuses:
            print(status_line(s, now, service, t))
        for line in shopee_commands.source_lines(config, ctx.state(), now, t):
            print(line)
    return exit_code(statuses) if statuses else EXIT_UNKNOWN


async def feeds_json(config: Config, now: datetime) -> list[dict[str, Any]]:
    """Each http-json order feed fetched once (nothing stored): fresh, or stale and why."""
    if not config.sources:
        return []
    zone = load_zone(config.timezone)
    pool = HttpPool(len(config.sources), use_env_proxy=config.network.use_env_proxy)
    seen: Counter[str] = Counter()

    async def one(source: OrderSource) -> dict[str, Any]:
        seen[source.channel] += 1
        number = seen[source.channel]
        entry = {
            "id": f"http-json:{source.channel}" + (f"#{number}" if number > 1 else ""),
            "channel": source.channel,
            "kind": "http-json",
        }
        try:
            await fetch_orders(source, pool, zone, os.environ)
        except FeedError as exc:
            return {**entry, "state": "stale", "reason": clean_line(str(exc)), "as_of": None}
        return {**entry, "state": "fresh", "reason": "", "as_of": now.astimezone(zone).isoformat()}

    try:
        return list(await asyncio.gather(*(one(s) for s in config.sources)))
    finally:
        await pool.aclose()


def planb_json(ctx: Context, readiness: ReadinessService) -> dict[str, Any]:
    """``status --json``'s ``planb``: the armed promotion, its state and readiness."""
    planb = PlanBService(ctx.config(), ctx.state(), clock=ctx.clock)
    switch = planb.switch()
    state = public_state(switch, switch.promotion) if switch.promotion else "inactive"
    return as_json(readiness.last, Catalog(ctx.lang), state)


def status_json(
    statuses: list[ChannelStatus], now: datetime, service: StatusService
) -> dict[str, Any]:
    zone = service.zone

    def when(at: datetime | None) -> str | None:
        return at.astimezone(zone).isoformat(timespec="seconds") if at else None

    return {
        "checked_at": when(now),
        "channels": [
            {
                "id": s.channel,
                "name": s.name,
                "live": s.live,
                "state": s.state.public.value,
                "source": s.source.value,
                "since": when(s.since),
                "reason": s.reason,
                "latency_ms": s.latency_ms,
                **({"declared_by": s.declaration.who} if s.declaration else {}),
                **({"suggestion": s.suggestion} if s.suggestion else {}),
            }
            for s in statuses
        ],
    }


def status_line(s: ChannelStatus, now: datetime, service: StatusService, t: Catalog) -> str:
    state = t(f"status.state_{s.state.value}")
    parts = [f"{s.name} ({s.channel})" + (" LIVE" if s.live else ""), state.upper()]
    parts.append(t(f"status.source_{s.source.value}"))
    if s.since is not None:
        ago = format_duration(now - s.since, t.lang)
        parts.append(t("status.since", clock=format_clock(s.since, service.zone), ago=ago))
    if s.declaration is not None:
        parts.append(t("status.declared_by", who=s.declaration.who))
    if s.reason:
        parts.append(s.reason)
    elif s.source.value == "none":
        parts.append(t("status.no_checks_hint"))
    if s.latency_ms is not None and s.state is not State.DOWN:
        parts.append(f"{s.latency_ms} ms")
    return "  ".join(parts)


# What a seller may type for each mark, in either language.
MARK_WORDS = {
    "down": "down",
    "mati": "down",
    "up": "up",
    "normal": "up",
    "aktif": "up",
    "clear": "clear",
    "hapus": "clear",
}


def mark_word(text: str) -> str:
    mark = MARK_WORDS.get(text.strip().casefold())
    if mark is None:
        raise argparse.ArgumentTypeError(
            f"{text!r}: choose down, up or clear (mati, normal, hapus)"
        )
    return mark


def run_mark(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config()
    channel = config.find_channel(args.channel)
    if channel is None:
        known = ", ".join(c.id for c in config.channels) or "none configured"
        raise CliError(f"{ctx.paths.config}: no channel {args.channel!r} (channels: {known})", 64)
    service = StatusService(config, ctx.state(), ctx.clock)
    try:
        status = service.declare(channel.id, args.state, args.reason)
    except StateError as exc:
        raise CliError(str(exc)) from None
    t = Catalog(ctx.lang)
    key = "status.marked_clear" if args.state == "clear" else "status.marked"
    print(t(key, name=status.name, state=t(f"status.state_{status.state.value}").upper()))
    return 0
