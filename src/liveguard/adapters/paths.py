"""Where liveguard keeps its files: one ``--home`` folder, or the platform's usual places."""

from __future__ import annotations

import os
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
