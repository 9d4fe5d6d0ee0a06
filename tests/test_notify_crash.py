"""kill -9 mid-delivery, then restart: each message is delivered once per key. The attempt
that was cut off is sent again with the same Idempotency-Key (the receiver can tell), the
one already delivered is never sent again, and the audit log says what happened."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.notify_store import NotifyStore
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import SystemClock

from .cli_runner import ROOT
from .phone_servers import wait_for
from .servers import LoopbackServer, hang, reply


def child(home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "notify_crash_child.py"), str(home)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip


def test_kill_9_mid_delivery_then_restart_delivers_each_key_once(tmp_path: Path) -> None:
    with LoopbackServer() as receiver:
        receiver.route("/hook", hang())  # the first attempt never gets an answer
        home = tmp_path / "home"
        home.mkdir()
        (home / "liveguard.toml").write_text(
            '[[channels]]\nid = "tiktok"\n[[notify]]\nid = "wa"\nkind = "webhook"\n'
            f'url = "{receiver.url("/hook")}"\nbody = {{ text = "{{text}}" }}\ntimeout = "30s"\n'
        )
        first = child(home)
        wait_for(lambda: receiver.hits("/hook") >= 1, 30, "the first attempt")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        receiver.route("/hook", reply(200, json={"ok": True}))
        second = child(home)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 0 and "DONE" in out, err

    state = NotifyStore(StateHome(Paths.resolve(home=str(home)), SystemClock()).open()).load()
    assert sorted((d.message_key, d.status) for d in state.deliveries) == [
        ("down:shopee:1", "delivered"),
        ("down:tiktok:1", "delivered"),
    ]
    keys = [r.headers["idempotency-key"] for r in receiver.requests]
    # one attempt was cut off by the kill and repeated with its key; nothing else twice
    assert sorted(set(keys)) == ["wa:down:shopee:1", "wa:down:tiktok:1"]
    assert len(keys) == 3 and len(keys) - len(set(keys)) == 1
    home_state = StateHome(Paths.resolve(home=str(home)), SystemClock()).open()
    results = [
        e["detail"]["result"]
        for e in AuditLog(home_state).entries()
        if e["kind"] == "notify.attempt"
    ]
    assert sorted(results) == ["delivered", "delivered", "interrupted"]
