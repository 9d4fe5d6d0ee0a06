"""kill -9 at random instants while the control room runs the demo story at high speed:
probes, feeds, sales by hand, an import and Plan B activations in flight. After every
restart and at the end: every state file readable, no acknowledged order lost, and every
webhook action at the receiver once per Idempotency-Key (a repeat only ever carries the same
key and body, which the receiver's de-duplication absorbs)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from liveguard.adapters.order_store import OrderStore
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.cli.home_commands import check_state_files
from liveguard.core.timekeeping import SystemClock, load_zone
from liveguard.demo import DemoWorld
from tests.fixtures_sales import Sample, write_tiktok_csv

ROOT = Path(__file__).resolve().parents[1]
SPEED = 20.0
pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")


def spawn(home: Path, round_no: int, export: Path, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGUARD")}
    env.pop("DISPLAY", None)
    return subprocess.Popen(
        [sys.executable, "tests/room_crash_child.py", str(home), str(round_no), str(export), *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


EXPORT_ORDERS = 20


def small_export(folder: Path, round_no: int) -> Path:
    """A TikTok export of this round's own orders, so each round's first import writes."""
    start = datetime.now(UTC).astimezone(load_zone("Asia/Jakarta")) - timedelta(minutes=30)
    samples = [
        Sample(
            export_id(round_no, n),
            (start + timedelta(minutes=n)).strftime("%d/%m/%Y %H:%M:%S"),
            str(75_000 + n * 1000),
            "Completed",
        )
        for n in range(EXPORT_ORDERS)
    ]
    return write_tiktok_csv(folder / f"tiktok-export-{round_no}.csv", samples)


def export_id(round_no: int, n: int) -> str:
    return f"TT{round_no:03d}{n:03d}"


KILL_AFTER: list[tuple[str, tuple[float, float]]] = [
    ("UP", (0.05, 1.5)),
    ("IMPORTING", (0.0, 0.05)),
    ("IMPORT", (0.0, 0.3)),
]


def read_until(child: subprocess.Popen[str], prefix: str) -> list[str]:
    """The child's lines up to and including the first that starts with ``prefix``."""
    assert child.stdout is not None
    lines: list[str] = []
    if prefix == "UP":
        return lines
    while not (lines and lines[-1].startswith(prefix + " ")):
        line = child.stdout.readline()
        assert line, (
            f"the child ended before {prefix}: {child.stderr.read() if child.stderr else ''}"
        )
        lines.append(line.strip())
    return lines


def check_home(home_dir: Path, acked: set[str]) -> None:
    home = StateHome(Paths.resolve(home=str(home_dir)), SystemClock()).open()
    try:
        store = OrderStore(home, load_zone("Asia/Jakarta"))
        stored = {o.order_id for day in store.days() for o in store.day_orders(day)}
        assert check_state_files(home) == ""  # every file opens as the program opens it
        assert home.notices == [], home.notices
        missing = acked - stored
        assert not missing, f"acknowledged but lost: {sorted(missing)[:5]}"
    finally:
        home.close()


def test_kill_9_while_the_control_room_runs_the_demo(tmp_path: Path, big: bool) -> None:
    rounds = 200 if big else 5
    rng = random.Random(20250830)
    home = tmp_path / "home"
    home.mkdir()
    acked: set[str] = set()
    presses = imports = 0
    with DemoWorld(speed=SPEED) as world:
        world.write_config(home / "liveguard.toml")
        for round_no in range(rounds):
            child = spawn(home, round_no, small_export(tmp_path, round_no))
            assert child.stdout is not None
            first = child.stdout.readline().strip()
            assert first == "UP", (first, child.stderr.read() if child.stderr else "")
            # Every third round the kill lands just after an import starts, the one after it
            # once an import has returned; otherwise at a random instant (not a timing test).
            target, delay = KILL_AFTER[round_no % len(KILL_AFTER)]
            seen = read_until(child, target)
            time.sleep(rng.uniform(*delay))
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            for line in seen + child.stdout.read().splitlines():
                kind, _, rest = line.partition(" ")
                if kind == "ORDER":
                    acked.add(rest)
                presses += kind == "PRESS"
                if kind == "IMPORT" and int(rest) > 0:  # this import wrote the round's orders
                    imports += 1
                    acked.update(export_id(round_no, n) for n in range(EXPORT_ORDERS))
            check_home(home, acked)
        # One clean run lets the outbox finish what the kills interrupted.
        drain = spawn(home, rounds, small_export(tmp_path, rounds), "--drain", "4")
        _, err = drain.communicate(timeout=120)
        assert drain.returncode == 0, err[-2000:]
        check_home(home, acked)
        received = world.shop.received()

    assert acked and presses, "the child never got going: the test would prove nothing"
    assert imports, "no import wrote its orders before a kill: the test would prove nothing"
    assert received, "no webhook reached the receiver"
    bodies: dict[str, set[str]] = defaultdict(set)
    for request in received:
        assert request.idempotency_key.startswith("lg-"), request
        bodies[request.idempotency_key].add(repr(request.body))
    assert all(len(b) == 1 for b in bodies.values()), "a repeat changed its body"
    # Every activation that reached the receiver delivered all its start actions.
    starts: dict[str, set[str]] = defaultdict(set)
    for key in bodies:
        activation, index, step = key.rsplit("-", 2)  # lg-<activation>-<action>-<do|undo>
        if step == "do":
            starts[activation].add(index)
    assert all(found == {"0", "1"} for found in starts.values()), starts
    print(
        f"\nroom crash: {rounds} kills, {len(acked)} orders acknowledged and kept, "
        f"{presses} Plan B presses, {imports} imports, {len(received)} webhook requests "
        f"for {len(bodies)} keys"
    )
