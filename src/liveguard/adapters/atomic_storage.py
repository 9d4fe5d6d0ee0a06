"""A TinyDB storage that never leaves a half-written file.

Each write goes to a temp file in the same folder, is fsynced, then ``os.replace``d over
the real file, and the folder is fsynced. The parsed content is cached and re-read only
when the file on disk changed (another liveguard process wrote it through the shared lock).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

__all__ = [
    "TEMP_MARK",
    "AtomicJSONStorage",
    "CorruptFileError",
    "atomic_write_bytes",
    "file_signature",
    "fsync_folder",
    "refuse_symlink",
    "symlink_refused",
]

TEMP_MARK = ".lg-tmp-"
FILE_MODE = 0o600


class CorruptFileError(Exception):
    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path, self.why = path, why


# O_NOFOLLOW where the system has it (not Windows, where links need privileges to make).
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def symlink_refused(path: Path) -> OSError:
    """The one line said when a planted link stands where liveguard would write."""
    return OSError(
        errno.ELOOP,
        "is a symbolic link; liveguard does not write through links (remove it to go on)",
        str(path),
    )


def refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise symlink_refused(path)


def fsync_folder(folder: Path) -> None:
    """Make the renames into ``folder`` durable. Directories cannot be opened on Windows;
    there the rename is durable enough."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, *, sync_folder: bool = True) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file.

    ``sync_folder=False`` leaves the folder fsync to the caller, who writes several files
    and must call :func:`fsync_folder` once after the last one, before reporting success.
    """
    tmp = path.with_name(f"{path.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError, NotImplementedError):
            os.chmod(tmp, FILE_MODE)  # umask or an existing ACL may have widened it
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_folder:
        fsync_folder(path.parent)


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """Changes whenever the file is replaced (a new inode) or rewritten; None: no file."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class AtomicJSONStorage(Storage):
    """TinyDB storage: atomic, fsynced, owner-only, cached between writes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._cache: dict[str, Any] | None = None
        self._signature: tuple[int, int, int] | None = None

    def read(self) -> dict[str, Any] | None:
        signature = file_signature(self.path)
        if signature is None:
            self._cache = None
            return None
        if self._cache is not None and signature == self._signature:
            return self._cache
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise CorruptFileError(self.path, f"cannot read ({exc.strerror or exc})") from exc
        if not raw.strip():
            raise CorruptFileError(self.path, "empty file")
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise CorruptFileError(self.path, f"not valid JSON ({exc})") from exc
        if not isinstance(data, dict) or not all(
            isinstance(table, dict) and all(isinstance(doc, dict) for doc in table.values())
            for table in data.values()
        ):
            raise CorruptFileError(self.path, "not a liveguard state file (unexpected shape)")
        self._cache, self._signature = data, signature
        return data

    def write(
        self, data: dict[str, Any], *, sync_folder: bool = True, payload: bytes | None = None
    ) -> None:
        """Replace the file with ``data`` (``payload``: ``data`` already serialised)."""
        try:
            if payload is None:
                payload = json.dumps(
                    data, ensure_ascii=False, separators=(",", ":"), check_circular=False
                ).encode()  # JSON-loaded data has no cycles; skipping the check is ~6 % faster
            atomic_write_bytes(self.path, payload, sync_folder=sync_folder)
        except BaseException:
            # TinyDB mutates the cached dict before calling write; on failure drop it so the
            # next read shows what is really on disk.
            self._cache = self._signature = None
            raise
        self._cache, self._signature = data, file_signature(self.path)

    def close(self) -> None:
        self._cache = None
