"""The one gate for outside text: everything from servers, files, the environment or the
config passes here once, where it enters liveguard.

What comes out holds no C0/C1 control characters (ESC, BEL, CR…), no bidi overrides or
invisible format characters, no line breaks (``clean_line``; ``clean_block`` keeps plain
``\\n`` for the seller's own multi-line messages), and is capped in length with an ellipsis.
It is still *data*: whoever shows it must show it as plain text, never parse it as markup.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "BLOCK_MAX",
    "CELL_MAX",
    "NAME_MAX",
    "REASON_MAX",
    "clean_block",
    "clean_line",
    "is_clean_line",
    "terminal_safe",
]

# Caps, in characters (documented in docs/outside-text.md).
REASON_MAX = 200  # a probe reason, a feed reason, a webhook reply, an error echoing a value
NAME_MAX = 80  # a status-page component, a product or buyer name, an id from a file
CELL_MAX = 200  # an export cell quoted back in an error
BLOCK_MAX = 4096  # a multi-line message (WhatsApp's limit is 4096 characters)

ELLIPSIS = "…"

_BREAKS = {"\n", "\r", "\t", "\v", "\f", "\x85", "\u2028", "\u2029"}
_SPACES = re.compile(r"[ ]{2,}")


def _keep(ch: str) -> bool:
    """A character that may reach a screen or a terminal."""
    category = unicodedata.category(ch)
    # Cc: C0/C1 controls; Cf: format (bidi overrides/isolates, zero-width, BOM…);
    # Cs: lone surrogates; Co/Cn: private use and unassigned (terminals draw them unpredictably).
    return category not in ("Cc", "Cf", "Cs", "Co", "Cn")


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def clean_line(value: object, limit: int = REASON_MAX) -> str:
    """One line of plain text: breaks and tabs become spaces, controls and format
    characters go, runs of spaces fold, at most ``limit`` characters."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # The common case costs a few C-level scans (an order id, a short reason).
    if len(text) <= limit and text.isprintable() and "  " not in text and text == text.strip():
        return text
    if len(text) > limit * 8:  # never walk a megabyte to keep 200 characters
        text = text[: limit * 8]
    out = "".join(" " if ch in _BREAKS else ch for ch in text if ch in _BREAKS or _keep(ch))
    return _cap(_SPACES.sub(" ", out).strip(), limit)


def clean_block(value: object, limit: int = BLOCK_MAX) -> str:
    """Several lines of plain text (a message to paste): like ``clean_line`` per line, but
    line breaks are kept as ``\\n``."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit * 8:
        text = text[: limit * 8]
    text = text.replace("\r\n", "\n")
    lines = [clean_line(line, limit) for line in re.split(r"[\n\r\v\f\x85\u2028\u2029]", text)]
    return _cap("\n".join(lines).strip("\n"), limit)


def is_clean_line(text: str) -> bool:
    """True when ``text`` needs no cleaning (for asserting at the surfaces)."""
    return all(_keep(ch) for ch in text)


# What a terminal must never receive: C0/C1 controls but the line feed, lone surrogates and the
# format characters (bidi overrides, zero-width…). A regex so that every line the CLI prints is
# one C-level pass; tests/test_text_gate.py checks it against unicodedata.
_TERMINAL_UNSAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff"
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def terminal_safe(text: str) -> str:
    """``text`` as a terminal may receive it: layout kept (spaces, line feeds), tabs as one
    space, every other control, format character or line/paragraph separator removed."""
    return _TERMINAL_UNSAFE.sub(lambda m: " " if m.group() == "\t" else "", text)
