"""The import screen: a path, a dry-run preview (read in a worker thread), then confirm."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from liveguard.core.text import clean_line
from liveguard.service.sales import ImportOutcome, ImportPreview

from ..content import plain
from ..path_suggester import PathSuggester

if TYPE_CHECKING:
    from liveguard.i18n import Catalog
    from liveguard.service.room import ControlRoom

FORMATS = ("auto", "shopee", "tiktok", "lazada", "csv")
SHOWN_BAD_ROWS = 8


class ImportScreen(ModalScreen[str | None]):
    """Dismisses with the confirmation text after an import, or None."""

    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(self, room: ControlRoom, t: Catalog, path: str = "") -> None:
        super().__init__(id="import-file")
        self.room = room
        self.t = t
        self.initial_path = path
        self.preview: ImportPreview | None = None

    def compose(self) -> ComposeResult:
        t = self.t
        with Vertical(id="import-box", classes="sales-dialog") as box:
            box.border_title = t("sales.import.title")
            yield Label(t("sales.import.path"))
            yield Input(
                self.initial_path, id="import-path", compact=True, suggester=PathSuggester()
            )
            with Horizontal(classes="sales-row"):
                yield Select(
                    [(t("sales.import.auto") if f == "auto" else f, f) for f in FORMATS],
                    value="auto",
                    allow_blank=False,
                    id="import-format",
                    compact=True,
                )
                yield Select(
                    [(plain(c.name), c.id) for c in self.room.channels],
                    prompt=t("sales.import.channel"),
                    id="import-channel",
                    compact=True,
                )
            yield Checkbox(t("sales.import.skip_bad"), id="import-skip")
            yield Static("", id="import-preview", classes="sales-preview", markup=False)
            with Horizontal(classes="sales-buttons"):
                yield Button(t("sales.import.preview"), variant="primary", id="import-preview-btn")
                yield Button(
                    t("sales.import.confirm"), variant="success", id="import-confirm", disabled=True
                )
                yield Button(t("sales.import.cancel"), id="import-cancel")

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.start_preview()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._invalidate()

    def on_select_changed(self, event: Select.Changed) -> None:
        self._invalidate()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if self.preview is not None:
            self._show(self.preview)

    def _invalidate(self) -> None:
        self.preview = None
        self.query_one("#import-confirm", Button).disabled = True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "import-preview-btn":
            self.start_preview()
        elif event.button.id == "import-confirm":
            self.confirm()
        else:
            self.dismiss(None)

    def start_preview(self) -> None:
        text = self.query_one("#import-path", Input).value.strip()
        out = self.query_one("#import-preview", Static)
        if not text:
            out.update(self.t("sales.import.need_path"))
            return
        path = Path(text).expanduser()
        out.update(self.t("sales.import.reading", file=path.name))
        fmt = str(self.query_one("#import-format", Select).value)
        channel = self.query_one("#import-channel", Select).value
        self._read(path, fmt, None if channel is Select.NULL else str(channel))

    @work(thread=True, exclusive=True, group="import-read", exit_on_error=False)
    def _read(self, path: Path, fmt: str, channel: str | None) -> None:
        # Parsing a big export takes seconds; it touches no state, so it runs off the UI thread.
        result: ImportPreview | str
        try:
            result = self.room.sales.preview_import(path, format_name=fmt, channel=channel)
        except Exception as exc:  # a file that breaks the reader must not close the room
            result = clean_line(f"{path.name}: {type(exc).__name__}: {exc}")
        self.app.call_from_thread(self._previewed, result)

    def _previewed(self, result: ImportPreview | str) -> None:
        if isinstance(result, str):
            self.query_one("#import-preview", Static).update(
                self.t("sales.import.failed", error=result)
            )
            return
        self.preview = result
        self._show(result)

    def _skip(self) -> bool:
        return self.query_one("#import-skip", Checkbox).value

    def _show(self, preview: ImportPreview) -> None:
        t = self.t
        outcome = preview.dry_run(skip_bad_rows=True)
        lines = [self._summary(outcome)]
        if outcome.skipped:
            lines.append(t("imports.screen.skipped", count=len(outcome.skipped)))
            lines += [
                t("sales.import.row", row=e.row, error=e.text())
                for e in outcome.skipped[:SHOWN_BAD_ROWS]
            ]
        bad = outcome.rejected
        if bad:
            lines.append(
                t(
                    "sales.import.rejected_skipped" if self._skip() else "sales.import.rejected",
                    count=len(bad),
                )
            )
            lines += [
                t("sales.import.row", row=e.row, error=e.text()) for e in bad[:SHOWN_BAD_ROWS]
            ]
            if len(bad) > SHOWN_BAD_ROWS:
                lines.append(t("sales.import.more", count=len(bad) - SHOWN_BAD_ROWS))
        self.query_one("#import-preview", Static).update("\n".join(lines))
        self.query_one("#import-confirm", Button).disabled = bool(bad) and not self._skip()

    def _summary(self, outcome: ImportOutcome) -> str:
        channel = self.room.config.channel(outcome.channel)
        return self.t(
            "sales.import.summary",
            format=outcome.format,
            channel=channel.name if channel else outcome.channel,
            rows=outcome.rows_read,
            added=outcome.results["added"],
            updated=outcome.results["updated"],
            unchanged=outcome.results["unchanged"],
        )

    def confirm(self) -> None:
        if self.preview is None:
            return
        try:
            outcome = self.preview.apply(skip_bad_rows=self._skip())
        except Exception as exc:  # a state problem: say it, keep the dialog open
            self.query_one("#import-preview", Static).update(
                self.t("sales.import.failed", error=str(exc))
            )
            return
        if not outcome.written:
            self._show(self.preview)
            return
        self.dismiss(
            self.t(
                "sales.import.done",
                added=outcome.results["added"],
                updated=outcome.results["updated"],
                file=outcome.file,
            )
        )
