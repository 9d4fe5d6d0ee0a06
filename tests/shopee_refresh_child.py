"""Child process for the crash test: refreshes the Shopee tokens over and over, printing a
line after each new pair is durable. Usage: python -m tests.shopee_refresh_child HOME API"""

from __future__ import annotations

import asyncio
import sys

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.order_store import OrderStore
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import SystemClock, load_zone
from liveguard.service.shopee import ShopeeSync
from tests.shopee_platform import ENV, shopee_config


async def main(home_dir: str, api: str) -> None:
    home = StateHome(Paths.resolve(home=home_dir)).open()
    zone = load_zone("Asia/Jakarta")
    source = parse_config(shopee_config(api), environ=ENV).shopee[0]
    pool = HttpPool(2)
    sync = ShopeeSync(source, home, SystemClock(), zone, OrderStore(home, zone), ENV, pool=pool)
    client = sync._client()
    n = 0
    while True:
        tokens = sync.store.load_tokens()
        assert tokens is not None
        await sync.refresh(client, tokens)
        n += 1
        print(n, flush=True)  # this pair is on disk


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
