"""Plan B readiness, before the outage: what would fail is found without firing anything.

Against loopback servers: a TLS server with a trusted and with an expired certificate, a
closed port, a receiver for the fire drill; and the CLI as a seller runs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Config
from liveguard.core.timekeeping import FixedClock
from liveguard.core.webhook_signing import verify
from liveguard.i18n import Catalog
from liveguard.service.readiness import ReadinessService, describe
from tests.cli_runner import run_liveguard
from tests.servers import LoopbackServer, closed_port, reply, self_signed_tls

CLOCK = FixedClock(datetime.fromisoformat("2026-11-28T20:41:00+07:00"))
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def promotion(actions: str) -> str:
    return f'[[promotions]]\nid = "plan-b"\nname = "Plan B"\narmed = true\n{actions}'


def webhook(url: str, extra: str = "") -> str:
    return f'\n  [[promotions.actions]]\n  kind = "webhook"\n  url = "{url}"\n  {extra}\n'


def config(actions: str, env: dict[str, str] | None = None) -> Config:
    return parse_config(promotion(actions), "liveguard.toml", environ=env or {"T": "x"})


def problems(result, lang: str = "en") -> list[str]:  # type: ignore[no-untyped-def]
    t = Catalog(lang)
    return [describe(p, t) for p in result.problems]


async def test_ready_when_every_address_answers_with_a_trusted_certificate(
    tmp_path: Path,
) -> None:
    tls = self_signed_tls(tmp_path / "tls")
    assert tls is not None, "openssl is needed for the TLS checks"
    with LoopbackServer(tls=tls.context) as srv:
        service = ReadinessService(
            config(webhook(srv.url("/start"))), CLOCK, {}, verify=str(tls.cert)
        )
        result = await service.check()
    assert (result.ready, problems(result)) == (True, [])
    assert srv.requests == [], "a readiness check sends nothing"


async def test_an_expired_certificate_a_closed_port_and_a_missing_variable_are_each_named(
    tmp_path: Path,
) -> None:
    tls = self_signed_tls(tmp_path / "tls", expired=True)
    assert tls is not None
    dead = f"http://127.0.0.1:{closed_port()}/start"
    long_text = "x" * 5000
    with LoopbackServer(tls=tls.context) as srv:
        actions = (
            webhook(srv.url("/start"))
            + webhook("https://127.0.0.1:1/never", f'check_url = "{dead}"')
            + webhook(
                "http://127.0.0.1:9/x", 'headers = { Authorization = "Bearer ${HOOK_TOKEN}" }'
            )
            + f'\n  [[promotions.actions]]\n  kind = "message"\n  text = "{long_text}"\n'
        )
        cfg = parse_config(promotion(actions), "liveguard.toml", environ={"HOOK_TOKEN": "s3"})
        service = ReadinessService(cfg, CLOCK, {}, verify=str(tls.cert), timeout_s=3)
        result = await service.check()
    said = problems(result)
    assert result.ready is False
    assert any(s.startswith("action 1: cannot reach its address: TLS:") for s in said), said
    assert "expired" in " ".join(said)
    assert "action 2: cannot reach its address: connection refused" in said
    assert "action 3: ${HOOK_TOKEN} is not set (used in headers.Authorization)" in said
    assert "action 4: the message has 5000 characters; WhatsApp takes 4096" in said
    assert "s3" not in " ".join(said)
    indonesian = problems(result, "id")
    assert "langkah 3: ${HOOK_TOKEN} belum diisi (dipakai di headers.Authorization)" in indonesian


@pytest.fixture
def receiver() -> Iterator[LoopbackServer]:
    with LoopbackServer(webhook_secret=SECRET, webhook_now=CLOCK.now) as srv:
        srv.route("/test", reply(200))
        yield srv


async def test_the_fire_drill_sends_a_signed_request_marked_as_a_test(
    receiver: LoopbackServer, tmp_path: Path
) -> None:
    home = StateHome(Paths.resolve(home=str(tmp_path))).open()
    actions = webhook(
        receiver.url("/start"),
        f'test_url = "{receiver.url("/test")}"\n  secret = "${{S}}"\n  body = {{ voucher = "LIVEDOWN20" }}',
    )
    cfg = parse_config(promotion(actions), "liveguard.toml", environ={"S": SECRET})
    service = ReadinessService(cfg, CLOCK, {"S": SECRET})
    pool = HttpPool(4)
    try:
        results = await service.send_tests(None, home, pool)
    finally:
        await pool.aclose()
    assert results == [(1, "HTTP 200")]
    [req] = receiver.requests
    assert req.path == "/test" and req.headers["x-liveguard-test"] == "1"
    stamp = int(req.headers["webhook-timestamp"])
    assert verify(
        SECRET, req.headers["webhook-id"], stamp, req.body, req.headers["webhook-signature"],
        now=int(CLOCK.now().timestamp()),
    )  # fmt: skip
    assert receiver.unverified == []  # the official library verified it too
    [entry] = AuditLog(home).entries()
    assert (entry["kind"], entry["detail"]["ok"]) == ("planb.test", True)
    home.close()


def test_cli_promo_check_exit_codes_json_and_status(tmp_path: Path) -> None:
    env = {"LIVEGUARD_HOME": str(tmp_path)}
    dead = f"http://127.0.0.1:{closed_port()}/start"
    (tmp_path / "liveguard.toml").write_text(promotion(webhook(dead)))
    not_ready = run_liveguard("promo", "check", "--json", env=env)
    assert not_ready.returncode == 1, not_ready.stderr
    out = json.loads(not_ready.stdout)
    assert (out["id"], out["ready"]) == ("plan-b", False)
    assert out["problems"] == ["action 1: cannot reach its address: connection refused"]
    status = json.loads(run_liveguard("status", "--json", env=env).stdout)
    assert status["planb"]["ready"] is False
    assert status["planb"]["state"] == "armed"
    doctor = run_liveguard("doctor", env=env)
    assert "FAIL  planb" in doctor.stdout
    with LoopbackServer() as srv:
        (tmp_path / "liveguard.toml").write_text(promotion(webhook(srv.url("/start"))))
        ready = run_liveguard("--lang", "id", "promo", "check", env=env)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "SIAP DIPAKAI" in ready.stdout


async def test_the_room_checks_readiness_by_itself_when_it_starts(tmp_path: Path) -> None:
    import asyncio

    from liveguard.service.room import ControlRoom

    home = StateHome(Paths.resolve(home=str(tmp_path))).open()
    dead = f"http://127.0.0.1:{closed_port()}/start"
    room = ControlRoom(config(webhook(dead)), home, CLOCK, "en", readiness_every=3600)
    await room.start()
    try:
        for _ in range(250):
            if room.readiness.last is not None:
                break
            await asyncio.sleep(0.02)
        assert room.readiness.last is not None
        assert room.readiness.last.ready is False
    finally:
        await room.stop()
        home.close()
