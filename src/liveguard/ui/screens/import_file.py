"""The import screen: a path, a dry-run preview (read in a worker thread), then confirm.

Reading and saving both run in worker threads, so the room keeps painting and probing.
While the file is read the dialog shows the row reached; Esc stops the reading with nothing
written (the reader looks at the stop flag every few thousand rows, so a hostile file stops
too), and closing the dialog or quitting stops it the same way, so quitting never waits on
a long read. The final save (one atomic write per day) is short and is let finish.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from liveguard.core.text import clean_line
from liveguard.service.sales import ImportCancelled, ImportOutcome, ImportPreview

from ..content import plain
from ..path_suggester import PathSuggester
from .dialog import Dialog

if TYPE_CHECKING:
    from liveguard.i18n import Catalog
    from liveguard.service.room import ControlRoom

FORMATS = ("auto", "shopee", "tiktok", "lazada", "csv")
SHOWN_BAD_ROWS = 8
PROGRESS_EVERY_S = 0.25  # at most four progress redraws a second


class ImportScreen(Dialog[str | None]):
    """Dismisses with the confirmation text after an import, or None."""

    def __init__(self, room: ControlRoom, t: Catalog, path: str = "") -> None:
        super().__init__(id="import-file")
        self.room = room
        self.t = t
        self.initial_path = path
        self.preview: ImportPreview | None = None
        self._stop = threading.Event()  # set: the reading in the worker thread stops
        self.reading = False
        self.saving = False

    def compose(self) -> ComposeResult:
        t = self.t
        with Vertical(id="import-box", classes="dialog sales-dialog") as box:
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

    def action_close(self) -> None:
        """Esc or Cancel: a read still running is stopped first; the last writes finish."""
        if self.saving:
            return  # the last atomic writes: short, and stopping half-way would split a file
        if self.reading:
            self._stop.set()  # the worker says "stopped" once the reader has let go
            return
        super().action_close()

    def on_unmount(self) -> None:
        self._stop.set()  # closing or quitting: a read still running ends at its next look

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
        else:  # the Cancel button: what Esc does
            self.action_close()

    def start_preview(self) -> None:
        text = self.query_one("#import-path", Input).value.strip()
        out = self.query_one("#import-preview", Static)
        if not text:
            out.update(self.t("sales.import.need_path"))
            return
        if self.reading or self.saving:
            return
        path = Path(text).expanduser()
        out.update(self.t("sales.import.reading", file=path.name))
        fmt = str(self.query_one("#import-format", Select).value)
        channel = self.query_one("#import-channel", Select).value
        self._stop.clear()
        self.reading = True
        self._read(path, fmt, None if channel is Select.NULL else str(channel))

    @work(thread=True, exclusive=True, group="import-read", exit_on_error=False)
    def _read(self, path: Path, fmt: str, channel: str | None) -> None:
        # Parsing a big export takes seconds; it touches no state, so it runs off the UI thread.
        result: ImportPreview | str | None
        shown = [0.0]

        def progress(row: int) -> None:
            now = time.monotonic()
            if now - shown[0] >= PROGRESS_EVERY_S and not self._stop.is_set():
                shown[0] = now
                self._tell(self._progress, path.name, row)

        try:
            result = self.room.sales.preview_import(
                path,
                format_name=fmt,
                channel=channel,
                progress=progress,
                cancelled=self._stop.is_set,
            )
        except ImportCancelled:
            result = None
        except Exception as exc:  # a file that breaks the reader must not close the room
            result = clean_line(f"{path.name}: {type(exc).__name__}: {exc}")
        if self._stop.is_set():
            result = None  # stopped after the last look: drop what was read
        self._tell(self._previewed, result, path.name)

    def _progress(self, name: str, row: int) -> None:
        if self.reading:
            out = self.query_one("#import-preview", Static)
            out.update(Content(self.t("importing.reading_rows", file=name, row=row)))

    def _previewed(self, result: ImportPreview | str | None, name: str = "") -> None:
        self.reading = False
        if result is None:
            self.query_one("#import-preview", Static).update(self.t("importing.stopped", file=name))
            return
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
        if self.preview is None or self.reading or self.saving:
            return
        self.saving = True
        self.query_one("#import-confirm", Button).disabled = True
        self.query_one("#import-preview", Static).update(
            Content(self.t("importing.saving", file=self.preview.path.name))
        )
        self._save(self.preview, self._skip())

    @work(thread=True, exclusive=True, group="import-save", exit_on_error=False)
    def _save(self, preview: ImportPreview, skip_bad_rows: bool) -> None:
        # Durable writes (one atomic replace per day, fsyncs) stay off the UI loop.
        result: ImportOutcome | str
        try:
            result = preview.apply(skip_bad_rows=skip_bad_rows)
        except Exception as exc:  # a state problem: say it, keep the dialog open
            result = str(exc)
        self._tell(self._saved, result)

    def _tell(self, callback: Callable[..., None], *args: object) -> None:
        """Hand a result from the worker thread to the screen, unless it is gone (the dialog
        closed, the app quitting): then there is no one left to tell."""
        if not self.is_attached:
            return
        with contextlib.suppress(RuntimeError):  # the app's loop has already stopped
            self.app.call_from_thread(callback, *args)

    def _saved(self, result: ImportOutcome | str) -> None:
        self.saving = False
        if self.preview is None:
            return
        if isinstance(result, str):
            self.query_one("#import-preview", Static).update(
                self.t("sales.import.failed", error=result)
            )
            self.query_one("#import-confirm", Button).disabled = False
            return
        outcome = result
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
