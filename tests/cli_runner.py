"""Run the real `liveguard` command in a child process, as a seller's shell would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_liveguard(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m liveguard ARGS`` with this machine's environment minus any LIVEGUARD_*
    and display variables (no browser pops up), user "ani", plus ``env``; no stdin."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGUARD")}
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        full.pop(name, None)
    full.update(USER="ani", LOGNAME="ani")
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "liveguard", *args],
        capture_output=True, text=True, env=full, cwd=ROOT, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
