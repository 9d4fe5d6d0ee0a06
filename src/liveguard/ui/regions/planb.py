"""Plan B region: the armed promotion (filled in by the Plan B work)."""

from __future__ import annotations

from textual.widgets import Static

from .base import Region


class PlanBRegion(Region):
    AREA = "planb"
    TITLE_KEY = "region.planb"

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="planb-body")

    def refresh_view(self) -> None:
        t = self.t
        body = self.query_one("#planb-body", Static)
        if not self.room.promotions:
            body.update(t("shell.no_promotion", path=self.room.config.path))
            return
        promo = self.room.armed_promotion
        if promo is None:
            body.update(t("shell.none_armed"))
            return
        seconds = int(promo.grace.total_seconds())
        body.update(
            f"[b]{t('shell.armed')}[/b]: {promo.name}\n"
            f"{t('shell.actions', count=len(promo.actions))} · {t('shell.grace', seconds=seconds)}"
        )
