"""What liveguard keeps about a Shopee source, in two small files under ``state/shopee/``.

- ``<channel>.tokens.json``: the token pair — the one secret liveguard stores. 0600,
  written atomically (temp + fsync + rename + folder fsync) under the state write lock, so
  a crash leaves the old pair or the new one, never neither. Nothing else reads it.
- ``<channel>.sync.json``: no secret: how far the sync got, its state and reason, and when
  the tokens expire, for ``doctor`` and ``status --json`` in other processes.

A refresh holds ``<channel>.refresh.lock`` across read, refresh and write, so two liveguard
processes never spend the same refresh token twice.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from liveguard.core.shopee import Tokens

from .atomic_storage import atomic_write_bytes
from .state_home import StateError, StateHome

__all__ = ["ShopeeStore", "when"]

REFRESH_LOCK_TIMEOUT_S = 30.0


class ShopeeStore:
    def __init__(self, home: StateHome, channel: str) -> None:
        self.home = home
        self.folder = home.dir / "shopee"
        self.tokens_path = self.folder / f"{channel}.tokens.json"
        self.sync_path = self.folder / f"{channel}.sync.json"
        self._lock_path = self.folder / f"{channel}.refresh.lock"

    # -- tokens ---------------------------------------------------------------------------
    def load_tokens(self) -> Tokens | None:
        """The stored pair; None when not connected. A damaged file is a StateError (the
        seller connects again), never a traceback and never its content."""
        try:
            raw = self.tokens_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"{self.tokens_path}: cannot read ({exc.strerror or exc})") from None
        try:
            return Tokens.from_doc(json.loads(raw))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise StateError(
                f"{self.tokens_path}: damaged; run `liveguard connect shopee` again"
            ) from None

    def save_tokens(self, tokens: Tokens) -> None:
        self._write(self.tokens_path, tokens.to_doc())

    def refresh_lock(self) -> FileLock:
        """The refresh lock; not tied to a thread, so it may be acquired in a worker thread
        (it blocks) and released on the event loop."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return FileLock(
            str(self._lock_path), timeout=REFRESH_LOCK_TIMEOUT_S, mode=0o600, thread_local=False
        )

    def acquire(self, lock: FileLock) -> None:
        try:
            lock.acquire()
        except Timeout:
            raise StateError(
                f"{self._lock_path}: another liveguard is refreshing the Shopee tokens"
            ) from None

    # -- sync state -----------------------------------------------------------------------
    def load_sync(self) -> dict[str, Any]:
        try:
            data = json.loads(self.sync_path.read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save_sync(self, data: dict[str, Any]) -> None:
        self._write(self.sync_path, data)

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        payload = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
        with self.home.writing():
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write_bytes(path, payload)


def when(value: Any) -> datetime | None:
    """An ISO time from the sync file, or None."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None
