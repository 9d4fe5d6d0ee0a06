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


def small_export(folder: Path) -> Path:
    now = datetime.now(UTC) - timedelta(minutes=30)
    samples = [
        Sample(f"TT{n:04d}", "Completed", now + timedelta(minutes=n), 75_000 + n * 1000)
        for n in range(20)
    ]
    return write_tiktok_csv(folder / "tiktok-export.csv", samples)


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
    export = small_export(tmp_path)
    acked: set[str] = set()
    presses = imports = 0
    with DemoWorld(speed=SPEED) as world:
        world.write_config(home / "liveguard.toml")
        for round_no in range(rounds):
            child = spawn(home, round_no, export)
            assert child.stdout is not None
            first = child.stdout.readline().strip()
            assert first == "UP", (first, child.stderr.read() if child.stderr else "")
            time.sleep(rng.uniform(0.05, 1.5))  # a random instant, not a timing assertion
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            for line in child.stdout.read().splitlines():
                kind, _, rest = line.partition(" ")
                if kind == "ORDER":
                    acked.add(rest)
                presses += kind == "PRESS"
                imports += kind == "IMPORT"
            check_home(home, acked)
        # One clean run lets the outbox finish what the kills interrupted.
        drain = spawn(home, rounds, export, "--drain", "4")
        _, err = drain.communicate(timeout=120)
        assert drain.returncode == 0, err[-2000:]
        check_home(home, acked)
        received = world.shop.received()

    assert acked and presses, "the child never got going: the test would prove nothing"
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
