"""``liveguard status`` and ``liveguard mark`` as a user runs them: real processes, real server."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from liveguard.adapters.order_store import OrderStore
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.orders import Order
from liveguard.core.timekeeping import SystemClock, load_zone
from tests.cli_runner import run_liveguard
from tests.servers import LoopbackServer, closed_port, reply

ROOT = Path(__file__).resolve().parents[1]
LIVE_ON = {"live": {"enabled": True}}


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_liveguard("--lang", "en", *args, env={"LIVEGUARD_HOME": str(home)})


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        srv.route("/tiktok", reply(json=LIVE_ON))
        srv.route("/shopee", reply(json=LIVE_ON))
        yield srv


def write_config(home: Path, srv: LoopbackServer, extra: str = "") -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "liveguard.toml").write_text(
        f"""
[alerts]
failures_before_down = 3

[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true
  [[channels.checks]]
  kind = "http"
  url = "{srv.url("/tiktok")}"
  expect = ["status == 200", "body.live.enabled == true"]
  timeout = "1s"

[[channels]]
id = "shopee"
name = "Shopee"
live = true
  [[channels.checks]]
  kind = "http"
  url = "{srv.url("/shopee")}"
  timeout = "1s"

[[channels]]
id = "tokopedia"
name = "Tokopedia"
{extra}
""",
        encoding="utf-8",
    )


def channels(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    data = json.loads(result.stdout)
    assert set(data) >= {"checked_at", "channels"}
    assert data["checked_at"].endswith("+07:00")
    return {c["id"]: c for c in data["channels"]}


def test_status_all_up_exits_0(tmp_path: Path, server: LoopbackServer) -> None:
    write_config(tmp_path, server)
    result = run(tmp_path, "status", "--json")
    assert result.returncode == 0, result.stderr
    got = channels(result)
    assert got["tiktok"]["state"] == "up" and got["tiktok"]["source"] == "probe"
    assert isinstance(got["tiktok"]["latency_ms"], int)
    assert got["tokopedia"] == {
        "id": "tokopedia", "name": "Tokopedia", "live": False, "state": "unknown",
        "source": "none", "since": None, "reason": "", "latency_ms": None,
    }  # fmt: skip


def test_status_live_channel_down_exits_2_at_once(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/tiktok", reply(503))
    write_config(tmp_path, server)
    result = run(tmp_path, "status", "--json")
    assert result.returncode == 2
    got = channels(result)["tiktok"]
    assert (got["state"], got["reason"]) == ("down", "status 503 (expected 200)")
    text = run(tmp_path, "status")
    assert text.returncode == 2
    line = next(x for x in text.stdout.splitlines() if x.startswith("TikTok Shop"))
    assert "DOWN" in line and "status 503 (expected 200)" in line


def test_status_json_carries_the_collapse_suggestion(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """Shopee usually sells 10 orders in this hour and sold 1: the probe's UP stands, with
    the suggestion next to it (never DOWN by itself)."""
    write_config(tmp_path, server)
    now = datetime.now(UTC)
    orders = [Order("shopee", "last-hour", now - timedelta(minutes=10), 10_000)]
    for days_ago in range(1, 8):
        at = now - timedelta(days=days_ago, minutes=10)
        orders += [Order("shopee", f"d{days_ago}-{n}", at, 10_000) for n in range(10)]
    home = StateHome(Paths.resolve(home=str(tmp_path)), SystemClock()).open()
    try:
        OrderStore(home, load_zone("Asia/Jakarta")).upsert_many(orders)
    finally:
        home.close()
    result = run(tmp_path, "status", "--json")
    assert result.returncode == 0, result.stderr
    got = channels(result)
    assert got["shopee"]["state"] == "up"
    assert got["shopee"]["suggestion"] == "1 orders in the last hour (usually 10)"
    assert "suggestion" not in got["tiktok"]


def test_status_degraded_1_and_unknown_3(tmp_path: Path, server: LoopbackServer) -> None:
    write_config(tmp_path, server)
    text = (tmp_path / "liveguard.toml").read_text()
    (tmp_path / "liveguard.toml").write_text(
        text.replace('"body.live.enabled == true"]', '"response_time < 0"]')
    )
    assert run(tmp_path, "status", "--json").returncode == 1
    (tmp_path / "liveguard.toml").write_text(
        text.replace(server.url("/shopee"), f"https://127.0.0.1:{closed_port()}/x").replace(
            'kind = "http"\n  url = "https', 'kind = "statuspage"\n  url = "https'
        )
    )
    result = run(tmp_path, "status", "--json")
    assert result.returncode == 3, result.stdout
    assert channels(result)["shopee"]["state"] == "unknown"


def test_mark_down_overrides_probes_and_clear_returns_to_them(
    tmp_path: Path, server: LoopbackServer
) -> None:
    write_config(tmp_path, server)
    result = run(tmp_path, "mark", "tiktok", "down", "--reason", "LIVE button fails")
    assert result.returncode == 0, result.stderr
    assert "TikTok Shop" in result.stdout and "DOWN" in result.stdout
    status = run(tmp_path, "status", "--json")
    assert status.returncode == 2
    got = channels(status)["tiktok"]
    assert (got["state"], got["source"], got["reason"]) == ("down", "declared", "LIVE button fails")
    assert got["declared_by"]
    log = run(tmp_path, "log", "--json")
    assert log.returncode == 0, log.stderr
    assert any(e["kind"] == "status.mark" for e in json.loads(log.stdout))
    assert run(tmp_path, "mark", "tiktok", "clear").returncode == 0
    status = run(tmp_path, "status", "--json")
    assert status.returncode == 0
    assert channels(status)["tiktok"]["source"] == "probe"


def test_mark_errors(tmp_path: Path, server: LoopbackServer) -> None:
    write_config(tmp_path, server)
    unknown = run(tmp_path, "mark", "lazada", "down")
    assert unknown.returncode == 64
    assert "no channel 'lazada'" in unknown.stderr and "Traceback" not in unknown.stderr
    assert run(tmp_path, "mark", "tiktok", "sideways").returncode == 64
    (tmp_path / "liveguard.toml").write_text("[[channels]]\nid = 'x'\nbogus = 1\n")
    bad = run(tmp_path, "status")
    assert bad.returncode not in (0, 64) and "bogus" in bad.stderr and "Traceback" not in bad.stderr
