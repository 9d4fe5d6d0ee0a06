"""Where liveguard keeps its files: one ``--home`` folder, or the platform's usual places."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "liveguard"
CONFIG_NAME = "liveguard.toml"


@dataclass(frozen=True)
class Paths:
    config: Path
    state: Path
    logs: Path

    @classmethod
    def resolve(cls, home: str | None = None, config: str | None = None) -> Paths:
        home = home or os.environ.get("LIVEGUARD_HOME") or None
        if home:
            root = Path(home).expanduser().absolute()
            paths = cls(root / CONFIG_NAME, root / "state", root / "logs")
        else:
            paths = cls(
                platformdirs.user_config_path(APP_NAME) / CONFIG_NAME,
                platformdirs.user_state_path(APP_NAME),
                platformdirs.user_log_path(APP_NAME),
            )
        if config:
            paths = cls(Path(config).expanduser().absolute(), paths.state, paths.logs)
        return paths


def writable_by_others(paths: Paths) -> list[Path]:
    """The home, state and log folders and the config file that anyone on this machine may
    change (another user could plant a link or edit the Plan B actions). Empty on Windows,
    where mode bits say nothing."""
    if os.name == "nt":
        return []
    found = []
    for path in (paths.config.parent, paths.state, paths.logs, paths.config):
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if mode & stat.S_IWOTH and path not in found:
            found.append(path)
    return found
