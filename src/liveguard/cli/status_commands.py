"""``liveguard status [--json]`` and ``liveguard mark CHANNEL up|down|clear [--reason]``."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from typing import Any

from liveguard.adapters.state_home import StateError
from liveguard.core.status import ChannelStatus, State
from liveguard.core.timekeeping import format_clock, format_duration
from liveguard.i18n import Catalog
from liveguard.service.status import StatusService, exit_code

from .context import CliError, Context

EXIT_UNKNOWN = 3


def register(sub: Any) -> None:
    status = sub.add_parser(
        "status",
        help="check every channel once and print its state "
        "(exit 0 all up, 1 degraded, 2 a live channel down, 3 unknown)",
    )
    status.add_argument("--json", action="store_true", help="print JSON (see interface.md)")
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
    try:
        statuses = asyncio.run(service.check_once())
    except StateError as exc:
        raise CliError(str(exc)) from None
    now = ctx.clock.now()
    if args.json:
        print(json.dumps(status_json(statuses, now, service), ensure_ascii=False))
    else:
        t = Catalog(ctx.lang)
        if not statuses:
            print(t("status.no_channels", path=str(ctx.paths.config)))
        for s in statuses:
            print(status_line(s, now, service, t))
    return exit_code(statuses) if statuses else EXIT_UNKNOWN


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
