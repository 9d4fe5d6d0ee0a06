"""The state folder: small TinyDB files, one writer at a time, nothing crashes on a bad file.

Files carry a ``_meta`` table with their kind and schema version. A file that cannot be read
is moved aside as ``NAME.corrupt-<UTC timestamp>`` and the program goes on without it; the
seller is told in one line (``StateHome.tell``: kept in ``notices`` until the control room
listens with ``report_to``).
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from tinydb import TinyDB

from liveguard.core.timekeeping import Clock, SystemClock

from .atomic_storage import TEMP_MARK, AtomicJSONStorage, CorruptFileError, atomic_write_bytes
from .paths import Paths

__all__ = ["SCHEMAS", "RoomBusyError", "StateError", "StateHome", "StateWriteError"]

# kind -> current schema version. Bump a version and add a step to MIGRATIONS together.
SCHEMAS: dict[str, int] = {
    "orders-day": 1,
    "history-month": 1,
    "status": 1,
    "promotions": 1,
    "audit": 1,
    "notify": 1,
}
# kind -> {from_version: step}; each step turns the raw file dict into the next version.
MIGRATIONS: dict[str, dict[int, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    k: {} for k in SCHEMAS
}

WRITE_LOCK_TIMEOUT_S = 10.0


class StateError(Exception):
    """A state problem phrased for the seller in one line."""


class RoomBusyError(StateError):
    pass


class StateWriteError(StateError, OSError):
    """A state file could not be saved (disk full, read-only): still an OSError for callers
    that catch those, and a one-line StateError for the seller."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


_WRITE_HINTS = {
    errno.ENOSPC: "the disk is full; free some space and try again",
    errno.EDQUOT: "the disk quota is used up; free some space and try again",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
}


def _write_failure(exc: OSError, folder: Path) -> str:
    # name the file being saved, not its temp file (already removed)
    where = str(exc.filename).split(TEMP_MARK)[0] if exc.filename else folder
    hint = _WRITE_HINTS.get(exc.errno or 0, "")
    return f"{where}: could not save ({exc.strerror or exc})" + (f": {hint}" if hint else "")


def current_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name on this machine (e.g. a container): still record something
        return f"uid:{getattr(os, 'getuid', lambda: '?')()}"


class StateHome:
    def __init__(self, paths: Paths, clock: Clock | None = None) -> None:
        self.paths = paths
        self.dir = paths.state
        self.clock = clock or SystemClock()
        # One-line notices for the seller, kept here until someone listens (``report_to``).
        self.notices: list[str] = []
        self._report: Callable[[str], None] | None = None
        self._dbs: dict[Path, TinyDB] = {}
        self._write_lock: FileLock | None = None
        self._room_lock: FileLock | None = None

    # -- opening ------------------------------------------------------------------------
    def open(self) -> StateHome:
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.paths.logs.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StateError(
                f"{self.dir}: cannot create the state folder ({exc.strerror or exc})"
            ) from None
        if not os.access(self.dir, os.W_OK):
            raise StateError(f"{self.dir}: the state folder is not writable")
        self._write_lock = FileLock(
            str(self.dir / "write.lock"), timeout=WRITE_LOCK_TIMEOUT_S, mode=0o600
        )
        with self.writing():
            self.remove_orphans()
        return self

    def remove_orphans(self) -> list[Path]:
        """Delete temp files left by a crash mid-write. Call with the write lock held."""
        removed = []
        for tmp in self.dir.rglob(f"*{TEMP_MARK}*"):
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp)
        return removed

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()
        self._dbs.clear()
        if self._room_lock is not None:
            self._room_lock.release(force=True)
            with contextlib.suppress(OSError):
                (self.dir / "room.owner").unlink()
            self._room_lock = None

    # -- locks --------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the single-writer lock (shared by every liveguard on this home) for a write."""
        if self._write_lock is None:
            raise StateError("state home used before open()")
        try:
            self._write_lock.acquire()
        except Timeout:
            raise StateError(
                f"{self.dir}: another liveguard has held the state lock for "
                f"{WRITE_LOCK_TIMEOUT_S:g} s; try again, or check `liveguard doctor`"
            ) from None
        try:
            yield
        except OSError as exc:  # a full or read-only disk: one line naming the file
            raise StateWriteError(_write_failure(exc, self.dir)) from exc
        finally:
            self._write_lock.release()

    def hold_room(self) -> None:
        """Claim this home for one control room; a second one is told who holds it."""
        lock = FileLock(str(self.dir / "room.lock"), timeout=0, mode=0o600)
        try:
            lock.acquire()
        except Timeout:
            raise RoomBusyError(
                "another liveguard control room is already open on this home "
                f"({self.room_owner()}); close it first"
            ) from None
        self._room_lock = lock
        owner = {"pid": os.getpid(), "user": current_actor(), "since": self.clock.now().isoformat()}
        atomic_write_bytes(self.dir / "room.owner", json.dumps(owner).encode())

    def room_owner(self) -> str:
        try:
            info = json.loads((self.dir / "room.owner").read_text())
            return f"pid {info['pid']}, user {info['user']}, since {info['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "owner unknown"

    def room_is_open(self) -> bool:
        if self._room_lock is not None:
            return True
        probe = FileLock(str(self.dir / "room.lock"), timeout=0, mode=0o600)
        try:
            probe.acquire()
        except Timeout:
            return True
        probe.release()
        return False

    # -- files --------------------------------------------------------------------------
    def db(self, relpath: str, kind: str) -> TinyDB:
        """The TinyDB of one state file, checked, migrated or moved aside as needed."""
        path = self.dir / relpath
        db = self._dbs.get(path)
        if db is not None:
            try:
                db.storage.read()
                return db
            except CorruptFileError as exc:
                self._move_aside(path, exc.why)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        db = TinyDB(path, storage=AtomicJSONStorage)
        storage = db.storage
        assert isinstance(storage, AtomicJSONStorage)
        try:
            raw = storage.read()
        except CorruptFileError as exc:
            self._move_aside(path, exc.why)
            raw = None
        if raw is None:
            try:
                db.table("_meta").insert({"kind": kind, "schema": SCHEMAS[kind]})
            except OSError as exc:
                raise StateWriteError(_write_failure(exc, self.dir)) from exc
        else:
            self._check_version(path, kind, raw, storage)
        self._dbs[path] = db
        return db

    def _check_version(
        self, path: Path, kind: str, raw: dict[str, Any], storage: AtomicJSONStorage
    ) -> None:
        meta = next(iter(raw.get("_meta", {}).values()), None)
        if (
            not isinstance(meta, dict)
            or meta.get("kind") != kind
            or not isinstance(meta.get("schema"), int)
        ):
            self._move_aside(path, f"not a {kind} file")
            return
        version: int = meta["schema"]
        if version > SCHEMAS[kind]:
            raise StateError(
                f"{path}: written by a newer liveguard (schema {version}, this one knows "
                f"{SCHEMAS[kind]}); upgrade liveguard"
            )
        while version < SCHEMAS[kind]:
            step = MIGRATIONS[kind].get(version)
            if step is None:
                self._move_aside(path, f"schema {version} has no migration to {SCHEMAS[kind]}")
                return
            raw = step(raw)
            version += 1
            raw["_meta"] = {"1": {"kind": kind, "schema": version}}
        if version != meta["schema"]:
            storage.write(raw)

    def move_aside(self, path: Path, why: str) -> None:
        """Set an unreadable state file aside (never deleted) and tell the seller once."""
        self._move_aside(path, why)

    def _move_aside(self, path: Path, why: str) -> None:
        stamp = self.clock.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        with contextlib.suppress(FileNotFoundError):
            os.replace(path, target)
        db = self._dbs.pop(path, None)
        if db is not None:
            db.storage.close()
        self.tell(
            f"{path}: could not be read ({why}); moved aside as {target.name}, starting without it"
        )

    def report_to(self, report: Callable[[str], None]) -> None:
        """Hand the notices kept so far, and every later one as it happens, to ``report``
        (the control room publishes them; may be called from any thread)."""
        self._report = report
        kept, self.notices[:] = list(self.notices), []
        for text in kept:
            report(text)

    def tell(self, text: str) -> None:
        """A one-line notice for the seller (a file moved aside)."""
        if self._report is None:
            self.notices.append(text)
        else:
            self._report(text)

    def forget(self, relpath: str) -> None:
        """Drop the open TinyDB of a file about to be deleted, so it is not reused stale."""
        db = self._dbs.pop(self.dir / relpath, None)
        if db is not None:
            db.storage.close()

    def files(self) -> list[Path]:
        return sorted(p for p in self.dir.rglob("*.json") if TEMP_MARK not in p.name)

    def now(self) -> datetime:
        return self.clock.now()
