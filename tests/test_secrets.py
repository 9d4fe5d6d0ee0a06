"""Secrets from ${ENV} are used on the wire and appear nowhere else: not in any state file,
log, audit event, command output, error message or screenshot."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from liveguard.adapters.config_file import load_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import FixedClock
from liveguard.service.room import ControlRoom
from liveguard.ui.app import LiveguardApp
from tests.cli_runner import run_liveguard
from tests.conftest import EVENING
from tests.servers import LoopbackServer, reply, sequence

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {
    "PROBE_TOKEN": "probe-s3cret-7f3a",
    "ORDERS_TOKEN": "orders-s3cret-91bc",
    "HOOK_TOKEN": "hook-s3cret-44de",
    "HOOK_SECRET": "whsec_c2lnbi1zM2NyZXQtMGEwYS1zaWduLXMzY3JldA==",
}


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(webhook_secret=SECRETS["HOOK_SECRET"]) as srv:
        srv.route("/live", reply(503, "live is off"))
        srv.route("/orders", sequence(reply(500, "boom"), reply(200, json=[])))
        srv.route("/start", sequence(reply(500), reply(200)))
        srv.route("/end", reply(200))
        yield srv


@pytest.fixture
def shop(tmp_path: Path, server: LoopbackServer) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    base = server.url("")
    (home / "liveguard.toml").write_text(
        f"""
[alerts]
failures_before_down = 1

[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true

  [[channels.checks]]
  kind = "http"
  url = "{base}/live?key=${{PROBE_TOKEN}}"
  headers = {{ X-Token = "${{PROBE_TOKEN}}" }}
  every = "1s"
  timeout = "2s"

[[channels]]
id = "shopee"
name = "Shopee"

[[sources]]
kind = "http-json"
channel = "shopee"
url = "{base}/orders"
every = "1s"
headers = {{ Authorization = "Bearer ${{ORDERS_TOKEN}}" }}

[[promotions]]
id = "plan-b"
name = "Plan B"
armed = true
channel = "tiktok"
grace = "0s"

  [[promotions.actions]]
  kind = "webhook"
  url = "{base}/start?token=${{HOOK_TOKEN}}"
  headers = {{ Authorization = "Bearer ${{HOOK_TOKEN}}" }}
  secret = "${{HOOK_SECRET}}"
  body = {{ reason = "{{reason}}" }}
  undo = {{ url = "{base}/end" }}
""",
        encoding="utf-8",
    )
    return home


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_liveguard(*args, env={**SECRETS, "LIVEGUARD_HOME": str(home)}, timeout=90)


def leaks(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


def test_secrets_reach_the_wire_and_nowhere_else(
    shop: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outputs = []
    for args in (
        ["doctor"],
        ["status", "--json"],
        ["status"],
        ["promo", "test", "plan-b"],
        ["promo", "activate", "--now", "--reason", "live mati"],
        ["promo", "deactivate", "--now"],
        ["log", "--json"],
        ["today", "--json"],
    ):
        result = run(shop, *args)
        outputs.append(f"$ {' '.join(args)} -> {result.returncode}\n{result.stdout}{result.stderr}")

    # The control room too: probes, the failing feed, notifications, a screenshot.
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    config = load_config(shop / "liveguard.toml")
    clock = FixedClock(EVENING)
    home = StateHome(Paths.resolve(home=str(shop)), clock).open()
    screenshot = tmp_path / "room.svg"

    async def drive() -> None:
        app = LiveguardApp(ControlRoom(config, home, clock, "en"), animations=False)
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(3):
                await app.room.status.check_once()
                await app.room.sales.poll_source(0)
                await pilot.pause()
            app.save_screenshot(filename=screenshot.name, path=str(screenshot.parent))

    asyncio.run(drive())
    home.close()

    # The secrets were really used (otherwise this test proves nothing)...
    seen = "\n".join(f"{r.path}?{r.query} {r.headers}" for r in server.requests)
    assert SECRETS["PROBE_TOKEN"] in seen
    assert SECRETS["ORDERS_TOKEN"] in seen
    assert SECRETS["HOOK_TOKEN"] in seen
    assert any(r.path == "/start" for r in server.requests)
    assert not server.unverified
    # ...and are nowhere on disk, in any output, or on screen.
    for path in shop.rglob("*"):
        if path.is_file() and path.name != "liveguard.toml":
            assert not leaks(path.read_text(errors="replace")), path
    for output in outputs:
        assert not leaks(output), output
        assert "Traceback" not in output, output
    assert not leaks(screenshot.read_text())


# A Windows ``.env`` leaves a CR at the end of every value (the header tokens here; a
# signing secret is checked for its own form when the config loads).
CR_SECRETS = {
    name: value + ("\r" if name.endswith("_TOKEN") else "") for name, value in SECRETS.items()
}


def test_a_cr_terminated_env_header_is_refused_by_name_and_never_shown(
    shop: Path, server: LoopbackServer
) -> None:
    env = {**CR_SECRETS, "LIVEGUARD_HOME": str(shop)}
    outputs = []
    for args in (
        ["doctor"],
        ["status", "--json"],
        ["status"],
        ["promo", "activate", "--now", "--reason", "live mati"],
        ["log"],
        ["log", "--json"],
    ):
        result = run_liveguard(*args, env=env, timeout=90)
        outputs.append(f"$ {' '.join(args)} -> {result.returncode}\n{result.stdout}{result.stderr}")
    text = "\n".join(outputs)
    # said by key, never by value: the probe, and the webhook in promo and log
    assert "header X-Token: the value (from ${PROBE_TOKEN}) has a line break" in text, text
    assert "header Authorization: the value (from ${HOOK_TOKEN}) has a line break" in text, text
    assert "Traceback" not in text
    assert not leaks(text), text
    # nothing with a bad header went on the wire
    assert not any(r.path in ("/live", "/start") for r in server.requests)
    for path in shop.rglob("*"):
        if path.is_file() and path.name != "liveguard.toml":
            assert not leaks(path.read_text(errors="replace")), path


def test_a_secret_url_without_a_scheme_is_named_not_shown(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    secret = "hooks.example.com/services/T000/B000/url-s3cret-5e5e"
    (home / "liveguard.toml").write_text(
        """
[[channels]]
id = "tiktok"

[[promotions]]
id = "plan-b"
armed = true
  [[promotions.actions]]
  kind = "webhook"
  url = "${HOOK_URL}"
""",
        encoding="utf-8",
    )
    env = {"HOOK_URL": secret, "LIVEGUARD_HOME": str(home)}
    for args in (["doctor"], ["status"], ["promo", "test", "plan-b"]):
        result = run_liveguard(*args, env=env, timeout=90)
        out = result.stdout + result.stderr
        assert result.returncode == 1, out
        assert "promotions[0].actions[0].url: bad URL" in out, out
        assert "s3cret" not in out and "hooks.example.com" not in out, out
