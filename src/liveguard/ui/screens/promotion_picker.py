"""Arm another promotion: every prepared promotion, the armed one marked; Enter arms it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from liveguard.service.planb import TransitionError

from ..content import plain, styled
from .dialog import Dialog

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from liveguard.i18n import Catalog
    from liveguard.service.room import ControlRoom


class PromotionPicker(Dialog[str | None]):
    """Dismisses with a line to show the seller (armed, or why not), or None when closed."""

    def __init__(self, room: ControlRoom, t: Catalog) -> None:
        super().__init__(id="promotion-picker")
        self.room = room
        self.t = t

    def compose(self) -> ComposeResult:
        t = self.t
        with Vertical(id="picker-box", classes="dialog") as box:
            box.border_title = t("planb.picker.title")
            box.border_subtitle = t("planb.picker.hint")
            options = []
            for p in self.room.planb.listing():
                mark = styled(f"({t('planb.picker.armed_mark')})", "bold $success")
                text = t("planb.picker.row", name=p["name"], count=p["actions"])
                prompt = Content.assemble(text, " ", mark) if p["armed"] else plain(text)
                options.append(Option(prompt, id=p["id"]))
            yield OptionList(*options, id="picker-list")

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        armed = next((i for i, p in enumerate(self.room.planb.listing()) if p["armed"]), 0)
        picker.highlighted = armed
        picker.focus()

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        promotion_id = event.option.id or ""
        try:
            await asyncio.to_thread(self.room.planb.arm, promotion_id)  # a write: off the loop
        except TransitionError as exc:
            self.dismiss(self.t(exc.key, **exc.params))
            return
        except Exception as exc:  # a full disk: nothing was armed
            self.dismiss(str(exc))
            return
        promo = self.room.planb.promotion()
        self.dismiss(self.t("planb.armed_now", name=promo.name if promo else promotion_id))
