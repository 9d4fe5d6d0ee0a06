"""``connect shopee`` without a server of our own: the signed authorization link, and the
exchange of what the seller pasted back for tokens, stored 0600 and never shown."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.shopee_api import ShopeeClient, ShopeeError, code_from_paste
from liveguard.adapters.shopee_store import ShopeeStore
from liveguard.adapters.state_home import StateError, StateHome
from liveguard.core.config import MissingEnvError, ShopeeSource, resolve_env
from liveguard.core.shopee import Tokens
from liveguard.core.text import NAME_MAX, clean_line
from liveguard.core.timekeeping import Clock

__all__ = ["ConnectError", "authorization_link", "connect"]


class ConnectError(Exception):
    """``connect shopee`` could not finish; one line, no secret."""


def _resolved(source: ShopeeSource, environ: Mapping[str, str]) -> tuple[str, str, str]:
    try:
        return (
            resolve_env(source.partner_id, environ).strip(),
            resolve_env(source.partner_key, environ),
            resolve_env(source.shop_id, environ).strip(),
        )
    except MissingEnvError as exc:
        raise ConnectError(str(exc)) from None


def authorization_link(
    source: ShopeeSource, environ: Mapping[str, str], clock: Clock, redirect: str
) -> str:
    """The signed link the seller opens (valid 5 minutes, like every Shopee timestamp)."""
    partner_id, key, _ = _resolved(source, environ)
    return ShopeeClient.link(source.api, partner_id, key, clock, redirect)


async def connect(
    source: ShopeeSource,
    home: StateHome,
    clock: Clock,
    environ: Mapping[str, str],
    pool: HttpPool,
    pasted: str,
    *,
    since: datetime | None = None,
) -> Tokens:
    """Exchange what the seller pasted for tokens, learn the shop's name and how long the
    authorization lasts, and store the tokens (0600, atomic). Nothing secret is returned
    to be shown: callers print the shop and the expiry times only."""
    partner_id, key, shop_id = _resolved(source, environ)
    try:
        code, pasted_shop = code_from_paste(pasted)
    except ValueError as exc:
        raise ConnectError(str(exc)) from None
    if pasted_shop and pasted_shop != shop_id:
        raise ConnectError(
            f"the shop that was authorized ({clean_line(pasted_shop, NAME_MAX)}) is not the "
            f"config's shop_id for {source.channel}"
        )
    client = ShopeeClient(
        pool, source.api, partner_id, key, clock, timeout=source.timeout.total_seconds()
    )
    try:
        tokens = await client.get_tokens(code, shop_id)
        name, ends = await client.shop_info(tokens)
    except ShopeeError as exc:
        raise ConnectError(str(exc)) from None
    tokens = replace(tokens, shop_name=name, auth_expires=ends)
    store = ShopeeStore(home, source.channel)
    try:
        await asyncio.to_thread(store.save_tokens, tokens)
        sync: dict[str, Any] = {"since": since.isoformat() if since else None}
        await asyncio.to_thread(store.save_sync, sync)
    except StateError as exc:
        raise ConnectError(str(exc)) from None
    return tokens
