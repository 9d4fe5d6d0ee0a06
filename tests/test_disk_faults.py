"""Disk full and read-only home: one clear line, no partial or temp files, nothing changed,
and everything works again once space returns.

A read-only state folder (chmod 0500) is tried for real: as root (where chmod does not bind)
the command runs as the unprivileged user ``nobody`` through ``setpriv`` when the machine
allows it, and the test says plainly when it cannot. The same faults are also injected
in-process (tests/disk_fault_child.py gives ``atomic_storage`` an ``os`` whose new files fail
with ENOSPC or EROFS).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from liveguard.adapters import atomic_storage
from liveguard.adapters.atomic_storage import TEMP_MARK
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.state_home import StateError, StateHome
from liveguard.core.timekeeping import FixedClock
from liveguard.service import planb as planb_module
from liveguard.service.events import Event, Notice, PlanBChanged, Publisher
from liveguard.service.planb import PlanBService
from liveguard.service.sales import SaleInputError, SalesService
from liveguard.service.status import StatusService
from tests.disk_fault_child import FaultyOs
from tests.fixtures_sales import shop_config

CHILD = Path(__file__).with_name("disk_fault_child.py")
COMMANDS = {
    "sale add": ["sale", "add", "shopee", "125000", "--order", "NEW-1"],
    "mark": ["mark", "tiktok", "down", "--reason", "the live button is gone"],
}


def state_bytes(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def env() -> dict[str, str]:
    drop = ("LIVEGUARD_HOME", "LIVEGUARD_DEBUG")
    return {k: v for k, v in os.environ.items() if k not in drop}


def run(
    args: list[str], *, fault: str | None = None, user: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """The real command (or the fault-injecting child); ``user`` prefixes it, e.g. setpriv."""
    cmd = (
        [sys.executable, str(CHILD), fault, *args]
        if fault
        else [*user, sys.executable, "-m", "liveguard", *args]
    )
    return subprocess.run(cmd, capture_output=True, text=True, env=env(), timeout=60)


@pytest.fixture
def seeded_home(tmp_path: Path) -> Path:
    """A home with a config, one sale and one declaration already stored."""
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "liveguard.toml").write_text(shop_config())
    for args in (
        ["sale", "add", "shopee", "50000", "--order", "OLD-1"],
        ["mark", "shopee", "up", "--reason", "checked"],
    ):
        done = run(["--home", str(folder), *args])
        assert done.returncode == 0, done.stderr
    return folder


def assert_one_clear_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("liveguard: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert TEMP_MARK not in lines[0]  # the file being saved is named, not a temp file


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(
    ("fault", "hint"), [("enospc", "the disk is full"), ("erofs", "the disk is read-only")]
)
def test_cli_on_a_disk_that_refuses_writes(
    seeded_home: Path, command: str, fault: str, hint: str
) -> None:
    state = seeded_home / "state"
    before = state_bytes(state)
    done = run(["--home", str(seeded_home), *COMMANDS[command]], fault=fault)
    assert_one_clear_line(done, "could not save", hint, str(state))
    assert state_bytes(state) == before
    assert not list(state.rglob(f"*{TEMP_MARK}*"))
    again = run(["--home", str(seeded_home), *COMMANDS[command]])  # space is back
    assert again.returncode == 0, again.stderr
    assert state_bytes(state) != before


def unprivileged() -> tuple[list[str], int] | str:
    """How to run a command as a user chmod binds: ([], our uid) when we are not root, as
    root (setpriv prefix, uid of ``nobody``) when that works here, else why it cannot."""
    if os.geteuid() != 0:
        return [], os.geteuid()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return "running as root and setpriv is not installed"
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return "running as root and there is no user 'nobody'"
    ids = [f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
    prefix = [setpriv, *ids]
    probe = run(["--version"], user=prefix)
    if probe.returncode != 0:
        return f"running as root and 'nobody' cannot run this checkout: {probe.stderr.strip()}"
    return prefix, nobody.pw_uid


@pytest.fixture
def read_only(seeded_home: Path) -> Iterator[tuple[Path, Path, list[str]]]:
    """(home, its read-only state folder, the command prefix of a user chmod binds)."""
    how = unprivileged()
    if isinstance(how, str):
        pytest.skip(f"a read-only folder cannot be tried for real here ({how})")
    user, uid = how
    # A home the other user can reach (pytest's tmp folders are root's own, mode 0700).
    parent = Path(tempfile.mkdtemp(prefix="liveguard-ro-"))
    parent.chmod(0o755)
    home = Path(shutil.copytree(seeded_home, parent / "home"))
    for path in [home, *home.rglob("*")]:
        os.chown(path, uid, -1)
    state = home / "state"
    for folder in [p for p in [state, *state.rglob("*")] if p.is_dir()]:
        folder.chmod(0o500)
    try:
        yield home, state, user
    finally:
        for folder in [p for p in [state, *state.rglob("*")] if p.is_dir()]:
            folder.chmod(0o700)
        shutil.rmtree(parent)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_on_a_read_only_state_folder(
    read_only: tuple[Path, Path, list[str]], command: str
) -> None:
    home, state, user = read_only
    before = state_bytes(state)
    done = run(["--home", str(home), *COMMANDS[command]], user=user)
    assert_one_clear_line(done, str(state))
    assert state_bytes(state) == before


# -- in-process: a clear error, then recovery -------------------------------------------------
@pytest.mark.parametrize("fault", ["enospc", "erofs"])
def test_services_fail_clearly_and_recover_when_space_returns(
    home: StateHome, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    config = parse_config(shop_config(), "liveguard.toml", {})
    sales = SalesService(config, home, clock)
    status = StatusService(config, home, clock)
    sales.add_sale("shopee", "50000", order_id="OLD-1")
    status.declare("shopee", "up", "checked", who="ani")
    before = state_bytes(home.dir)

    faulty = FaultyOs(fault)
    monkeypatch.setattr(atomic_storage, "os", faulty)
    with pytest.raises(SaleInputError, match="could not save") as sale_error:
        sales.add_sale("shopee", "125000", order_id="NEW-1")
    with pytest.raises(StateError, match="could not save") as mark_error:
        status.declare("tiktok", "down", "gone", who="ani")
    for error in (sale_error.value, mark_error.value):
        assert "\n" not in str(error) and TEMP_MARK not in str(error)
    assert faulty.failures >= 2
    # the orders and declarations on disk are the ones before the fault
    assert state_bytes(home.dir) == before  # orders, declarations and the audit log
    assert not list(home.dir.rglob(f"*{TEMP_MARK}*"))
    assert [o.order_id for o in sales.orders.day_orders(sales.today().day)] == ["OLD-1"]

    monkeypatch.undo()  # space returns
    sales.add_sale("shopee", "125000", order_id="NEW-1")
    status.declare("tiktok", "down", "gone", who="ani")
    ids = sorted(o.order_id for o in sales.orders.day_orders(sales.today().day))
    assert ids == ["NEW-1", "OLD-1"]
    fresh = StatusService(config, home, clock)
    fresh.load()
    marks = {s.channel: s.declaration for s in fresh.statuses()}
    assert marks["shopee"] is not None and marks["tiktok"] is not None


async def test_the_running_room_keeps_probing_and_feeding_through_a_full_disk(
    home: StateHome, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status batch writer and an order feed meet ENOSPC: one notice or a stale feed
    naming the disk, nothing raised out of the background work, and the batch that could
    not be written is written once space returns."""
    from liveguard.adapters.http_pool import HttpPool
    from liveguard.adapters.probes import CheckJob
    from liveguard.adapters.status_store import StatusStore
    from liveguard.core.config import Channel, Check, OrderSource
    from liveguard.core.status import ProbeResult, State
    from tests.servers import LoopbackServer, reply

    check = Check("http", url="http://127.0.0.1/live")
    config = parse_config(shop_config(), "liveguard.toml", {})
    config = replace(config, channels=(Channel("tiktok", "TikTok Shop", True, (check,)),))
    status = StatusService(config, home, clock)
    told: list[Event] = []
    status.events.subscribe(told.append)
    status.load()
    job = CheckJob("tiktok", 0, check)
    monkeypatch.setattr(atomic_storage, "os", FaultyOs("enospc"))
    status.record(job, ProbeResult(State.DOWN, "status 503", clock.now()))
    await status.sync()
    await status.sync()
    notices = [e.text for e in told if isinstance(e, Notice) and "could not save" in e.text]
    assert len(notices) == 1 and "the disk is full" in notices[0]  # told once, not every second
    assert "tiktok" not in StatusStore(home).channels()

    with LoopbackServer() as srv:
        srv.route("/orders", reply(json=[{"id": "F1", "created": "2026-11-28T20:00", "amount": 1}]))
        source = OrderSource("http-json", "tiktok", srv.url("/orders"))
        pool = HttpPool(2)
        try:
            sales = SalesService(replace(config, sources=(source,)), home, clock, pool=pool)
            view = await sales.poll_source(0)
            assert view.state == "stale" and "could not save" in view.reason, view
            monkeypatch.undo()  # space returns
            assert (await sales.poll_source(0)).state == "ok"
        finally:
            await pool.aclose()
    await status.sync()
    assert StatusStore(home).channels()["tiktok"]  # the held-back batch is on disk now


async def until(what: str, condition: Callable[[], bool], deadline_s: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline_s
    while not condition():
        assert loop.time() < give_up, f"never saw: {what}"
        await asyncio.sleep(0.01)


async def test_plan_b_goes_on_by_itself_once_space_returns(
    home: StateHome, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while Plan B is starting: its loop says so once and keeps trying; once
    space returns the start action goes out (once) and the switch settles, with no restart."""
    from tests.servers import LoopbackServer, reply
    from tests.test_promo_outbox import ENV, plan_config

    monkeypatch.setattr(planb_module, "LOOP_BACKOFF_S", (0.05,))  # retry fast, same path
    with LoopbackServer() as srv:
        srv.route("/start", reply(200))
        events = Publisher()
        told: list[Event] = []
        events.subscribe(told.append)
        planb = PlanBService(
            plan_config(srv.url("")), home, clock=clock, environ=ENV, opener=None, events=events
        )
        planb.press(reason="TikTok down", skip_grace=True)  # the key press was saved
        faulty = FaultyOs("enospc")
        monkeypatch.setattr(atomic_storage, "os", faulty)
        stop = asyncio.Event()
        loop_task = asyncio.create_task(planb.run(stop))
        try:
            await until("three failed rounds", lambda: faulty.failures >= 3)
            assert not loop_task.done()  # the loop lives on
            assert not [r for r in srv.requests if r.path.startswith("/start")]  # not claimed
            assert planb.switch().phase == "activating"

            monkeypatch.setattr(atomic_storage, "os", os)  # space returns
            await until("Plan B active", lambda: planb.switch().phase == "active")
        finally:
            stop.set()
            planb.wake.set()
            await asyncio.wait_for(loop_task, 10)
            await planb.aclose()
        starts = [r for r in srv.requests if r.path.startswith("/start")]
        assert len(starts) == 1  # delivered exactly once
    notices = [e.text for e in told if isinstance(e, Notice)]
    assert len(notices) == 1 and "the disk is full" in notices[0], notices  # told once
    kinds = [e.kind for e in told if isinstance(e, PlanBChanged)]
    assert "planb.attempt" in kinds and kinds.count("planb.transition") >= 2


async def test_the_plan_b_key_on_a_full_disk_says_so_and_changes_nothing(
    home: StateHome, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import make_app

    app = make_app(home, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        monkeypatch.setattr(atomic_storage, "os", FaultyOs("enospc"))
        await app.run_action("planb")
        await pilot.pause()  # the notification is a message to the app
        # the key's own answer (background notices carry the "Note" title)
        said = [n.message for n in app._notifications if not n.title]
        assert said and "could not save" in said[0] and "the disk is full" in said[0]
        assert app.room.planb.switch().phase == "idle"
        monkeypatch.setattr(atomic_storage, "os", os)  # space returns
        await app.run_action("planb")
        assert app.room.planb.switch().phase == "pending"
        assert app.is_running
