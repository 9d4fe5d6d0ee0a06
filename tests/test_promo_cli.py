"""``liveguard promo …`` and ``liveguard log`` as a seller runs them: real processes, a real
loopback receiver, a real home."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_runner import run_liveguard
from tests.servers import LoopbackServer, reply

ROOT = Path(__file__).resolve().parents[1]
SECRET_TOKEN = "tok-very-secret"
SIGNING_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


def run(home: Path, *args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = {"LIVEGUARD_HOME": str(home), "HOOK_TOKEN": SECRET_TOKEN, "HOOK_SECRET": SIGNING_SECRET}
    return run_liveguard("--lang", lang, *args, env=env)


@pytest.fixture
def receiver() -> Iterator[LoopbackServer]:
    with LoopbackServer(webhook_secret=SIGNING_SECRET) as srv:
        srv.route("/start", reply(200))
        srv.route("/end", reply(200))
        srv.route("/bad", reply(400, "voucher unknown"))
        yield srv


@pytest.fixture
def shop(tmp_path: Path, receiver: LoopbackServer) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    base = receiver.url("")
    (home / "liveguard.toml").write_text(
        f"""
[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true

[[promotions]]
id = "plan-b"
name = "Plan B: flash sale"
armed = true
channel = "tiktok"
grace = "1s"

  [[promotions.actions]]
  kind = "webhook"
  url = "{base}/start?why={{reason}}"
  headers = {{ Authorization = "Bearer ${{HOOK_TOKEN}}" }}
  secret = "${{HOOK_SECRET}}"
  body = {{ voucher = "LIVEDOWN20", reason = "{{reason}}" }}
  undo = {{ url = "{base}/end" }}

  [[promotions.actions]]
  kind = "message"
  text = "Halo kak! ({{reason}})"

[[promotions]]
id = "broken"
name = "Broken hook"

  [[promotions.actions]]
  kind = "webhook"
  url = "{base}/bad"

[[promotions]]
id = "slow"
name = "Slow start"
grace = "60s"

  [[promotions.actions]]
  kind = "webhook"
  url = "{base}/start"
""",
        encoding="utf-8",
    )
    return home


def test_list_json_has_the_interface_shape(shop: Path) -> None:
    out = run(shop, "promo", "list", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [
        {
            "id": "plan-b",
            "name": "Plan B: flash sale",
            "armed": True,
            "state": "armed",
            "actions": 2,
        },
        {"id": "broken", "name": "Broken hook", "armed": False, "state": "inactive", "actions": 1},
        {"id": "slow", "name": "Slow start", "armed": False, "state": "inactive", "actions": 1},
    ]


def test_test_renders_every_request_masks_secrets_and_sends_nothing(
    shop: Path, receiver: LoopbackServer
) -> None:
    out = run(shop, "promo", "test", "plan-b", "--reason", "TikTok down")
    assert out.returncode == 0, out.stderr
    assert SECRET_TOKEN not in out.stdout
    assert "Authorization: Bearer •••" in out.stdout
    assert "webhook-signature: v1,•••" in out.stdout
    assert "/start?why=TikTok%20down" in out.stdout
    assert '{"voucher":"LIVEDOWN20","reason":"TikTok down"}' in out.stdout
    assert "Halo kak! (TikTok down)" in out.stdout
    assert "[1 undo] webhook" in out.stdout
    assert receiver.requests == []
    missing = run(shop, "promo", "test", "nope")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "liveguard: There is no promotion called nope."


def test_activate_now_then_deactivate_and_the_log_tells_it(
    shop: Path, receiver: LoopbackServer
) -> None:
    out = run(shop, "promo", "activate", "--now", "--reason", "TikTok down")
    assert out.returncode == 0, out.stderr
    assert "Plan B: flash sale: active" in out.stdout
    [start] = [r for r in receiver.requests if r.path == "/start"]
    assert start.headers["authorization"] == f"Bearer {SECRET_TOKEN}"
    assert start.query == "why=TikTok%20down"
    again = run(shop, "promo", "activate", "--now")
    assert again.returncode == 1 and "busy (active)" in again.stderr
    off = run(shop, "promo", "deactivate", "--now")
    assert off.returncode == 0, off.stderr
    [end] = [r for r in receiver.requests if r.path == "/end"]
    assert end.headers["idempotency-key"].endswith("-0-undo")
    assert run(shop, "promo", "deactivate").returncode == 1

    log = run(shop, "log", "--json")
    assert log.returncode == 0, log.stderr
    entries = json.loads(log.stdout)
    assert all(set(e) == {"at", "actor", "kind", "detail"} for e in entries)
    assert all(e["actor"] == "ani" and e["at"].endswith("+07:00") for e in entries)
    story = [e["detail"]["to"] for e in entries if e["kind"] == "planb.transition"]
    assert story == ["activating", "active", "deactivating", "armed"]
    assert SECRET_TOKEN not in log.stdout
    assert len(json.loads(run(shop, "log", "--json", "--limit", "2").stdout)) == 2
    text = run(shop, "log", "--limit", "3")
    assert text.returncode == 0 and len(text.stdout.splitlines()) == 3
    assert "WIB  ani  plan-b: deactivating → armed" in text.stdout


def test_a_refused_webhook_makes_activate_fail_with_the_reply(shop: Path) -> None:
    out = run(shop, "promo", "activate", "broken", "--now")
    assert out.returncode == 1
    assert "failed: HTTP 400: voucher unknown" in out.stdout
    listed = {p["id"]: p for p in json.loads(run(shop, "promo", "list", "--json").stdout)}
    assert listed["broken"]["armed"] and listed["broken"]["state"] == "active"


def test_usage_errors_exit_64(shop: Path) -> None:
    assert run(shop, "promo").returncode == 64
    assert run(shop, "log", "--limit", "0").returncode == 64
    assert run(shop, "promo", "frobnicate").returncode == 64


def test_ctrl_c_during_the_countdown_cancels_and_sends_nothing(
    shop: Path, receiver: LoopbackServer
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGUARD")}
    env.update(
        LIVEGUARD_HOME=str(shop),
        USER="ani",
        LOGNAME="ani",
        HOOK_TOKEN=SECRET_TOKEN,
        HOOK_SECRET=SIGNING_SECRET,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "liveguard", "--lang", "en", "promo", "activate", "slow"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()  # printed once the countdown is on disk
    assert first.startswith("Slow start: starts in 60 s")
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Slow start: cancelled, nothing was sent" in rest
    assert receiver.requests == []
    listed = {p["id"]: p for p in json.loads(run(shop, "promo", "list", "--json").stdout)}
    assert listed["slow"]["state"] == "armed"
