"""A Shopee-shaped Open Platform (API v2) for the demo and the tests.

It answers the documented endpoints liveguard uses — the authorization page, token/get,
access_token/get, get_shop_info, get_order_list and get_order_detail — and checks every
request the way the platform does: the partner id, the signature over the documented base
string (computed here with ``hmac`` directly, not with liveguard's signing code), the
timestamp within 5 minutes of the platform's clock, and the access token. Knobs let a test
expire tokens, rate-limit, return platform errors or move the platform's clock.

Tokens are single-use in the way that matters: a refresh token is replaced by the refresh
that used it. The one exception is a repeat of the same refresh within ``refresh_grace``
seconds, which returns the same new pair (what a client that crashed before saving the
answer needs; see docs/shopee.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from liveguard.core.timekeeping import Clock, SystemClock

from .http import Request, Response

__all__ = ["ShopeeOrder", "ShopeePlatform"]

PUBLIC_PATHS = {
    "/api/v2/shop/auth_partner",
    "/api/v2/auth/token/get",
    "/api/v2/auth/access_token/get",
}
TIMESTAMP_VALID_S = 300
ACCESS_TTL_S = 4 * 3600
REFRESH_TTL_S = 30 * 86400
AUTH_TTL_S = 365 * 86400
MAX_PAGE_SIZE = 100
MAX_DETAIL = 50
MAX_WINDOW_S = 15 * 86400


@dataclass
class ShopeeOrder:
    order_sn: str
    create_time: int
    update_time: int
    total_amount: float
    order_status: str

    def detail(self, optional: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "order_sn": self.order_sn,
            "create_time": self.create_time,
            "update_time": self.update_time,
            "order_status": self.order_status,
            "region": "ID",
        }
        if "total_amount" in optional:  # only when asked for, as documented
            out["total_amount"] = self.total_amount
            out["currency"] = "IDR"
        return out


class _Refused(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


class ShopeePlatform:
    def __init__(
        self,
        partner_id: int,
        partner_key: str,
        shop_id: int,
        shop_name: str = "Toko Demo",
        *,
        clock: Clock | None = None,
        refresh_grace: float = 300.0,
    ) -> None:
        self.partner_id = partner_id
        self.partner_key = partner_key
        self.shop_id = shop_id
        self.shop_name = shop_name
        self.clock: Clock = clock or SystemClock()
        self.refresh_grace = refresh_grace
        self.skew_s = 0  # the platform's clock minus the clock it is given
        self.stuck_cursor = False  # a misbehaving platform: next_cursor never moves
        self.access_ttl_s = ACCESS_TTL_S
        self.refresh_ttl_s = REFRESH_TTL_S
        self.auth_expire_time = self._now() + AUTH_TTL_S
        self.calls: Counter[str] = Counter()
        self.refused: list[tuple[str, str]] = []  # (path, error) of every refused request
        self._lock = threading.Lock()
        self._codes: set[str] = set()
        self._access: dict[str, int] = {}  # token -> expires (Unix seconds)
        self._refresh: dict[str, int] = {}
        # old refresh token -> (used at, the pair it gave): a repeat within the grace
        self._rotated: dict[str, tuple[int, dict[str, Any]]] = {}
        self._orders: dict[str, ShopeeOrder] = {}
        self._rate_limited = 0
        self._errors: list[tuple[int, str, str]] = []

    # -- knobs ------------------------------------------------------------------------------
    def add_order(self, sn: str, create_time: int, amount: float, status: str) -> None:
        with self._lock:
            self._orders[sn] = ShopeeOrder(sn, create_time, self._now(), amount, status)

    def set_status(self, sn: str, status: str) -> None:
        with self._lock:
            order = self._orders[sn]
            order.order_status = status
            order.update_time = max(self._now(), order.update_time)

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access = dict.fromkeys(self._access, 0)

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh.clear()
            self._rotated.clear()

    def rate_limit(self, calls: int) -> None:
        """The next ``calls`` shop calls are refused as too many requests."""
        with self._lock:
            self._rate_limited = calls

    def fail(self, calls: int, error: str = "error_server", message: str = "Server busy") -> None:
        """The next ``calls`` shop calls answer a platform error."""
        with self._lock:
            self._errors += [(500, error, message)] * calls

    def authorize(self, link: str) -> str:
        """What the seller's browser does with the authorization link: log in, allow, and
        land on the redirect address (returned), or the platform's error as text."""
        parts = urlsplit(link)
        answer = self.reply(Request("GET", parts.path, parts.query, {}, b""))
        return answer.headers.get("Location") or answer.body.decode("utf-8", "replace")

    def orders(self) -> list[ShopeeOrder]:
        with self._lock:
            return list(self._orders.values())

    # -- the server -------------------------------------------------------------------------
    def reply(self, request: Request) -> Response:
        with self._lock:
            self.calls[request.path] += 1
            try:
                return self._route(request)
            except _Refused as exc:
                self.refused.append((request.path, exc.error))
                return Response.json(
                    {
                        "error": exc.error,
                        "message": exc.message,
                        "request_id": secrets.token_hex(8),
                    },
                    status=exc.status,
                )

    def _now(self) -> int:
        return int(self.clock.now().timestamp()) + self.skew_s

    def _route(self, request: Request) -> Response:
        query = {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
        path = request.path
        if path == "/api/v2/shop/auth_partner":
            self._verify(path, query, shop_call=False)
            return self._authorize(query)
        if path in PUBLIC_PATHS:
            if request.method != "POST":
                raise _Refused(400, "error_param", "use POST")
            self._verify(path, query, shop_call=False)
            body = self._body(request)
            if path == "/api/v2/auth/token/get":
                return self._token_get(body)
            return self._token_refresh(body)
        handlers = {
            "/api/v2/shop/get_shop_info": self._shop_info,
            "/api/v2/order/get_order_list": self._order_list,
            "/api/v2/order/get_order_detail": self._order_detail,
        }
        handler = handlers.get(path)
        if handler is None:
            raise _Refused(404, "error_not_found", f"no such api: {path}")
        self._verify(path, query, shop_call=True)
        if self._rate_limited > 0:
            self._rate_limited -= 1
            raise _Refused(429, "error_too_many_request", "Too many requests, try again later")
        if self._errors:
            status, error, message = self._errors.pop(0)
            raise _Refused(status, error, message)
        return Response.json({"error": "", "message": "", "response": handler(query)})

    def _verify(self, path: str, query: dict[str, str], *, shop_call: bool) -> None:
        if query.get("partner_id") != str(self.partner_id):
            raise _Refused(403, "error_auth", "Invalid partner_id")
        raw_ts = query.get("timestamp", "")
        if not raw_ts.isdigit():
            raise _Refused(400, "error_param", "Invalid timestamp")
        timestamp = int(raw_ts)
        base = f"{self.partner_id}{path}{timestamp}"
        if shop_call:
            base += f"{query.get('access_token', '')}{query.get('shop_id', '')}"
        expected = hmac.new(self.partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(query.get("sign", ""), expected):
            raise _Refused(403, "error_sign", "Wrong sign")
        if abs(self._now() - timestamp) > TIMESTAMP_VALID_S:
            raise _Refused(403, "error_param", "Invalid timestamp: expired or in the future")
        if not shop_call:
            return
        if query.get("shop_id") != str(self.shop_id):
            raise _Refused(403, "error_auth", "Invalid shop_id")
        if self._now() >= self.auth_expire_time:
            raise _Refused(403, "error_auth", "The shop authorization has expired")
        expires = self._access.get(query.get("access_token", ""))
        if expires is None or self._now() >= expires:
            raise _Refused(403, "invalid_access_token", "Invalid access_token")

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.body)
        except ValueError:
            raise _Refused(400, "error_param", "body is not JSON") from None
        if not isinstance(body, dict):
            raise _Refused(400, "error_param", "body is not an object")
        return body

    def _authorize(self, query: dict[str, str]) -> Response:
        """The seller logs in and allows: the platform sends the browser to ``redirect``."""
        redirect = query.get("redirect", "")
        if not redirect:
            raise _Refused(400, "error_param", "redirect is required")
        code = secrets.token_hex(16)
        self._codes.add(code)
        sep = "&" if "?" in redirect else "?"
        location = f"{redirect}{sep}{urlencode({'code': code, 'shop_id': self.shop_id})}"
        return Response(302, b"", headers={"Location": location})

    def _check_partner(self, body: dict[str, Any]) -> None:
        if body.get("partner_id") != self.partner_id or body.get("shop_id") != self.shop_id:
            raise _Refused(403, "error_auth", "partner_id or shop_id does not match")

    def _new_pair(self) -> dict[str, Any]:
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self._access[access] = self._now() + self.access_ttl_s
        self._refresh[refresh] = self._now() + self.refresh_ttl_s
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expire_in": self.access_ttl_s,
            "refresh_token_expire_in": self.refresh_ttl_s,
            "shop_id": self.shop_id,
            "partner_id": self.partner_id,
            "error": "",
            "message": "",
            "request_id": secrets.token_hex(8),
        }

    def _token_get(self, body: dict[str, Any]) -> Response:
        self._check_partner(body)
        code = body.get("code")
        if code not in self._codes:
            raise _Refused(403, "error_auth", "Invalid code")
        self._codes.discard(code)
        return Response.json(self._new_pair())

    def _token_refresh(self, body: dict[str, Any]) -> Response:
        self._check_partner(body)
        token = str(body.get("refresh_token", ""))
        now = self._now()
        rotated = self._rotated.get(token)
        if rotated is not None and now - rotated[0] <= self.refresh_grace:
            pair = rotated[1]
            self._access[pair["access_token"]] = now + self.access_ttl_s
            return Response.json(pair)
        expires = self._refresh.pop(token, None)
        if expires is None or now >= expires:
            raise _Refused(403, "error_auth", "Invalid refresh_token")
        pair = self._new_pair()
        self._rotated[token] = (now, pair)
        return Response.json(pair)

    def _shop_info(self, query: dict[str, str]) -> dict[str, Any]:
        return {
            "shop_name": self.shop_name,
            "region": "ID",
            "status": "NORMAL",
            "auth_time": self.auth_expire_time - AUTH_TTL_S,
            "expire_time": self.auth_expire_time,
        }

    def _order_list(self, query: dict[str, str]) -> dict[str, Any]:
        field = query.get("time_range_field", "")
        if field not in ("create_time", "update_time"):
            raise _Refused(
                400, "error_param", "time_range_field must be create_time or update_time"
            )
        try:
            lo, hi = int(query["time_from"]), int(query["time_to"])
            size = int(query.get("page_size", "0"))
            offset = int(query.get("cursor") or 0)
        except (KeyError, ValueError):
            raise _Refused(400, "error_param", "time_from, time_to, page_size, cursor") from None
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise _Refused(400, "error_param", "page_size must be 1-100")
        if hi < lo or hi - lo > MAX_WINDOW_S:
            raise _Refused(400, "error_param", "time range must be within 15 days")
        found = sorted(
            (o for o in self._orders.values() if lo <= getattr(o, field) <= hi),
            key=lambda o: (getattr(o, field), o.order_sn),
        )
        page = found[offset : offset + size]
        more = offset + size < len(found)
        return {
            "more": more,
            "next_cursor": ("100" if self.stuck_cursor else str(offset + size)) if more else "",
            "order_list": [{"order_sn": o.order_sn} for o in page],
        }

    def _order_detail(self, query: dict[str, str]) -> dict[str, Any]:
        sns = [s for s in query.get("order_sn_list", "").split(",") if s]
        if not 1 <= len(sns) <= MAX_DETAIL:
            raise _Refused(400, "error_param", "order_sn_list must hold 1-50 order numbers")
        optional = set(query.get("response_optional_fields", "").split(","))
        found = [self._orders[s].detail(optional) for s in sns if s in self._orders]
        return {"order_list": found}
