"""What every command needs: resolved paths, the config, the language, the state home."""

from __future__ import annotations

from liveguard.adapters.config_file import ConfigError, load_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateError, StateHome
from liveguard.core.config import Config
from liveguard.core.timekeeping import Clock, SystemClock
from liveguard.i18n import pick_language

EXIT_FAILURE = 1
EXIT_USAGE = 64


class CliError(Exception):
    """A failure to report in one line; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


class Context:
    def __init__(
        self,
        home: str | None,
        config_file: str | None,
        lang_flag: str | None,
        clock: Clock | None = None,
    ) -> None:
        self.paths = Paths.resolve(home, config_file)
        self.lang_flag = lang_flag
        self.clock: Clock = clock or SystemClock()
        self._config: Config | None = None
        self._home: StateHome | None = None

    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(self.paths.config)
            except ConfigError as exc:
                raise CliError(str(exc)) from None
        return self._config

    @property
    def lang(self) -> str:
        configured = self._config.language if self._config else None
        return pick_language(self.lang_flag, configured)

    def state(self) -> StateHome:
        if self._home is None:
            try:
                self._home = StateHome(self.paths, self.clock).open()
            except StateError as exc:
                raise CliError(str(exc)) from None
        return self._home

    def close(self) -> None:
        if self._home is not None:
            self._home.close()
            self._home = None
