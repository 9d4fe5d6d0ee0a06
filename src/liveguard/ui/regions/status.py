"""Live status region: one row per channel (filled in by the live-status work)."""

from __future__ import annotations

from textual.widgets import Static

from .base import Region


class StatusRegion(Region):
    AREA = "status"
    TITLE_KEY = "region.status"

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="status-body")

    def refresh_view(self) -> None:
        t = self.t
        body = self.query_one("#status-body", Static)
        channels = self.room.channels
        if not channels:
            body.update(t("shell.no_channels", path=self.room.config.path))
            return
        lines = []
        for n, channel in enumerate(channels, start=1):
            live = " [b]LIVE[/b]" if channel.live else ""
            checks = "" if channel.checks else f" [dim]{t('shell.no_checks')}[/dim]"
            lines.append(
                f"{n} {channel.name}{live}  [reverse] {t('shell.state_unknown')} [/reverse]{checks}"
            )
        body.update("\n".join(lines))
