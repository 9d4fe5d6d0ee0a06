"""Plan B's readiness turning bad reaches the phone: the room's readiness check publishes it,
the notifier words it, once (not again while it stays bad)."""

from __future__ import annotations

from typing import Any

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import FixedClock
from liveguard.service.room import ControlRoom

CONFIG = """
[[channels]]
id = "tiktok"
live = true
[[promotions]]
id = "plan-b"
name = "Flash sale Shopee"
armed = true
  [[promotions.actions]]
  kind = "webhook"
  name = "Voucher"
  url = "https://hooks.example.com/start"
  headers = { Authorization = "Bearer ${HOOK_TOKEN_GONE}" }
[[notify]]
id = "staff"
kind = "ntfy"
url = "https://ntfy.sh/x"
language = "en"
"""


async def test_readiness_turning_bad_is_one_phone_message(
    home: StateHome, clock: FixedClock, monkeypatch: Any
) -> None:
    monkeypatch.delenv("HOOK_TOKEN_GONE", raising=False)  # set when loaded, gone since
    config = parse_config(CONFIG, "liveguard.toml", {"HOOK_TOKEN_GONE": "x"})
    room = ControlRoom(config, home, clock, "en", readiness_every=None)
    await room.check_readiness()
    await room.check_readiness()
    texts = [d.text for d in room.notifier._queue]
    assert len(texts) == 1
    assert texts[0].startswith('Plan B "Flash sale Shopee" is not ready: ')
    assert "HOOK_TOKEN_GONE" in texts[0]
