"""Status pages as Atlassian serves them: redirects within the page's own host are followed
(a bounded number of hops), others are a reason; a component is chosen by id, name or
``group/name``, and a name that matches more than one is an error naming them (in
``status`` and ``doctor``) until the config is precise."""

from __future__ import annotations

import json
import ssl
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.probes import run_check
from liveguard.core.config import Check
from liveguard.core.status import ProbeResult, State
from liveguard.core.timekeeping import FixedClock
from tests.cli_runner import run_liveguard
from tests.conftest import EVENING
from tests.servers import LoopbackServer, reply, self_signed_tls

SHORT = timedelta(seconds=2)

# A HashiCorp-style page: the group "Boundary" holds a component also called "Boundary".
PAGE = {
    "page": {"id": "hc", "name": "HashiCorp Services"},
    "components": [
        {"id": "grp-boundary", "name": "Boundary", "status": "partial_outage", "group": True,
         "group_id": None, "components": ["cmp-boundary", "cmp-workers"]},
        {"id": "cmp-boundary", "name": "Boundary", "status": "operational", "group": False,
         "group_id": "grp-boundary"},
        {"id": "cmp-workers", "name": "Boundary Workers", "status": "major_outage",
         "group": False, "group_id": "grp-boundary"},
        {"id": "cmp-vault", "name": "Vault", "status": "degraded_performance", "group": False,
         "group_id": None},
    ],
}  # fmt: skip
AMBIGUOUS = (
    "status page: component 'Boundary' matches 2 ('Boundary' (group, id 'grp-boundary'), "
    "'Boundary/Boundary' (id 'cmp-boundary')); set component to one id or to \"group/name\""
)


def moved(to: str, status: int = 301) -> object:
    return reply(status, headers={"Location": to})


@pytest.fixture(scope="module")
def page() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        srv.route("/api/v2/components.json", reply(json=PAGE))
        srv.route("/api/v2/status.json", reply(json={"status": {"indicator": "minor"}}))
        # the page moved within its host: relative and absolute Locations, several hops
        srv.route("/old/api/v2/components.json", moved("/older/api/v2/components.json", 302))
        srv.route("/older/api/v2/components.json", moved(srv.url("/api/v2/components.json"), 308))
        srv.route("/loop/api/v2/status.json", moved("/loop/api/v2/status.json"))
        srv.route(
            "/away/api/v2/status.json", moved("https://status.example.org/api/v2/status.json")
        )
        srv.route("/other-port/api/v2/status.json", moved("http://127.0.0.1:1/api/v2/status.json"))
        srv.route(
            "/localhost/api/v2/status.json",
            moved(f"http://localhost:{srv.port}/api/v2/status.json"),
        )
        srv.route("/bare/api/v2/status.json", reply(301))
        yield srv


async def probe(url: str, component: str = "", pool: HttpPool | None = None) -> ProbeResult:
    check = Check("statuspage", url=url, component=component, timeout=SHORT)
    own = pool or HttpPool(2)
    try:
        return await run_check(own, check, "tiktok", FixedClock(EVENING), environ={})
    finally:
        if pool is None:
            await own.aclose()


async def test_same_host_redirects_are_followed(page: LoopbackServer) -> None:
    got = await probe(page.url("/old"), component="Vault")
    assert (got.outcome, got.reason) == (State.DEGRADED, "Vault: degraded performance")
    assert page.hits("/older/api/v2/components.json") >= 1


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/loop", "status page: more than 5 redirects"),
        ("/away", "status page redirects elsewhere (status 301 to https://status.example.org/api/v2/status.json); set url to the page's own address"),
        ("/other-port", "status page redirects elsewhere (status 301 to http://127.0.0.1/api/v2/status.json); set url to the page's own address"),
        ("/localhost", "status page redirects elsewhere (status 301 to http://localhost/api/v2/status.json); set url to the page's own address"),
        ("/bare", "status page replied with status 301 without a Location"),
    ],
)  # fmt: skip
async def test_other_redirects_are_a_reason(page: LoopbackServer, path: str, reason: str) -> None:
    before = page.hits(f"{path}/api/v2/status.json")
    got = await probe(page.url(path))
    assert (got.outcome, got.reason) == (State.UNKNOWN, reason)
    hops = page.hits(f"{path}/api/v2/status.json") - before
    assert hops == (6 if path == "/loop" else 1)


async def test_an_upgrade_to_https_on_the_same_host_is_followed(tmp_path: Path) -> None:
    tls = self_signed_tls(tmp_path)
    if tls is None:
        pytest.skip("openssl is not installed")
    with LoopbackServer(tls=tls.context) as secure, LoopbackServer() as plain:
        secure.route("/api/v2/status.json", reply(json={"status": {"indicator": "major"}}))
        plain.route("/api/v2/status.json", moved(secure.url("/api/v2/status.json")))
        trusting = HttpPool(2, verify=ssl.create_default_context(cafile=tls.cert))  # type: ignore[arg-type]
        try:
            got = await probe(plain.url("/"), pool=trusting)
        finally:
            await trusting.aclose()
    assert (got.outcome, got.reason) == (State.DOWN, "status page: major")


@pytest.mark.parametrize(
    ("component", "state", "reason"),
    [
        ("cmp-boundary", State.UP, "Boundary: operational"),
        ("grp-boundary", State.DOWN, "Boundary: partial outage"),
        ("Boundary/Boundary", State.UP, "Boundary: operational"),
        ("boundary/boundary workers", State.DOWN, "Boundary Workers: major outage"),
        ("Boundary Workers", State.DOWN, "Boundary Workers: major outage"),
        ("vault", State.DEGRADED, "Vault: degraded performance"),
        ("Boundary", State.UNKNOWN, AMBIGUOUS),
        ("Consul", State.UNKNOWN, "status page has no component 'Consul'"),
    ],
)
async def test_component_by_id_name_or_group_path(
    page: LoopbackServer, component: str, state: State, reason: str
) -> None:
    got = await probe(page.url("/"), component=component)
    assert (got.outcome, got.reason) == (state, reason)


def write_home(home: Path, page: LoopbackServer, component: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "liveguard.toml").write_text(
        f"""
[[channels]]
id = "boundary"
name = "Boundary"
  [[channels.checks]]
  kind = "statuspage"
  url = "{page.url("/old")}"
  component = "{component}"
  timeout = "2s"
""",
        encoding="utf-8",
    )


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_liveguard("--lang", "en", *args, env={"LIVEGUARD_HOME": str(home)})


def test_an_ambiguous_name_is_an_error_in_status_and_doctor(
    tmp_path: Path, page: LoopbackServer
) -> None:
    write_home(tmp_path, page, "Boundary")
    status = run(tmp_path, "status", "--json")
    assert status.returncode == 3, status.stderr
    [channel] = json.loads(status.stdout)["channels"]
    assert (channel["state"], channel["reason"]) == ("unknown", AMBIGUOUS)
    doctor = run(tmp_path, "doctor")
    assert doctor.returncode == 1, doctor.stdout
    assert f"FAIL  status   channels[0].checks[0]: {AMBIGUOUS}" in doctor.stdout

    write_home(tmp_path, page, "Boundary/Boundary")  # precise: both are content
    status = run(tmp_path, "status", "--json")
    assert status.returncode == 0, status.stdout
    doctor = run(tmp_path, "doctor")
    assert "ok    status   channels[0].checks[0]: component found" in doctor.stdout
    assert doctor.returncode == 0, doctor.stdout
