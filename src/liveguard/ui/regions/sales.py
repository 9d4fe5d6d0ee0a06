"""Today's sales region (filled in by the sales work)."""

from __future__ import annotations

from textual.widgets import Static

from .base import Region


class SalesRegion(Region):
    AREA = "sales"
    TITLE_KEY = "region.sales"

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="sales-body")

    def refresh_view(self) -> None:
        self.query_one("#sales-body", Static).update(self.t("shell.no_sales_yet"))
