"""Child of tests/test_audit_journal.py's kill -9 test: activates and deactivates Plan B
against a loopback receiver while the audit copy fails at random (injected), retrying as the
room's supervisor would, until the story is complete."""

from __future__ import annotations

import asyncio
import os
import random
import sys
from typing import Any

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateError, StateHome, StateWriteError
from liveguard.service.planb import PlanBService

ACTIONS = 12


def config_text(base: str) -> str:
    actions = "".join(
        f"""
  [[promotions.actions]]
  kind = "webhook"
  url = "{base}/on/{i}"
  body = {{ n = {i} }}
  undo = {{ url = "{base}/off/{i}" }}
"""
        for i in range(ACTIONS)
    )
    return f'[[promotions]]\nid = "plan-b"\nname = "Plan B"\narmed = true\ngrace = "0s"\n{actions}'


def main(home_dir: str, base: str, odds: float) -> int:
    rng = random.Random()
    real = AuditLog.record_many

    def flaky(self: AuditLog, items: Any, **kw: Any) -> Any:
        if rng.random() < odds:
            raise StateWriteError("audit.json: could not save (injected)")
        return real(self, items, **kw)

    AuditLog.record_many = flaky  # type: ignore[method-assign]
    config = parse_config(config_text(base), "liveguard.toml", environ={})
    home = StateHome(Paths.resolve(home=home_dir)).open()
    planb = PlanBService(config, home, environ={}, opener=None, actor="crash-test")

    async def run() -> None:
        while True:
            try:
                sw, state = planb.switch(), planb.state()
                if sw.phase == "idle" and state.entries:
                    planb.flush_journal()
                    return
                if sw.phase in ("idle", "active"):
                    planb.press(skip_grace=True)
                await planb.drain()
            except StateError:
                await asyncio.sleep(0.01)

    asyncio.run(run())
    home.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(os.environ.get("LG_TEST_AUDIT_FAILS", "0"))))
