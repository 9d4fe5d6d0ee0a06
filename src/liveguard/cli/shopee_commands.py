"""``liveguard connect shopee``: authorize liveguard for the seller's own Shopee shop, with
no server of our own: the seller opens a signed link, allows, and pastes back the address
the browser lands on. Also the Shopee lines of ``doctor`` and ``status --json``."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.shopee_store import ShopeeStore
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Config, ShopeeSource
from liveguard.core.timekeeping import Clock, day_bounds_utc, format_clock, load_zone, local_day
from liveguard.i18n import Catalog
from liveguard.service.shopee import authorization_end, source_view_from_disk
from liveguard.service.shopee_connect import ConnectError, authorization_link, connect

from .context import EXIT_USAGE, CliError, Context

DEFAULT_REDIRECT = "https://localhost/liveguard-shopee"
SINCE_MAX_DAYS = 30


def register(sub: Any) -> None:
    cmd = sub.add_parser("connect", help="authorize liveguard for the seller's own Shopee shop")
    cmd.add_argument("platform", choices=["shopee"], help="the marketplace (shopee)")
    cmd.add_argument("--channel", metavar="ID", help="which shopee source (when there are several)")
    cmd.add_argument(
        "--redirect",
        default=DEFAULT_REDIRECT,
        metavar="URL",
        help=f"where Shopee sends the browser after allowing (default {DEFAULT_REDIRECT})",
    )
    cmd.add_argument(
        "--since",
        metavar="YYYY-MM-DD",
        help="first sync reads orders updated since this day (default: today only)",
    )
    cmd.add_argument(
        "--code", metavar="ADDRESS", help="the redirected address or code (default: ask)"
    )
    cmd.set_defaults(func=run_connect)


def pick_source(config: Config, channel: str | None, where: str, t: Catalog) -> ShopeeSource:
    sources = [s for s in config.shopee if channel in (None, s.channel)]
    if not sources:
        raise CliError(t("shopee.no_source", path=where))
    if len(sources) > 1:
        channels = ", ".join(s.channel for s in sources)
        raise CliError(t("shopee.which_source", path=where, channels=channels), EXIT_USAGE)
    return sources[0]


def run_connect(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config()
    t = Catalog(ctx.lang)
    source = pick_source(config, args.channel, str(ctx.paths.config), t)
    zone = load_zone(config.timezone)
    since = _since(args.since, ctx, zone, t)
    try:
        link = authorization_link(source, os.environ, ctx.clock, args.redirect)
    except ConnectError as exc:
        raise CliError(str(exc)) from None
    pasted = args.code
    if pasted is None:
        print(t("shopee.connect_open"))
        print(link)
        print(t("shopee.connect_paste", redirect=args.redirect))
        try:
            pasted = input(t("shopee.connect_prompt"))
        except EOFError:
            pasted = ""
    if not pasted.strip():
        raise CliError(t("shopee.connect_nothing"))
    home = ctx.state()
    proxy = config.network.use_env_proxy
    tokens = asyncio.run(_connect(source, home, ctx.clock, pasted, since, proxy))
    store = ShopeeStore(home, source.channel)
    print(
        t(
            "shopee.connected",
            shop=tokens.shop_name or "?",
            shop_id=tokens.shop_id,
            channel=source.channel,
        )
    )
    print(
        t(
            "shopee.connected_times",
            access=_when(tokens.access_expires, zone),
            ends=_when(authorization_end(tokens), zone),
            path=str(store.tokens_path),
        )
    )
    if since is not None:
        print(t("shopee.connected_since", since=_when(since, zone)))
    return 0


async def _connect(
    source: ShopeeSource,
    home: StateHome,
    clock: Clock,
    pasted: str,
    since: datetime | None,
    use_env_proxy: bool = False,
) -> Any:
    pool = HttpPool(2, use_env_proxy=use_env_proxy)
    try:
        return await connect(source, home, clock, os.environ, pool, pasted, since=since)
    except ConnectError as exc:
        raise CliError(str(exc)) from None
    finally:
        await pool.aclose()


def connect_with(
    config: Config, home: StateHome, clock: Clock, authorize: Callable[[str], str]
) -> None:
    """Connect every shopee source the way `connect shopee` does, with ``authorize`` standing
    in for the seller's browser (the demo's platform): same link, same exchange, same file."""
    for source in config.shopee:
        link = authorization_link(source, os.environ, clock, DEFAULT_REDIRECT)
        proxy = config.network.use_env_proxy
        asyncio.run(_connect(source, home, clock, authorize(link), None, proxy))


def _since(value: str | None, ctx: Context, zone: Any, t: Catalog) -> datetime | None:
    if value is None:
        return None
    today = local_day(ctx.clock.now(), zone)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not today - timedelta(days=SINCE_MAX_DAYS) <= day <= today:
        raise CliError(t("shopee.bad_since", value=value), EXIT_USAGE)
    return day_bounds_utc(day, zone)[0]


def _when(at: datetime, zone: Any) -> str:
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d} {format_clock(at, zone)}"


# -- for status and doctor ------------------------------------------------------------------
def sources_json(config: Config, home: StateHome, now: datetime) -> list[dict[str, Any]]:
    zone = load_zone(config.timezone)
    return [source_view_from_disk(s, home, now, zone).as_json(zone) for s in config.shopee]


def source_lines(config: Config, home: StateHome, now: datetime, t: Catalog) -> list[str]:
    zone = load_zone(config.timezone)
    out = []
    for source in config.shopee:
        view = source_view_from_disk(source, home, now, zone)
        state = t(f"shopee.state_{'fresh' if view.state == 'fresh' else 'stale'}")
        when = format_clock(view.as_of, zone) if view.as_of else t("shopee.never")
        out.append(t("shopee.status_line", channel=source.channel, state=state, when=when))
        if view.reason:
            out.append(f"  {view.reason}")
    return out


def doctor_lines(config: Config, home: StateHome, now: datetime) -> list[tuple[bool | None, str]]:
    """(ok, detail) per shopee source: False when syncing cannot work or is about to stop."""
    zone = load_zone(config.timezone)
    out: list[tuple[bool | None, str]] = []
    for source in config.shopee:
        view = source_view_from_disk(source, home, now, zone)
        name = f"{source.channel}"
        if view.auth_ends is None or view.connect_by is None:
            out.append((False, f"{name}: {view.reason}"))
            continue
        ends = _when(view.auth_ends, zone)
        access = _when(view.access_expires, zone) if view.access_expires else "?"
        times = f"access until {access}, authorization ends {ends}"
        shop = f"shop {view.shop_name}: " if view.shop_name else ""
        by = _when(view.connect_by, zone)
        if view.connect_by <= now:
            out.append((False, f"{name}: {shop}access ended {by}; connect again"))
        elif view.connect_by - now <= timedelta(days=14):
            out.append((False, f"{name}: {shop}access ends {by}: run `liveguard connect shopee`"))
        else:
            out.append((True, f"{name}: {shop}{times}"))
        if view.reason:
            out.append((None, f"{name}: {view.state}: {view.reason}"))
    return out
