"""The network policy against loopback servers: environment proxies and .netrc never see
a loopback request, proxies serve outside hosts only when the config opts in, and plain
http goes only where a name resolves to loopback and nowhere else."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from liveguard.adapters.config_file import ConfigError, parse_config
from liveguard.adapters.http_pool import DeadlineExceeded, HttpPool, NotLoopback
from liveguard.adapters.probes import run_check
from liveguard.adapters.webhook_sender import WebhookSender
from liveguard.core.config import Check
from liveguard.core.promotion import RenderedRequest
from liveguard.core.status import State
from liveguard.core.timekeeping import FixedClock
from tests.servers import LoopbackServer, reply

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture
def target() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        srv.route("/ok", reply(200, json={"live": {"enabled": True}}))
        yield srv


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """A loopback "proxy" named by every proxy variable; it must see no loopback request."""
    with LoopbackServer() as srv:
        for name in PROXY_VARS:
            monkeypatch.setenv(name, srv.url(""))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        yield srv


def fixed_resolver(addresses: list[str]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        return addresses

    return resolve


@pytest.mark.parametrize("opted_in", [False, True])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_loopback_never_goes_through_the_environment_proxy(
    target: LoopbackServer, proxy: LoopbackServer, opted_in: bool, host: str
) -> None:
    pool = HttpPool(2, use_env_proxy=opted_in)
    try:
        url = target.url("/ok").replace("127.0.0.1", host)
        got = await pool.request("GET", url, deadline=5, headers={"Authorization": "Bearer s3cret"})
    finally:
        await pool.aclose()
    assert got.status == 200
    assert target.hits("/ok") == 1
    assert proxy.requests == []


async def test_an_outside_host_uses_the_proxy_only_when_opted_in(proxy: LoopbackServer) -> None:
    # TEST-NET-1 (192.0.2.0/24) is never routed: without the proxy the request goes nowhere
    url = "https://192.0.2.1/live"
    plain = HttpPool(2)
    try:
        with pytest.raises(Exception) as refused:
            await plain.request("GET", url, deadline=0.5)
    finally:
        await plain.aclose()
    assert not isinstance(refused.value, NotLoopback)
    assert proxy.requests == []

    opted = HttpPool(2, use_env_proxy=True)
    try:
        with pytest.raises(httpx.ProxyError):  # our "proxy" answers 404 to CONNECT
            await opted.request("GET", url, deadline=5)
    finally:
        await opted.aclose()
    assert [(r.method, r.path) for r in proxy.requests] == [("CONNECT", "192.0.2.1:443")]


async def test_netrc_credentials_are_never_sent(
    target: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login seller password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    for opted_in in (False, True):
        pool = HttpPool(2, use_env_proxy=opted_in)
        try:
            await pool.request("GET", target.url("/ok"), deadline=5)
        finally:
            await pool.aclose()
    assert [("authorization" in r.headers) for r in target.requests] == [False, False]


@pytest.mark.parametrize(
    "addresses", [["10.0.0.7"], ["127.0.0.1", "10.0.0.7"], ["::1", "203.0.113.9"], []]
)
async def test_plain_http_to_a_name_that_resolves_elsewhere_is_refused(
    target: LoopbackServer, addresses: list[str]
) -> None:
    pool = HttpPool(2, resolve=fixed_resolver(addresses))
    url = target.url("/ok").replace("127.0.0.1", "shop.localhost")
    try:
        with pytest.raises(NotLoopback):
            await pool.request("GET", url, deadline=5)
    finally:
        await pool.aclose()
    assert target.requests == []


async def test_plain_http_to_a_name_that_resolves_to_loopback_only_is_allowed(
    target: LoopbackServer,
) -> None:
    seen: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        seen.append(host)
        return ["127.0.0.1", "::1"]

    pool = HttpPool(2, resolve=resolve)
    try:
        url = target.url("/ok").replace("127.0.0.1", "localhost")
        got = await pool.request("GET", url, deadline=5)
    finally:
        await pool.aclose()
    assert got.status == 200 and seen == ["localhost"]


async def test_a_refused_name_is_unknown_for_a_probe_and_a_failed_webhook(
    target: LoopbackServer, clock: FixedClock
) -> None:
    pool = HttpPool(2, resolve=fixed_resolver(["10.0.0.7"]))
    url = target.url("/ok").replace("127.0.0.1", "evil.localhost")
    try:
        result = await run_check(pool, Check("http", url=url), "tiktok", clock, {})
        sent = await WebhookSender(pool).send(RenderedRequest("POST", url, {}, b"{}"), 5)
    finally:
        await pool.aclose()
    assert result.outcome is State.UNKNOWN
    assert "plain http:// is allowed only to loopback" in result.reason
    assert sent.http_status is None and sent.permanent
    assert "only to loopback" in sent.error
    assert target.requests == []


async def test_a_name_that_does_not_resolve_is_a_dns_failure(clock: FixedClock) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    pool = HttpPool(2, resolve=resolve)
    check = Check("http", url="http://nowhere.localhost:9/", timeout=timedelta(seconds=2))
    try:
        result = await run_check(pool, check, "tiktok", clock, {})
    finally:
        await pool.aclose()
    assert (result.outcome, result.reason) == (State.DOWN, "host not found (DNS)")


async def test_the_deadline_covers_a_slow_lookup() -> None:
    async def resolve(host: str, port: int) -> list[str]:
        await asyncio.sleep(30)
        return ["127.0.0.1"]

    pool = HttpPool(2, resolve=resolve)
    try:
        with pytest.raises(DeadlineExceeded):
            await pool.request("GET", "http://slow.localhost:9/", deadline=0.2)
    finally:
        await pool.aclose()


def test_network_use_env_proxy_is_a_checked_config_key() -> None:
    assert parse_config("").network.use_env_proxy is False
    assert parse_config("[network]\nuse_env_proxy = true\n").network.use_env_proxy is True
    with pytest.raises(ConfigError) as bad:
        parse_config('shop = "x"\n\n[network]\nuse_env_proxy = "yes"\n')
    assert str(bad.value) == (
        "liveguard.toml:4: network.use_env_proxy: must be true or false, not a string"
    )
    with pytest.raises(ConfigError) as typo:
        parse_config("[network]\nuse_proxy = true\n")
    assert "liveguard.toml:2: network.use_proxy: unknown key" in str(typo.value)
