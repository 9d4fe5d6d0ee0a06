"""The ``http-json`` order feed: one GET through the shared pool, a JSON list of orders back.

A reply is taken whole or not at all: a status other than 2xx, a body that is not JSON
(garbage, a page cut short), or any order that cannot be read makes the fetch fail with one
readable reason, and the caller keeps what it already knew (the feed shows as stale).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

import httpx

from liveguard.core.bounds import ORDER_ID_MAX, ORDER_STATUS_MAX, bounded_text
from liveguard.core.config import (
    HeaderValueError,
    MissingEnvError,
    OrderSource,
    resolve_env,
    resolve_headers,
)
from liveguard.core.money import AmountError, parse_amount
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.parsing import DateError, classify_status, parse_datetime
from liveguard.core.text import clean_line

from .http_pool import DeadlineExceeded, HttpPool, PoolBusy
from .probes import describe_http_error

__all__ = ["FeedError", "fetch_orders", "parse_feed"]

DEFAULT_FIELDS = {"id": "id", "created": "created", "amount": "amount", "status": "status"}
# Epoch seconds between 2001 and 2286: a number in a time field in that range is a Unix time.
_EPOCH_MIN, _EPOCH_MAX = 1_000_000_000, 9_999_999_999
# One reply may bring at most this much (docs/bounds.md). Past it the reply is refused whole:
# the feed turns stale with the reason and nothing is stored.
MAX_FEED_ORDERS = 20_000  # four busy days of a big seller
MAX_FEED_DAYS = 8  # local days one reply may touch: today and last week


class FeedError(Exception):
    """Why a fetch gave nothing usable, in one line (never holds a secret). It may quote
    what the feed sent, so it is cleaned here, where that text enters."""

    def __init__(self, message: str) -> None:
        super().__init__(clean_line(message))


async def fetch_orders(
    source: OrderSource, pool: HttpPool, zone: tzinfo, environ: Mapping[str, str]
) -> list[Order]:
    try:
        url = resolve_env(source.url, environ)
        headers = resolve_headers(source.headers, environ)
    except (MissingEnvError, HeaderValueError) as exc:
        raise FeedError(str(exc)) from None
    headers.setdefault("Accept", "application/json")
    try:
        reply = await pool.request(
            "GET", url, deadline=source.timeout.total_seconds(), headers=headers
        )
    except DeadlineExceeded as exc:
        raise FeedError(str(exc)) from None
    except PoolBusy as exc:
        raise FeedError(f"liveguard busy: {exc}") from None
    except httpx.HTTPError as exc:
        raise FeedError(f"cannot fetch: {describe_http_error(exc)}") from None
    if not 200 <= reply.status < 300:
        raise FeedError(f"status {reply.status} (expected 2xx)")
    if reply.truncated:
        raise FeedError("reply too large")
    # A page of hundreds of orders takes milliseconds to read: not on the event loop.
    return await asyncio.to_thread(parse_feed, reply.body, source, zone)


def parse_feed(body: bytes, source: OrderSource, zone: tzinfo) -> list[Order]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise FeedError(f"reply is not JSON ({len(body)} bytes)") from None
    items = _at_path(data, source.items)
    if not isinstance(items, list):
        where = f" at {source.items!r}" if source.items else ""
        raise FeedError(f"reply has no list of orders{where}")
    if len(items) > MAX_FEED_ORDERS:
        raise FeedError(
            f"reply has {len(items)} orders (at most {MAX_FEED_ORDERS}); nothing stored"
        )
    fields = {**DEFAULT_FIELDS, **source.fields}
    orders = [_order(i, item, fields, source.channel, zone) for i, item in enumerate(items)]
    days = {o.created.astimezone(zone).date() for o in orders}
    if len(days) > MAX_FEED_DAYS:
        raise FeedError(f"reply touches {len(days)} days (at most {MAX_FEED_DAYS}); nothing stored")
    return orders


def _at_path(data: Any, path: str) -> Any:
    for part in filter(None, path.split(".")):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _order(index: int, item: Any, fields: dict[str, str], channel: str, zone: tzinfo) -> Order:
    where = f"order {index + 1}"
    if not isinstance(item, dict):
        raise FeedError(f"{where}: not an object")

    def get(key: str, required: bool = True) -> Any:
        name = fields[key]
        value = item.get(name)
        if required and value in (None, ""):
            raise FeedError(f"{where}: missing {name!r}")
        return value

    order_id = get("id")
    if not isinstance(order_id, str | int) or isinstance(order_id, bool):
        raise FeedError(f"{where}: {fields['id']}: not an id: {bounded_text(repr(order_id), 60)}")
    if len(str(order_id)) > ORDER_ID_MAX:
        raise FeedError(f"{where}: {fields['id']}: longer than {ORDER_ID_MAX} characters")
    created_raw = get("created")
    try:
        if isinstance(created_raw, int | float) and _EPOCH_MIN <= created_raw <= _EPOCH_MAX:
            created = datetime.fromtimestamp(created_raw, UTC)
        else:
            created = parse_datetime(created_raw, zone)
    except DateError as exc:
        raise FeedError(f"{where}: {fields['created']}: {exc}") from None
    status_raw = get("status", required=False)
    status = classify_status(str(status_raw)) if status_raw not in (None, "") else OrderStatus.PAID
    amount_raw = get("amount", required=status is OrderStatus.PAID)
    if not isinstance(amount_raw, str | int | float | None):
        raise FeedError(f"{where}: {fields['amount']}: not a number: {amount_raw!r}")
    try:
        amount = 0 if amount_raw in (None, "") else parse_amount(amount_raw)
    except AmountError as exc:
        raise FeedError(f"{where}: {fields['amount']}: {exc}") from None
    raw_status = bounded_text(str(status_raw or ""), ORDER_STATUS_MAX)
    return Order(channel, str(order_id), created, amount, status, raw_status, "feed")
