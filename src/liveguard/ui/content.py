"""Outside text on screen: always plain ``Content``, never parsed as markup.

Names, reasons, replies and cells come from servers, files and the config. Textual parses a
``str`` as markup almost everywhere (``Static``, ``DataTable`` cells, option prompts,
toasts), so a reason holding ``[/]`` would crash the room and ``[@click=app.quit]`` would
run when clicked; escaping does not cover Textual's grammar (``[$var]``, ``[ b]``). So the
screens build ``Content`` from pieces: catalogue text and outside values are plain, and
styles come only from our own code.
"""

from __future__ import annotations

from string import Formatter

from rich.text import Text
from textual.content import Content

from liveguard.core.text import terminal_safe

__all__ = ["cell", "fill", "plain", "styled"]

Piece = str | Content

_FORMATTER = Formatter()


def plain(text: str) -> Content:
    """``text`` exactly as it reads (already cleaned where it entered; a control character
    that slipped through is still dropped here, before it can reach the terminal)."""
    return Content(terminal_safe(text))


def styled(text: str, style: str) -> Content:
    """``text`` as it reads, in a style of ours (``"bold"``, ``"$error"`` …)."""
    return Content.styled(terminal_safe(text), style)


def cell(text: str) -> Text:
    """A table cell (Rich ``Table`` or ``DataTable``) that is never read as markup."""
    return Text(terminal_safe(text))


def fill(template: str, **values: Piece) -> Content:
    """A catalogue template with ``{name}`` slots filled: the template and ``str`` values as
    plain text, ``Content`` values as given (so our own styles survive)."""
    parts: list[Piece] = []
    for literal, field, spec, conversion in _FORMATTER.parse(template):
        if literal:
            parts.append(terminal_safe(literal))
        if field is None:
            continue
        value = values.get(field, "")
        if isinstance(value, Content):
            parts.append(value)
        else:
            parts.append(
                _FORMATTER.format_field(_FORMATTER.convert_field(value, conversion), spec or "")
            )
    return Content.assemble(*parts)
