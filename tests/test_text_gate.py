"""The one gate for outside text (core/text.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from liveguard.core.text import (
    REASON_MAX,
    clean_block,
    clean_line,
    is_clean_line,
)


def test_controls_escapes_and_bidi_are_removed_and_breaks_flattened() -> None:
    hostile = "\x1b]0;pwned\x07down\x1b[2J\r\nnow \u202eevil\u2066 x\u200b\u0085y"
    assert clean_line(hostile) == "]0;pwneddown[2J now evil x y"


def test_markup_stays_literal_text() -> None:
    assert clean_line("[@click=app.quit]x[/]") == "[@click=app.quit]x[/]"


def test_length_is_capped_with_an_ellipsis() -> None:
    out = clean_line("a" * 5000)
    assert len(out) == REASON_MAX
    assert out.endswith("…")
    assert clean_line("abcdef", 4) == "abc…"


def test_none_and_non_strings() -> None:
    assert clean_line(None) == ""
    assert clean_line(503) == "503"


def test_block_keeps_line_breaks_only() -> None:
    assert clean_block("Halo kak!\r\nVoucher\x1b[31m LIVEDOWN20\u202e") == (
        "Halo kak!\nVoucher[31m LIVEDOWN20"
    )


@given(st.text())
def test_any_text_comes_out_as_one_clean_line(text: str) -> None:
    out = clean_line(text)
    assert is_clean_line(out)
    assert "\n" not in out
    assert len(out) <= REASON_MAX


@given(st.text())
def test_any_text_comes_out_as_a_clean_block(text: str) -> None:
    out = clean_block(text)
    assert all(is_clean_line(line) for line in out.split("\n"))
