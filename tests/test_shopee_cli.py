"""`liveguard connect shopee`, and the Shopee lines of `doctor` and `status --json`, run as
the real command against the Shopee-shaped platform."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from tests.cli_runner import ROOT, run_liveguard
from tests.shopee_platform import ENV, RunningPlatform, shopee_config


def _env(home: Path) -> dict[str, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGUARD")}
    return {**full, **ENV, "LIVEGUARD_HOME": str(home)}


def connect_interactively(home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run `connect shopee`, open the link it prints like a browser, paste where it lands."""
    child = subprocess.Popen(
        [sys.executable, "-m", "liveguard", "--lang", "en", "connect", "shopee", *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=_env(home), cwd=ROOT,
    )  # fmt: skip
    assert child.stdout is not None and child.stdin is not None
    printed = [child.stdout.readline(), child.stdout.readline()]
    link = printed[-1].strip()
    assert link.startswith("http://127.0.0.1:"), printed
    landed = httpx.get(link).headers["location"]
    out, err = child.communicate(landed + "\n", timeout=60)
    return subprocess.CompletedProcess(child.args, child.returncode, "".join(printed) + out, err)


def test_connect_then_doctor_and_status_show_only_when_tokens_expire(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with RunningPlatform() as shopee:
        (home / "liveguard.toml").write_text(shopee_config(shopee.url, every="1m"))
        since = (datetime.now(ZoneInfo("Asia/Jakarta")).date() - timedelta(days=1)).isoformat()
        done = connect_interactively(home, "--since", since)
        assert done.returncode == 0, done.stderr
        assert "Connected: Shopee shop Toko Demo (shop id 54321) for channel shopee." in done.stdout
        assert "authorization ends" in done.stdout and f"updated since {since}" in done.stdout
        tokens = json.loads((home / "state/shopee/shopee.tokens.json").read_text())
        secrets = (tokens["access_token"], tokens["refresh_token"], ENV["SHOPEE_PARTNER_KEY"])
        assert not any(s in done.stdout + done.stderr for s in secrets)

        doctor = run_liveguard("doctor", env={**ENV, "LIVEGUARD_HOME": str(home)})
        assert "shopee" in doctor.stdout and "authorization ends" in doctor.stdout
        status = run_liveguard("status", "--json", env={**ENV, "LIVEGUARD_HOME": str(home)})
        (source,) = json.loads(status.stdout)["sources"]
        assert source["id"] == "shopee:shopee" and source["state"] == "stale"
        assert "not synced yet" in source["reason"] and source["authorization_ends"]
        text = run_liveguard("--lang", "en", "status", env={**ENV, "LIVEGUARD_HOME": str(home)})
        assert "Shopee orders (shopee): STALE, last synced not yet" in text.stdout
        for out in (doctor.stdout + doctor.stderr, status.stdout + status.stderr, text.stdout):
            assert not any(s in out for s in secrets)


def test_connect_without_a_shopee_source_or_with_nothing_pasted(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "liveguard.toml").write_text('[[channels]]\nid = "shopee"\n')
    env = {**ENV, "LIVEGUARD_HOME": str(home)}
    done = run_liveguard("--lang", "en", "connect", "shopee", env=env)
    assert done.returncode == 1 and 'no [[sources]] with kind = "shopee"' in done.stderr
    with RunningPlatform() as shopee:
        (home / "liveguard.toml").write_text(shopee_config(shopee.url))
        done = run_liveguard("--lang", "en", "connect", "shopee", env=env)
        assert done.returncode == 1 and "nothing was pasted" in done.stderr
        assert "Traceback" not in done.stderr
        done = run_liveguard("--lang", "en", "connect", "shopee", "--code", "0ddc0de", env=env)
        assert done.returncode == 1 and "Invalid code" in done.stderr
    assert not (home / "state/shopee/shopee.tokens.json").exists()


def test_status_json_lists_every_source_order_feeds_checked_once(tmp_path: Path) -> None:
    from tests.servers import LoopbackServer, reply

    home = tmp_path / "home"
    home.mkdir()
    feeds = """
[[channels]]
id = "tiktok"
[[sources]]
kind = "http-json"
channel = "tiktok"
url = "{good}"
[[sources]]
kind = "http-json"
channel = "tiktok"
url = "{bad}"
"""
    with RunningPlatform() as shopee, LoopbackServer() as srv:
        srv.route("/good", reply(200, json=[]))
        srv.route("/bad", reply(503, "down"))
        text = shopee_config(shopee.url) + feeds.format(good=srv.url("/good"), bad=srv.url("/bad"))
        (home / "liveguard.toml").write_text(text)
        status = run_liveguard("status", "--json", env={**ENV, "LIVEGUARD_HOME": str(home)})
    sources = json.loads(status.stdout)["sources"]
    assert [(s["id"], s["state"]) for s in sources] == [
        ("http-json:tiktok", "fresh"),
        ("http-json:tiktok#2", "stale"),
        ("shopee:shopee", "stale"),
    ]
    assert sources[1]["reason"] == "status 503 (expected 2xx)" and sources[0]["as_of"]
    assert sources[2]["reason"] == "not connected to Shopee: run `liveguard connect shopee`"
