"""Run the liveguard CLI on a disk that refuses state writes (a full disk or a read-only one).

Usage: python tests/disk_fault_child.py enospc|erofs ARGS...

Running as root makes ``chmod 0500`` ineffective, so the fault is injected in-process
instead: ``liveguard.adapters.atomic_storage`` gets an ``os`` whose writes fail the way
the kernel fails them (ENOSPC once the temp file is written, EROFS when it is created).
"""

from __future__ import annotations

import errno
import os
import sys
import types
from typing import Any

from liveguard.adapters import atomic_storage


class FaultyOs(types.ModuleType):
    """``os`` as atomic_storage sees it, with new files failing; everything else is real."""

    def __init__(self, kind: str) -> None:
        super().__init__("os")
        self.kind = kind
        self.failures = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def _fail(self, code: int, filename: object = None) -> OSError:
        self.failures += 1
        return OSError(code, os.strerror(code), filename)

    def open(self, path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        if self.kind == "erofs" and flags & os.O_CREAT:
            raise self._fail(errno.EROFS, str(path))
        return os.open(path, flags, mode, **kw)

    def fsync(self, fd: int) -> None:
        # a full disk: the temp file exists and holds some bytes when the sync fails
        if (
            self.kind == "enospc"
            and os.fstat(fd).st_size
            and not os.path.isdir(f"/proc/self/fd/{fd}")
        ):
            raise self._fail(errno.ENOSPC)
        os.fsync(fd)


def main() -> int:
    kind, args = sys.argv[1], sys.argv[2:]
    atomic_storage.os = FaultyOs(kind)  # type: ignore[attr-defined]
    from liveguard import cli

    return cli.main(args)


if __name__ == "__main__":
    sys.exit(main())
