"""A bad night on the network, on loopback: for tests/test_network_faults.py and
benchmarks/ui_stall.py.

Every channel's check meets one fault (refused, reset mid-body, hang, drip, TLS failure,
DNS failure), the order feed drips, and the armed Plan B webhook gets a 429 storm with
``Retry-After``. ``StallWatch`` measures how late the event loop wakes a 5 ms sleeper: the
largest lateness is the longest the screen could not answer a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from liveguard.adapters.config_file import parse_config
from liveguard.core.config import Alerts, Channel, Check, Config, OrderSource
from tests.servers import LoopbackServer, Request, Responder, closed_port, drip, hang, reply
from tests.servers import self_signed_tls as make_tls

DNS_FAILURE_URL = "http://liveguard-torture.invalid/live"
TICK_S = 0.005


def reset_mid_body() -> Responder:
    """Headers and half a body, then a TCP reset (SO_LINGER 0) instead of the rest."""

    async def respond(req: Request, writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n")
        writer.write(b'{"live": {"enabled": tr')
        await writer.drain()
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    return respond


@dataclass
class FaultyNetwork:
    plain: LoopbackServer
    tls: LoopbackServer | None
    refused_port: int

    def urls(self) -> dict[str, str]:
        out = {
            "refused": f"http://127.0.0.1:{self.refused_port}/live",
            "reset": self.plain.url("/reset"),
            "hang": self.plain.url("/hang"),
            "drip": self.plain.url("/drip"),
            "dns": DNS_FAILURE_URL,
        }
        if self.tls is not None:
            out["tls"] = self.tls.url("/live")
        return out


@contextlib.contextmanager
def faulty_network(folder: Path) -> Iterator[FaultyNetwork]:
    """Started servers; the TLS one is left out when openssl is not installed."""
    tls = make_tls(folder / "tls")
    with contextlib.ExitStack() as stack:
        plain = stack.enter_context(LoopbackServer())
        plain.route("/reset", reset_mid_body())
        plain.route("/hang", hang())
        plain.route("/drip", drip(every=0.05))
        plain.route("/hook", reply(429, "slow down", headers={"Retry-After": "1"}))
        plain.route("/undo", reply(200))
        secure = None
        if tls is not None:
            secure = stack.enter_context(LoopbackServer(tls=tls.context))
            secure.route("/live", reply(200, json={"live": {"enabled": True}}))
        yield FaultyNetwork(plain, secure, closed_port())


PLAN_B = """
[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true

[[promotions]]
id = "plan-b"
name = "Plan B"
armed = true
channel = "tiktok"
grace = "0s"

  [[promotions.actions]]
  kind = "webhook"
  name = "Flash sale"
  url = "{hook}"
  timeout = "1s"
  undo = {{ url = "{undo}" }}
"""


def faulty_config(net: FaultyNetwork, *, every_s: float = 1.0, timeout_s: float = 0.5) -> Config:
    """One live channel per fault, each probed every ``every_s`` with a short timeout."""
    base = parse_config(
        PLAN_B.format(hook=net.plain.url("/hook"), undo=net.plain.url("/undo")), "t.toml", {}
    )
    every, timeout = timedelta(seconds=every_s), timedelta(seconds=timeout_s)
    channels = [
        Channel(
            name, f"Fault {name}", True, (Check("http", url=url, every=every, timeout=timeout),)
        )
        for name, url in net.urls().items()
    ]
    source = OrderSource(
        "http-json", channels[0].id, net.plain.url("/drip"), every=every, timeout=timeout
    )
    return replace(
        base,
        channels=(*base.channels, *channels),
        sources=(source,),
        alerts=Alerts(1, 1),
    )


class StallWatch:
    """Sleeps TICK_S over and over on the running loop; records the worst lateness (s)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.ticks = 0
        self.lates: list[float] = []  # every tick's lateness (s), for percentiles
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(TICK_S)
            late = loop.time() - before - TICK_S
            self.lates.append(late)
            self.worst = max(self.worst, late)
            self.ticks += 1

    def start(self) -> StallWatch:
        self._task = asyncio.create_task(self._watch(), name="stall-watch")
        return self

    async def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return self.worst
