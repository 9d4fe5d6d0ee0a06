"""The Shopee Open Platform (API v2) over the shared pool: signed calls, read replies whole.

Every failure becomes a :class:`ShopeeError` whose ``kind`` says what the seller should
know (rate limited, clock skew, authorization, platform error, network) and whose text
never holds a secret: no URL (it carries the access token and the signature), no token,
no partner key. What the platform says is cleaned where it enters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from liveguard.core.shopee import DETAIL_BATCH, LIST_PAGE_SIZE, Tokens, sign
from liveguard.core.text import NAME_MAX, clean_line
from liveguard.core.timekeeping import Clock

from .http_pool import DeadlineExceeded, HttpPool, PoolBusy
from .probes import describe_http_error

__all__ = [
    "AUTH_PATH",
    "ErrorKind",
    "OrderPage",
    "ShopeeClient",
    "ShopeeError",
    "code_from_paste",
]

AUTH_PATH = "/api/v2/shop/auth_partner"
TOKEN_PATH = "/api/v2/auth/token/get"
REFRESH_PATH = "/api/v2/auth/access_token/get"
SHOP_INFO_PATH = "/api/v2/shop/get_shop_info"
ORDER_LIST_PATH = "/api/v2/order/get_order_list"
ORDER_DETAIL_PATH = "/api/v2/order/get_order_detail"
MAX_REPLY_BYTES = 1_000_000  # a page of 100 order numbers or 50 details is ~30 kB

ErrorKind = Literal["network", "rate_limit", "clock", "auth", "token", "platform", "reply"]


class ShopeeError(Exception):
    """One call failed; ``kind`` decides what happens next, ``str()`` is safe to show."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class OrderPage:
    order_sns: list[str]
    more: bool
    next_cursor: str


def code_from_paste(text: str) -> tuple[str, str]:
    """(code, shop_id) from what the seller pasted: the whole redirected address, or the
    code alone (shop_id then ""). Raises ValueError with a readable reason."""
    text = text.strip()
    if not text:
        raise ValueError("nothing was pasted")
    if "code=" in text or "://" in text:
        query = parse_qs(urlsplit(text).query or text.partition("?")[2] or text)
        code = (query.get("code") or [""])[-1].strip()
        shop = (query.get("shop_id") or [""])[-1].strip()
        if not code:
            raise ValueError("the address has no code=… in it")
        return code, shop
    if not text.isalnum() or len(text) > 128:
        raise ValueError("that does not look like a Shopee authorization code")
    return text, ""


class ShopeeClient:
    def __init__(
        self,
        pool: HttpPool,
        api: str,
        partner_id: str,
        partner_key: str,
        clock: Clock,
        *,
        timeout: float = 10.0,
    ) -> None:
        if not partner_id.strip().isdigit():
            raise ShopeeError("auth", "partner_id must be a number")
        self.pool = pool
        self.api = api.rstrip("/")
        self.partner_id = int(partner_id)
        self._key = partner_key
        self.clock = clock
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"ShopeeClient(api={self.api!r}, partner_id={self.partner_id})"

    # -- signing -----------------------------------------------------------------------------
    def _common(self, path: str, tokens: Tokens | None = None) -> dict[str, Any]:
        ts = int(self.clock.now().timestamp())
        if tokens is None:
            return {
                "partner_id": self.partner_id,
                "timestamp": ts,
                "sign": sign(self._key, self.partner_id, path, ts),
            }
        return {
            "partner_id": self.partner_id,
            "timestamp": ts,
            "access_token": tokens.access_token,
            "shop_id": tokens.shop_id,
            "sign": sign(self._key, self.partner_id, path, ts, tokens.access_token, tokens.shop_id),
        }

    def auth_url(self, redirect: str) -> str:
        """The link the seller opens to authorize liveguard for their shop."""
        return self.link(self.api, str(self.partner_id), self._key, self.clock, redirect)

    @staticmethod
    def link(api: str, partner_id: str, partner_key: str, clock: Clock, redirect: str) -> str:
        """``auth_url`` without a pool (the link is only printed)."""
        if not partner_id.strip().isdigit():
            raise ShopeeError("auth", "partner_id must be a number")
        ts = int(clock.now().timestamp())
        query = {
            "partner_id": int(partner_id),
            "timestamp": ts,
            "sign": sign(partner_key, int(partner_id), AUTH_PATH, ts),
            "redirect": redirect,
        }
        return f"{api.rstrip('/')}{AUTH_PATH}?{urlencode(query)}"

    # -- calls -------------------------------------------------------------------------------
    async def _call(
        self,
        method: str,
        path: str,
        query: dict[str, Any],
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        url = f"{self.api}{path}?{urlencode(query)}"
        content = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            reply = await self.pool.request(
                method,
                url,
                deadline=self.timeout,
                headers=headers,
                content=content,
                max_body=MAX_REPLY_BYTES,
            )
        except DeadlineExceeded as exc:
            raise ShopeeError("network", f"Shopee: {exc}") from None
        except PoolBusy as exc:
            raise ShopeeError("network", f"liveguard busy: {exc}") from None
        except httpx.HTTPError as exc:
            said = describe_http_error(exc)
            for secret in (url, str(query.get("access_token", "")), self._key):
                if secret:  # an error quoting the address would quote the token and signature
                    said = said.replace(secret, "…")
            raise ShopeeError("network", f"Shopee: {said}") from None
        if reply.truncated:
            raise ShopeeError("reply", f"Shopee {path}: reply too large")
        try:
            data = json.loads(reply.body) if reply.body else {}
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            if reply.status == 429:
                raise ShopeeError("rate_limit", "Shopee: too many requests (status 429)")
            raise ShopeeError("reply", f"Shopee {path}: status {reply.status}, reply is not JSON")
        error = clean_line(data.get("error") or "", NAME_MAX)
        if reply.status == 429 or "too_many" in error or "rate_limit" in error:
            raise ShopeeError("rate_limit", f"Shopee: too many requests ({error or 429})")
        if error or not 200 <= reply.status < 300:
            raise _platform_error(path, reply.status, error, clean_line(data.get("message") or ""))
        return data

    async def get_tokens(self, code: str, shop_id: str) -> Tokens:
        """Exchange the single-use authorization code for the first token pair."""
        if not shop_id.isdigit():
            raise ShopeeError("auth", f"shop id must be a number, not {clean_line(shop_id)!r}")
        body = {"code": code, "shop_id": int(shop_id), "partner_id": self.partner_id}
        data = await self._call("POST", TOKEN_PATH, self._common(TOKEN_PATH), body)
        return self._tokens(data, shop_id, None)

    async def refresh(self, tokens: Tokens) -> Tokens:
        body = {
            "refresh_token": tokens.refresh_token,
            "shop_id": int(tokens.shop_id),
            "partner_id": self.partner_id,
        }
        data = await self._call("POST", REFRESH_PATH, self._common(REFRESH_PATH), body)
        return self._tokens(data, tokens.shop_id, tokens)

    def _tokens(self, data: dict[str, Any], shop_id: str, before: Tokens | None) -> Tokens:
        access, refresh = data.get("access_token"), data.get("refresh_token")
        expire_in = data.get("expire_in")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            raise ShopeeError("reply", "Shopee: the token reply has no tokens")
        if not isinstance(expire_in, int) or isinstance(expire_in, bool) or expire_in <= 0:
            raise ShopeeError("reply", "Shopee: the token reply has no expire_in")
        refresh_in = data.get("refresh_token_expire_in")
        if not isinstance(refresh_in, int) or isinstance(refresh_in, bool) or refresh_in <= 0:
            refresh_in = 30 * 86400  # documented: a refresh token lives 30 days
        now = self.clock.now()
        return Tokens(
            shop_id=shop_id,
            access_token=access,
            refresh_token=refresh,
            access_expires=now + timedelta(seconds=expire_in),
            refresh_expires=now + timedelta(seconds=refresh_in),
            auth_expires=before.auth_expires if before else None,
            shop_name=before.shop_name if before else "",
        )

    async def shop_info(self, tokens: Tokens) -> tuple[str, datetime | None]:
        """The shop's name and when its authorization ends."""
        data = await self._call("GET", SHOP_INFO_PATH, self._common(SHOP_INFO_PATH, tokens))
        info = data.get("response") if isinstance(data.get("response"), dict) else data
        assert isinstance(info, dict)
        name = clean_line(info.get("shop_name") or "", NAME_MAX)
        expire = info.get("expire_time")
        ends = (
            datetime.fromtimestamp(expire, UTC)
            if isinstance(expire, int) and not isinstance(expire, bool) and expire > 0
            else None
        )
        return name, ends

    async def order_list(self, tokens: Tokens, lo: int, hi: int, cursor: str) -> OrderPage:
        query = {
            **self._common(ORDER_LIST_PATH, tokens),
            "time_range_field": "update_time",
            "time_from": lo,
            "time_to": hi,
            "page_size": LIST_PAGE_SIZE,
            "cursor": cursor,
        }
        data = await self._call("GET", ORDER_LIST_PATH, query)
        response = _response(data, ORDER_LIST_PATH)
        items = response.get("order_list") or []
        if not isinstance(items, list):
            raise ShopeeError("reply", f"Shopee {ORDER_LIST_PATH}: order_list is not a list")
        sns = []
        for item in items:
            sn = item.get("order_sn") if isinstance(item, dict) else None
            if not isinstance(sn, str) or not sn:
                raise ShopeeError("reply", f"Shopee {ORDER_LIST_PATH}: an order has no order_sn")
            sns.append(clean_line(sn, NAME_MAX))
        more = response.get("more") is True
        next_cursor = response.get("next_cursor") or ""
        if more and (not isinstance(next_cursor, str | int) or next_cursor == ""):
            raise ShopeeError("reply", f"Shopee {ORDER_LIST_PATH}: more pages but no cursor")
        return OrderPage(sns, more, str(next_cursor) if more else "")

    async def order_details(self, tokens: Tokens, sns: list[str]) -> list[dict[str, Any]]:
        if not 1 <= len(sns) <= DETAIL_BATCH:
            raise ValueError(f"get_order_detail takes 1-{DETAIL_BATCH} order numbers")
        query = {
            **self._common(ORDER_DETAIL_PATH, tokens),
            "order_sn_list": ",".join(sns),
            "response_optional_fields": "total_amount",
        }
        data = await self._call("GET", ORDER_DETAIL_PATH, query)
        items = _response(data, ORDER_DETAIL_PATH).get("order_list") or []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ShopeeError("reply", f"Shopee {ORDER_DETAIL_PATH}: order_list is not a list")
        return items


def _response(data: dict[str, Any], path: str) -> dict[str, Any]:
    response = data.get("response")
    if not isinstance(response, dict):
        raise ShopeeError("reply", f"Shopee {path}: the reply has no response")
    return response


def _platform_error(path: str, status: int, error: str, message: str) -> ShopeeError:
    said = f"{error}: {message}" if error and message else error or message or f"status {status}"
    if "timestamp" in message.lower():
        return ShopeeError("clock", f"Shopee refused the time (clock skew?): {said}")
    if error == "invalid_access_token":
        return ShopeeError("token", f"Shopee: {said}")
    if error in ("error_auth", "error_sign", "error_permission") or status in (401, 403):
        return ShopeeError("auth", f"Shopee {path}: {said}")
    return ShopeeError("platform", f"Shopee {path}: {said}")
