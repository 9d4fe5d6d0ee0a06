"""The one table of control-room actions.

Key bindings, the footer, the help screen and the command palette are all generated from
``ACTIONS``; the config's ``[keys]`` table remaps them by name. Labels are message-catalogue
keys, so every action reads in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACTIONS", "ACTION_NAMES", "ActionSpec"]


@dataclass(frozen=True)
class ActionSpec:
    name: str  # the Textual action name (``action_<name>`` on the app) and the [keys] id
    keys: str  # default keys, comma-separated in Textual's syntax
    label: str  # catalogue key of the short footer label
    help: str  # catalogue key of the longer help/palette description
    group: str  # catalogue key of the help-screen section
    footer: bool = True  # shown in the footer (everything is in help and the palette)
    priority: bool = False  # works even while a text input has focus
    per_key: bool = False  # the pressed key is passed to the action (digits pick a channel)


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("help", "question_mark,f1", "keys.help", "keys.help_long", "keys.group_general"),
    ActionSpec("quit", "q,ctrl+q", "keys.quit", "keys.quit_long", "keys.group_general"),
    ActionSpec(
        "command_palette",
        "ctrl+p",
        "keys.palette",
        "keys.palette_long",
        "keys.group_general",
        footer=False,
    ),
    ActionSpec(
        "focus_next",
        "tab",
        "keys.focus_next",
        "keys.focus_next_long",
        "keys.group_general",
        footer=False,
    ),
    ActionSpec(
        "focus_previous",
        "shift+tab",
        "keys.focus_previous",
        "keys.focus_previous_long",
        "keys.group_general",
        footer=False,
    ),
    ActionSpec("planb", "b", "planb.key", "planb.key_long", "planb.group"),
    ActionSpec(
        "planb_cancel",
        "escape",
        "planb.key_cancel",
        "planb.key_cancel_long",
        "planb.group",
        footer=False,
    ),
    ActionSpec("planb_arm", "a", "planb.key_arm", "planb.key_arm_long", "planb.group"),
    ActionSpec(
        "planb_checklist",
        "k",
        "planb.key_checklist",
        "planb.key_checklist_long",
        "planb.group",
        footer=False,
    ),
    ActionSpec(
        "planb_copy", "c", "planb.key_copy", "planb.key_copy_long", "planb.group", footer=False
    ),
    ActionSpec(
        "audit_log", "l", "planb.key_log", "planb.key_log_long", "planb.group", footer=False
    ),
    ActionSpec(
        "planb_check", "r", "readiness.key", "readiness.key_long", "planb.group", footer=False
    ),
    ActionSpec("declare", "d", "keys.declare", "keys.declare_long", "keys.group_status"),
    ActionSpec("outages", "o", "keys.outages", "keys.outages_long", "keys.group_status"),
    ActionSpec(
        "select_channel",
        "1,2,3,4,5,6,7,8,9",
        "keys.select_channel",
        "keys.select_channel_long",
        "keys.group_status",
        footer=False,
        per_key=True,
    ),
    ActionSpec("sale_entry", "s", "sales.key_sale", "sales.key_sale_long", "sales.group"),
    ActionSpec("import_file", "i", "sales.key_import", "sales.key_import_long", "sales.group"),
    ActionSpec(
        "phone", "n", "notify.room.key", "notify.room.key_long", "notify.room.group", footer=False
    ),
)

ACTION_NAMES: tuple[str, ...] = tuple(a.name for a in ACTIONS)
