"""The demo shop's ``liveguard.toml``: ordinary config syntax pointing at the loopback servers.

The control room reads it like any seller's config; nothing in it says "demo" to the app.
Durations that pace the story (probe rhythm, grace, auto-activation) are divided by the
story's speed, never below what the config allows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .shop import CHANNELS, FLASH_SALE_END, FLASH_SALE_START, WHATSAPP_BROADCAST

__all__ = [
    "DEMO_PARTNER_ID",
    "DEMO_PARTNER_KEY",
    "DEMO_SHOP_ID",
    "PHONE_CHAT",
    "PHONE_TOKEN",
    "DemoUrls",
    "demo_config_text",
    "scaled",
]

CHECK_EVERY_S = 2.0
FEED_EVERY_S = 2.0
GRACE_S = 5.0
AUTO_ACTIVATE_S = 60.0
MIN_EVERY_S = 1.0  # the config's floor for `every`
# The demo platform's partner app and shop: not secrets, so written into the config as they are
# (a seller's real partner key belongs in the environment: partner_key = "${SHOPEE_PARTNER_KEY}").
DEMO_PARTNER_ID = 1000017
DEMO_PARTNER_KEY = "demo-partner-key-not-a-secret"
DEMO_SHOP_ID = 770017
PHONE_TOKEN = "100200:demo-phone"  # the demo's loopback bot: not a secret
PHONE_CHAT = "62812000111"
BROADCAST_TEXT = (
    "Halo kak! Live TikTok kami sedang off. Pakai voucher LIVEDOWN20 di Shopee ya, "
    "diskon 20% malam ini saja."
)


@dataclass(frozen=True)
class DemoUrls:
    status: str  # base URL of the status server (live endpoints and the status page)
    feed: str  # base URL of the order feed server
    receiver: str  # base URL of the webhook receiver
    shopee: str = ""  # base URL of the Shopee-shaped Open Platform ("" = a feed for Shopee too)
    phone: str = ""  # base URL of the Bot API server (the demo's phone)


def scaled(seconds: float, speed: float, floor: float = 0.0) -> str:
    """``seconds`` of story pace at ``speed``, as a config duration (``1m``, ``2s``, ``1500ms``)."""
    ms = round(max(floor, seconds / speed) * 1000)
    if ms and ms % 60_000 == 0:
        return f"{ms // 60_000}m"
    if ms % 1000 == 0:
        return f"{ms // 1000}s"
    return f"{ms}ms"


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a TOML basic string is a JSON string


def demo_config_text(urls: DemoUrls, speed: float = 1.0) -> str:
    every = scaled(CHECK_EVERY_S, speed, MIN_EVERY_S)
    lines = [
        "# liveguard demo shop: every URL below is a loopback server started by `liveguard demo`.",
        'shop = "Toko Demo"',
        'timezone = "Asia/Jakarta"',
        "",
        "[alerts]",
        "failures_before_down = 3",
        "successes_before_up = 2",
        f'auto_activate_after = "{scaled(AUTO_ACTIVATE_S, speed, 1.0)}"',
    ]
    for channel in CHANNELS:
        lines += [
            "",
            "[[channels]]",
            f"id = {_q(channel.id)}",
            f"name = {_q(channel.name)}",
            f"live = {'true' if channel.live else 'false'}",
        ]
        if not channel.live:
            continue
        lines += [
            "",
            "  [[channels.checks]]",
            '  kind = "http"',
            f"  url = {_q(urls.status + '/live/' + channel.id)}",
            '  expect = ["status == 200", "body.live.enabled == true", "response_time < 3000"]',
            f'  every = "{every}"',
            '  timeout = "2s"',
            "",
            "  [[channels.checks]]",
            '  kind = "statuspage"',
            f"  url = {_q(urls.status)}",
            f"  component = {_q(channel.component)}",
            f'  every = "{every}"',
            '  timeout = "2s"',
        ]
    for channel in CHANNELS:
        if channel.id == "shopee" and urls.shopee:
            lines += [
                "",
                "[[sources]]  # Shopee's own Open Platform API (see docs/shopee.md)",
                'kind = "shopee"',
                'channel = "shopee"',
                f'partner_id = "{DEMO_PARTNER_ID}"',
                f"partner_key = {_q(DEMO_PARTNER_KEY)}",
                f'shop_id = "{DEMO_SHOP_ID}"',
                f"api = {_q(urls.shopee)}",
                f'every = "{scaled(FEED_EVERY_S, speed, MIN_EVERY_S)}"',
                'timeout = "2s"',
            ]
            continue
        lines += [
            "",
            "[[sources]]",
            'kind = "http-json"',
            f"channel = {_q(channel.id)}",
            f"url = {_q(urls.feed + '/orders/' + channel.id)}",
            f'every = "{scaled(FEED_EVERY_S, speed, MIN_EVERY_S)}"',
            'timeout = "2s"',
            'items = "data.orders"',
            'fields = { id = "order_sn", created = "create_time", amount = "total_amount", '
            'status = "order_status" }',
        ]
    lines += [
        "",
        "[[promotions]]",
        'id = "plan-b"',
        'name = "Plan B: Shopee flash sale + WhatsApp broadcast"',
        'channel = "tiktok"',
        "armed = true",
        f'grace = "{scaled(GRACE_S, speed)}"',
        "",
        "  [[promotions.actions]]",
        '  kind = "webhook"',
        '  name = "Shopee flash sale"',
        f"  url = {_q(urls.receiver + FLASH_SALE_START)}",
        '  body = { voucher = "LIVEDOWN20", discount = 20, reason = "{reason}", '
        'activation = "{activation_id}" }',
        f"  undo = {{ url = {_q(urls.receiver + FLASH_SALE_END)}, "
        'body = { voucher = "LIVEDOWN20", activation = "{activation_id}" } }',
        "",
        "  [[promotions.actions]]",
        '  kind = "webhook"',
        '  name = "WhatsApp broadcast"',
        f"  url = {_q(urls.receiver + WHATSAPP_BROADCAST)}",
        f'  body = {{ group = "Pelanggan setia", text = {_q(BROADCAST_TEXT)} }}',
        "",
        "  [[promotions.actions]]",
        '  kind = "message"',
        '  name = "Text for Instagram and WhatsApp status"',
        f"  text = {_q(BROADCAST_TEXT)}",
        "",
        "  [[promotions.actions]]",
        '  kind = "link"',
        '  name = "Flash sale page"',
        f"  url = {_q(urls.receiver + '/')}",
        "",
        "  [[promotions.actions]]",
        '  kind = "checklist"',
        '  steps = ["Mulai Shopee Live", "Posting story Instagram", "Pasang status WhatsApp"]',
        "",
    ]
    if urls.phone:
        lines += [
            "[[notify]]",
            'id = "seller-phone"',
            'kind = "telegram"',
            f"token = {_q(PHONE_TOKEN)}",
            f'chats = ["{PHONE_CHAT}"]',
            "commands = true",
            f"api = {_q(urls.phone)}",
            "",
        ]
    return "\n".join(lines)
