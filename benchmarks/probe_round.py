"""One probe round: 50 http checks against loopback, 10 of them hanging, timeout T.

The round runs as the control room runs it: through StatusService (results recorded into
the status book, then written to a real state home off the event loop).

Prints the round's wall time as a multiple of T (goal <= 1.2: hanging checks end at their
deadline, in parallel, and do not hold the others) and the largest event-loop stall seen
during the round and its write (goal <= 50 ms: the screen keeps moving while probes run).

    .venv/bin/python benchmarks/probe_round.py [--timeout 2] [--checks 50] [--hanging 10]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import result
from tests.servers import LoopbackServer, drip, hang, reply

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.paths import Paths
from liveguard.adapters.probes import ProbeScheduler, jobs_for, warm_up
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Alerts, Channel, Check, Config
from liveguard.core.status import State
from liveguard.core.timekeeping import FixedClock
from liveguard.service.status import StatusService, pool_size

TICK_S = 0.005


async def watch_stalls(stop: asyncio.Event, worst: list[float]) -> None:
    """Sleep TICK_S over and over; any extra delay is time the loop could not run us."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(TICK_S)
        worst[0] = max(worst[0], loop.time() - before - TICK_S)


async def one_round(
    srv: RemoteServer, checks: int, hanging: int, timeout: float, folder: Path
) -> tuple[float, float, dict[State, int]]:
    channels = []
    for i in range(checks):
        path = "/hang" if i < hanging // 2 else "/drip" if i < hanging else "/ok"
        expect = ("status == 200", "body.live.enabled == true")
        check = Check("http", url=srv.url(path), expect=expect, timeout=timedelta(seconds=timeout))
        channels.append(Channel(f"c{i}", f"Channel {i}", True, (check,)))
    config = Config(alerts=Alerts(1, 1), channels=tuple(channels))
    clock = FixedClock(datetime.now(UTC))
    home = StateHome(Paths.resolve(home=str(folder)), clock).open()
    service = StatusService(config, home, clock)
    service.load()
    pool = HttpPool(pool_size(config))  # sized as the control room sizes it
    stop = asyncio.Event()
    worst = [0.0]
    watcher = asyncio.create_task(watch_stalls(stop, worst))
    await asyncio.sleep(TICK_S * 2)
    await asyncio.to_thread(warm_up)  # as StatusService.run does before its first round
    started = time.perf_counter()
    scheduler = ProbeScheduler(pool, jobs_for(config.channels), clock, service.record)
    await scheduler.run_once()
    wall = time.perf_counter() - started
    await service.sync()  # the batched write, off the loop, inside the watched window
    stop.set()
    await watcher
    await pool.aclose()
    home.close()
    counts: dict[State, int] = {}
    for status in service.statuses():
        counts[status.state] = counts.get(status.state, 0) + 1
    return wall, worst[0], counts


def serve() -> None:
    """The loopback server, in its own process so that it does not share our GIL: a remote
    status page does not slow the control room's loop either."""
    with LoopbackServer() as srv:
        srv.route("/ok", reply(json={"live": {"enabled": True}}))
        srv.route("/hang", hang())
        srv.route("/drip", drip(every=0.5))
        print(srv.port, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


class RemoteServer:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--timeout", type=float, default=2.0, help="T, each check's timeout in seconds"
    )
    parser.add_argument("--checks", type=int, default=50)
    parser.add_argument("--hanging", type=int, default=10, help="half hang after accept, half drip")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    srv = RemoteServer()
    walls, stalls = [], []
    try:
        for n in range(1, args.rounds + 1):
            with tempfile.TemporaryDirectory(prefix="lg-probe-round-") as folder:
                wall, stall, counts = asyncio.run(
                    one_round(srv, args.checks, args.hanging, args.timeout, Path(folder))
                )
            walls.append(wall / args.timeout)
            stalls.append(stall * 1000)
            summary = ", ".join(f"{k.value} {v}" for k, v in sorted(counts.items()))
            print(f"round {n}: wall {wall:.3f} s = {wall / args.timeout:.3f} T; "
                  f"largest loop stall {stall * 1000:.1f} ms; {summary}")  # fmt: skip
    finally:
        srv.close()
    print(f"checks={args.checks} hanging={args.hanging} T={args.timeout:g}s")
    print(f"wall time: worst {max(walls):.3f} T (goal <= 1.2)")
    print(f"largest event-loop stall: worst {max(stalls):.1f} ms (goal <= 50)")
    label = f"{args.checks} checks, {args.hanging} hanging"
    worst_wall, worst_stall = max(walls), max(stalls)
    result("probe_round", f"round wall time, worst round ({label})", worst_wall, "T", "<= 1.2",
           worst_wall <= 1.2, runs=walls)  # fmt: skip
    result("probe_round", "largest event-loop stall, worst round", worst_stall, "ms", "<= 50",
           worst_stall <= 50, runs=stalls)  # fmt: skip


if __name__ == "__main__":
    main()
