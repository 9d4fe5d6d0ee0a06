"""kill -9 during an activation and its deactivation; restart; the receiver sees every action
exactly once per Idempotency-Key (a repeat only after an attempt the audit log calls
interrupted), and the audit log tells the story.

Run as a script, this file is the driver process: it moves the switch on (activate, then
deactivate) and drains the outbox against a slow receiver, resuming wherever it was killed.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

HOOKS = 4
MAX_KILLS = 6  # per round
ENV = {"HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}


def config_text(base: str) -> str:
    actions = "".join(
        f"""
  [[promotions.actions]]
  kind = "webhook"
  url = "{base}/on/{n}"
  secret = "${{HOOK_SECRET}}"
  body = {{ n = {n}, id = "{{activation_id}}" }}
  undo = {{ url = "{base}/off/{n}" }}
"""
        for n in range(HOOKS)
    )
    return f"""
[[promotions]]
id = "plan-b"
name = "Plan B"
armed = true
grace = "0s"
{actions}
  [[promotions.actions]]
  kind = "message"
  text = "Halo kak!"
"""


def drive(home_dir: str, base: str) -> int:
    from liveguard.adapters.config_file import parse_config
    from liveguard.adapters.paths import Paths
    from liveguard.adapters.state_home import StateHome
    from liveguard.service.planb import PlanBService

    config = parse_config(config_text(base), "liveguard.toml", environ=ENV)
    home = StateHome(Paths.resolve(home=home_dir)).open()
    service = PlanBService(config, home, environ=ENV, opener=None, actor="crash-test")

    async def main() -> None:
        try:
            while True:
                sw, state = service.switch(), service.state()
                if sw.phase == "idle" and state.entries:
                    return  # activated and deactivated: the story is complete
                if sw.phase in ("idle", "active"):
                    service.press(skip_grace=True)
                await service.drain()
        finally:
            await service.aclose()

    asyncio.run(main())
    home.close()
    return 0


def slow_ok():  # type: ignore[no-untyped-def]
    from tests.servers import reply

    ok = reply(200, "ok")

    async def respond(req, writer, stop):  # type: ignore[no-untyped-def]
        await asyncio.sleep(random.uniform(0.05, 0.35))
        await ok(req, writer, stop)

    return respond


def run_until_done(home: Path, base: str, rng: random.Random) -> int:
    """Start the driver, kill -9 it at a random moment, again and again, until it finishes."""
    kills = 0
    for attempt in range(MAX_KILLS + 1):
        # kill at a random moment each time; the last run is left to finish, whatever the load
        window = rng.uniform(0.2, 0.9) if attempt < MAX_KILLS else 120
        proc = subprocess.Popen(
            [sys.executable, __file__, str(home), base],
            cwd=Path(__file__).parent.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _, err = proc.communicate(timeout=window)
        except subprocess.TimeoutExpired:
            proc.kill()  # SIGKILL on POSIX
            proc.communicate()
            kills += 1
            continue
        assert proc.returncode == 0, err.decode()
        return kills
    raise AssertionError("the driver never finished")


@pytest.mark.parametrize("round_no", [0])
def test_kill_nine_during_activation_delivers_each_action_once(
    tmp_path: Path, big: bool, round_no: int
) -> None:
    from liveguard.adapters.audit_log import AuditLog
    from liveguard.adapters.paths import Paths
    from liveguard.adapters.state_home import StateHome
    from tests.servers import LoopbackServer

    rounds = 12 if big else 2
    rng = random.Random(5 + round_no)
    total_kills = total_repeats = 0
    for r in range(rounds):
        with LoopbackServer(webhook_secret=ENV["HOOK_SECRET"]) as srv:
            for n in range(HOOKS):
                srv.route(f"/on/{n}", slow_ok())
                srv.route(f"/off/{n}", slow_ok())
            home_dir = tmp_path / f"home{r}"
            total_kills += run_until_done(home_dir, srv.url(""), rng)
            requests = list(srv.requests)

        home = StateHome(Paths.resolve(home=str(home_dir))).open()
        entries = AuditLog(home).entries()
        home.close()
        activations = {
            e["detail"]["activation_id"] for e in entries if e["kind"] == "planb.attempt"
        }
        assert len(activations) == 1, "a restart must never start a second activation"
        [activation] = activations
        expected = {f"lg-{activation}-{n}-{step}" for n in range(HOOKS) for step in ("do", "undo")}

        by_key: dict[str, list[bytes]] = defaultdict(list)
        for req in requests:
            by_key[req.headers["idempotency-key"]].append(req.body)
        assert set(by_key) == expected
        assert all(len(set(bodies)) == 1 for bodies in by_key.values()), "a retry changed the body"

        attempts = [e["detail"] for e in entries if e["kind"] == "planb.attempt"]
        for key in expected:
            mine = [a for a in attempts if a["key"] == key]
            assert [a["result"] for a in mine].count("delivered") == 1, (key, mine)
            interrupted = sum(1 for a in mine if a["result"] == "interrupted")
            assert len(by_key[key]) <= 1 + interrupted, (
                f"{key} re-sent without an interrupted attempt"
            )
            total_repeats += len(by_key[key]) - 1
        story = [e["detail"]["to"] for e in entries if e["kind"] == "planb.transition"]
        assert story == ["activating", "active", "deactivating", "armed"], story
    print(
        f"\ncrash test: {rounds} rounds, {total_kills} kills, {total_repeats} repeats after kills"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent.parent))
    sys.exit(drive(sys.argv[1], sys.argv[2]))
