"""The state store: atomic writes, orphan cleanup, corrupt files, permissions, locks, crashes."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from liveguard.adapters.atomic_storage import TEMP_MARK, atomic_write_bytes
from liveguard.adapters.order_store import OrderStore
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import RoomBusyError, StateError, StateHome
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.timekeeping import FixedClock, load_zone

ROOT = Path(__file__).resolve().parents[1]
WIB = load_zone("Asia/Jakarta")
POSIX = os.name == "posix"


def order(n: int, amount: int = 50_000, status: OrderStatus = OrderStatus.PAID) -> Order:
    created = datetime(2026, 11, 28, 13, 0, tzinfo=UTC) + timedelta(minutes=n)
    return Order("tiktok", f"o{n}", created, amount, status)


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    atomic_write_bytes(target, b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def record_syncs(monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[str]:
    """Every fsync (of a file, of ``folder``, of another folder) and rename, in order."""
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        if not stat.S_ISDIR(st.st_mode):
            events.append("file")
        elif folder.exists() and st.st_ino == folder.stat().st_ino:
            events.append("folder")
        else:
            events.append("other folder")
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        events.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


@pytest.mark.skipif(not POSIX, reason="folders can be fsynced on POSIX only")
def test_a_write_fsyncs_the_file_before_the_rename_and_the_folder_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the folder fsync a power cut may forget the rename, i.e. the new file."""
    events = record_syncs(monkeypatch, tmp_path)
    atomic_write_bytes(tmp_path / "x.json", b"new")
    assert events == ["file", "rename", "folder"]


@pytest.mark.skipif(not POSIX, reason="folders can be fsynced on POSIX only")
def test_an_import_fsyncs_the_orders_folder_after_its_last_rename(
    home: StateHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = OrderStore(home, WIB)
    store.upsert(order(1))  # the orders folder exists from here on
    events = record_syncs(monkeypatch, home.dir / "orders")
    store.upsert_many([order(n * 24 * 60) for n in range(3)])
    assert events.count("rename") == 3 and events.count("folder") == 1
    assert events[-1] == "folder"


@pytest.mark.skipif(not POSIX, reason="file modes are POSIX")
def test_state_files_are_owner_only(home: StateHome) -> None:
    OrderStore(home, WIB).upsert(order(1))
    files = home.files()
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_orders_are_keyed_by_channel_and_id(home: StateHome) -> None:
    store = OrderStore(home, WIB)
    assert store.upsert(order(1)) == "added"
    assert store.upsert(order(1)) == "unchanged"
    assert store.upsert(order(1, amount=75_000)) == "updated"
    assert store.upsert_many([order(2), order(2), order(3)]) == ["added", "unchanged", "added"]
    day = order(1).created.astimezone(WIB).date()
    orders = {o.order_id: o for o in store.day_orders(day)}
    assert sorted(orders) == ["o1", "o2", "o3"]
    assert orders["o1"].amount == 75_000


def test_orders_land_in_the_local_day_file(home: StateHome) -> None:
    store = OrderStore(home, WIB)
    # 17.30 UTC is 00.30 WIB the next day.
    late = Order("shopee", "late", datetime(2026, 11, 28, 17, 30, tzinfo=UTC), 1000)
    store.upsert(late)
    assert (home.dir / "orders" / "2026-11-29.json").exists()
    assert not (home.dir / "orders" / "2026-11-28.json").exists()


def test_orphaned_temp_files_are_removed_at_start(paths: Paths, clock: FixedClock) -> None:
    paths.state.mkdir(parents=True)
    orphan = paths.state / f"status.json{TEMP_MARK}1234-abcd"
    orphan.write_text("{half a write")
    nested = paths.state / "orders"
    nested.mkdir()
    (nested / f"2026-11-28.json{TEMP_MARK}99-ff").write_text("{")
    home = StateHome(paths, clock).open()
    try:
        assert not orphan.exists()
        assert list(nested.iterdir()) == []
    finally:
        home.close()


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (
            b'{"_meta": {"1": {"kind": "orders-day", "schema": 1}}, "orders": {"1": {"chan',
            "not valid JSON",
        ),
        (b"", "empty file"),
        (b"[1, 2, 3]", "unexpected shape"),
        (b'{"_meta": {"1": {"kind": "audit", "schema": 1}}}', "not a orders-day file"),
        (b"\x00\x00\x00\x00", "not valid JSON"),
    ],
)
def test_an_unreadable_file_is_moved_aside_and_we_go_on(
    home: StateHome, content: bytes, why: str
) -> None:
    day_file = home.dir / "orders" / "2026-11-28.json"
    day_file.parent.mkdir(parents=True, exist_ok=True)
    day_file.write_bytes(content)
    store = OrderStore(home, WIB)
    assert store.upsert(order(1)) == "added"  # starts with what it can
    aside = list(day_file.parent.glob("2026-11-28.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content  # nothing destroyed
    assert len(home.notices) == 1
    assert why in home.notices[0] and aside[0].name in home.notices[0]
    assert [o.order_id for o in store.day_orders(order(1).created.date())] == ["o1"]


def test_a_newer_schema_is_refused_not_destroyed(home: StateHome) -> None:
    path = home.dir / "status.json"
    path.write_text(json.dumps({"_meta": {"1": {"kind": "status", "schema": 99}}}))
    with pytest.raises(StateError, match="newer liveguard"):
        home.db("status.json", "status")
    assert path.exists()


def test_migrations_run_step_by_step(home: StateHome, monkeypatch: pytest.MonkeyPatch) -> None:
    from liveguard.adapters import state_home

    monkeypatch.setitem(state_home.SCHEMAS, "status", 2)
    monkeypatch.setitem(
        state_home.MIGRATIONS, "status", {1: lambda raw: {**raw, "declared": {"1": {"x": 1}}}}
    )
    path = home.dir / "status.json"
    path.write_text(json.dumps({"_meta": {"1": {"kind": "status", "schema": 1}}}))
    db = home.db("status.json", "status")
    assert db.table("declared").all() == [{"x": 1}]
    assert json.loads(path.read_text())["_meta"]["1"]["schema"] == 2


def test_another_process_write_is_seen(home: StateHome, paths: Paths) -> None:
    store = OrderStore(home, WIB)
    store.upsert(order(1))
    day = order(1).created.astimezone(WIB).date()
    assert len(store.day_orders(day)) == 1
    subprocess.run(
        [sys.executable, "-c", _WRITE_ONE, str(paths.state.parent)],
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    assert sorted(o.order_id for o in store.day_orders(day)) == ["o1", "other"]
    store.upsert(order(2))
    assert sorted(o.order_id for o in store.day_orders(day)) == ["o1", "o2", "other"]


_WRITE_ONE = """
import sys
from datetime import UTC, datetime
from liveguard.adapters.order_store import OrderStore
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.orders import Order
from liveguard.core.timekeeping import load_zone
home = StateHome(Paths.resolve(home=sys.argv[1])).open()
OrderStore(home, load_zone("Asia/Jakarta")).upsert(
    Order("tiktok", "other", datetime(2026, 11, 28, 13, 30, tzinfo=UTC), 1))
home.close()
"""

_HOLD_ROOM = """
import sys
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
home = StateHome(Paths.resolve(home=sys.argv[1])).open()
home.hold_room()
print("holding", flush=True)
sys.stdin.readline()
home.close()
"""


def test_a_second_control_room_is_told_who_holds_the_home(paths: Paths, clock: FixedClock) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_ROOM, str(paths.state.parent)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        home = StateHome(paths, clock).open()
        try:
            assert home.room_is_open()
            with pytest.raises(
                RoomBusyError, match=rf"already open on this home \(pid {holder.pid}"
            ):
                home.hold_room()
            # Writes still work through the shared write lock.
            assert OrderStore(home, WIB).upsert(order(1)) == "added"
        finally:
            home.close()
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
    home = StateHome(paths, clock).open()
    try:
        assert not home.room_is_open()
        home.hold_room()  # free again once the first one has gone
    finally:
        home.close()


def test_two_processes_writing_at_once_lose_nothing(paths: Paths, clock: FixedClock) -> None:
    writers = [
        subprocess.Popen(
            [sys.executable, "tests/crash_writer.py", str(paths.state.parent), str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for start in (0, 100_000)
    ]
    acked: list[str] = []
    try:
        for writer in writers:
            assert writer.stdout is not None
            for _ in range(25):
                acked.append(writer.stdout.readline().strip())
    finally:
        for writer in writers:
            writer.kill()
            writer.wait(timeout=30)
    for writer in writers:
        assert writer.stdout is not None
        acked.extend(line.strip() for line in writer.stdout.read().splitlines())
    home = StateHome(paths, clock).open()
    try:
        stored = {o.order_id for o in _all_orders(home)}
        assert home.notices == []
        assert set(acked) <= stored
    finally:
        home.close()


def _all_orders(home: StateHome) -> list[Order]:
    store = OrderStore(home, WIB)
    out: list[Order] = []
    for day in store.days():
        out.extend(store.day_orders(day))
    return out


def test_kill_9_at_any_instant_never_loses_an_acknowledged_order(
    paths: Paths, clock: FixedClock, big: bool
) -> None:
    rounds = 200 if big else 6
    rng = random.Random(20250830)
    acked: list[str] = []
    next_id = 0
    for _ in range(rounds):
        child = subprocess.Popen(
            [sys.executable, "tests/crash_writer.py", str(paths.state.parent), str(next_id)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        first = child.stdout.readline().strip()
        assert first, "the writer died before its first write"
        acked.append(first)
        # A random instant, so some kills land mid-write (temp file open, before the rename).
        time.sleep(rng.uniform(0, 0.05))
        os.kill(child.pid, signal.SIGKILL if POSIX else signal.SIGTERM)
        child.wait(timeout=30)
        acked.extend(line.strip() for line in child.stdout.read().splitlines() if line.strip())
        next_id = int(acked[-1][1:]) + 1
        home = StateHome(paths, clock).open()
        try:
            assert home.notices == [], home.notices  # every file readable
            stored = {o.order_id for o in _all_orders(home)}
            missing = set(acked) - stored
            assert not missing, f"acknowledged but lost: {sorted(missing)[:5]}"
            assert not list(home.dir.rglob(f"*{TEMP_MARK}*"))  # orphans cleaned at start
        finally:
            home.close()


def test_a_failed_write_changes_nothing_and_leaves_no_temp(
    home: StateHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full: the error surfaces, the file keeps its last good content, memory agrees."""
    import errno

    from liveguard.adapters import atomic_storage

    store = OrderStore(home, WIB)
    store.upsert(order(1))
    day_file = home.dir / "orders" / "2026-11-28.json"
    before = day_file.read_bytes()

    def full_disk(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(atomic_storage.os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        store.upsert(order(2))
    monkeypatch.undo()
    assert day_file.read_bytes() == before
    assert not list(home.dir.rglob(f"*{TEMP_MARK}*"))
    day = order(1).created.astimezone(WIB).date()
    assert [o.order_id for o in store.day_orders(day)] == ["o1"]  # the cache was not left ahead
    assert store.upsert(order(2)) == "added"  # recovers when space returns


def test_a_batch_over_many_days_syncs_the_folder_once_after_every_file_is_in_place(
    home: StateHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file is still temp + fsync + rename (a new day whole, an existing day one small
    segment); the orders folder is fsynced once, after the batch's last rename and before
    upsert_many returns (so the import is durable)."""
    from liveguard.adapters import atomic_storage, order_store

    store = OrderStore(home, WIB)
    store.upsert(order(1))  # an existing day is updated, new days are created
    batch = [order(n * 24 * 60) for n in range(5)] + [order(1)]
    synced: list[list[str]] = []
    per_file: list[str] = []
    real_sync = order_store.fsync_folder

    def recording_sync(folder: Path) -> None:
        synced.append(sorted(p.name for p in folder.iterdir()))
        real_sync(folder)

    monkeypatch.setattr(order_store, "fsync_folder", recording_sync)
    monkeypatch.setattr(atomic_storage, "fsync_folder", lambda folder: per_file.append("dir"))
    assert store.upsert_many(batch) == ["added"] * 5 + ["unchanged"]
    assert per_file == []  # no folder sync per file …
    days = [f"2026-{m}.json" for m in ("11-28", "11-29", "11-30", "12-01", "12-02")]
    # … one, when every file was renamed into place, no temp left
    assert synced == [["2026-11-28.000001.json", *days]]
    first_day = order(1).created.astimezone(WIB).date()
    assert {o.order_id for o in store.day_orders(first_day)} == {"o0", "o1"}
    assert store.upsert_many(batch) == ["unchanged"] * 6
    assert len(synced) == 1  # nothing changed: nothing written, nothing synced


def test_the_day_index_follows_the_file_and_closed_days_are_not_kept_parsed(
    home: StateHome, paths: Paths, clock: FixedClock
) -> None:
    store = OrderStore(home, WIB)
    today = clock.now().astimezone(WIB).date()
    yesterday = today - timedelta(days=1)
    store.upsert_many([order(1), order(2, status=OrderStatus.CANCELLED), order(-24 * 60)])
    assert store.day_index(today).tally()["tiktok"].total_cancelled == 1
    assert store.day_index(today) is store.day_index(today)  # unchanged file: not re-read
    assert len(store.day_index(yesterday)) == 1
    assert store._indexes[today].docs is not None  # today stays parsed: it is written all day
    assert store._indexes[yesterday].docs is None  # a closed day keeps only its small rows
    assert f"{yesterday}.json" not in {p.name for p in home._dbs}
    subprocess.run(  # another liveguard adds an order to today's file
        [sys.executable, "-c", _WRITE_ONE, str(paths.state.parent)],
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    assert len(store.day_index(today)) == 3
    store.upsert(order(-24 * 60 + 1))
    assert len(store.day_index(yesterday)) == 2
    with home.writing():
        store.drop_day(yesterday)
    assert len(store.day_index(yesterday)) == 0


def test_only_recent_day_rows_stay_in_memory(home: StateHome) -> None:
    store = OrderStore(home, WIB)
    store.upsert_many([order(-n * 24 * 60) for n in range(20)])
    for n in range(20):
        assert len(store.day_index((order(-n * 24 * 60).created.astimezone(WIB)).date())) == 1
    assert len(store._indexes) == 16  # the oldest days were let go
    assert min(store._indexes) == order(-15 * 24 * 60).created.astimezone(WIB).date()


def test_a_busy_day_is_written_as_small_segments_and_folded_when_they_pile_up(
    home: StateHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liveguard.adapters import order_store

    monkeypatch.setattr(order_store, "MAX_SEGMENTS", 4)
    store = OrderStore(home, WIB)
    day = order(1).created.astimezone(WIB).date()
    folder = home.dir / "orders"
    store.upsert(order(1))  # a new day: the day file itself
    assert sorted(p.name for p in folder.iterdir()) == [f"{day}.json"]
    day_file = (folder / f"{day}.json").read_bytes()
    assert store.upsert_many([order(2), order(1, amount=9)]) == ["added", "updated"]
    assert store.upsert(order(3)) == "added"
    assert (folder / f"{day}.json").read_bytes() == day_file  # the day file was not rewritten
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{day}.000001.json",
        f"{day}.000002.json",
        f"{day}.json",
    ]
    fresh = OrderStore(home, WIB)  # another reader sees the day file and its segments laid over
    assert {o.order_id: o.amount for o in fresh.day_orders(day)} == {
        "o1": 9,
        "o2": 50_000,
        "o3": 50_000,
    }
    assert store.upsert(order(4)) == "added"
    assert len(list(folder.iterdir())) == 4  # at most MAX_SEGMENTS - 1 segments …
    assert store.upsert(order(5)) == "added"  # … the next write folds them into the day file
    assert sorted(p.name for p in folder.iterdir()) == [f"{day}.json"]
    assert len(fresh.day_index(day)) == 5
    assert store.upsert(order(6)) == "added"
    assert store.fold_closed_days(day) == []  # today is left to the writes
    assert store.fold_closed_days(day + timedelta(days=1)) == [day]  # at rollover
    assert sorted(p.name for p in folder.iterdir()) == [f"{day}.json"]
    stored = json.loads((folder / f"{day}.json").read_text())["orders"]
    assert sorted(d["id"] for d in stored.values()) == ["o1", "o2", "o3", "o4", "o5", "o6"]


def test_a_segment_left_after_a_fold_counts_once_and_compaction_keeps_the_whole_day(
    home: StateHome,
) -> None:
    """A crash after the fold's rename but before its segments were deleted leaves segments
    already in the day file: laid over again they change nothing."""
    store = OrderStore(home, WIB)
    day = order(1).created.astimezone(WIB).date()
    folder = home.dir / "orders"
    store.upsert(order(1))
    store.upsert(order(2, amount=7))
    segment = folder / f"{day}.000001.json"
    kept = segment.read_bytes()
    store.fold(day)
    segment.write_bytes(kept)  # as if the crash came before the delete
    fresh = OrderStore(home, WIB)
    assert {o.order_id: o.amount for o in fresh.day_orders(day)} == {"o1": 50_000, "o2": 7}
    assert fresh.upsert(order(2, amount=7)) == "unchanged"
    with home.writing():
        fresh.drop_day(day)  # folds first, deletes the day file last
    assert list(folder.iterdir()) == []
    assert fresh.days() == []


def test_an_amount_past_64_bits_is_still_written(home: StateHome) -> None:
    store = OrderStore(home, WIB)
    store.upsert(order(1))
    assert store.upsert_many([order(2, amount=10**20), order(3, amount=7)]) == ["added"] * 2
    fresh = OrderStore(home, WIB)
    day = order(1).created.astimezone(WIB).date()
    assert {o.order_id: o.amount for o in fresh.day_orders(day)}["o2"] == 10**20
