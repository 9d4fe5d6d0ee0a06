"""What each marketplace's status words mean, read from ``status_words.toml``.

One table per format (Indonesian and English words together) for the main status column,
and for the separate cancel/return column where the format has one. A word that is in no
table is *unknown*: the reader refuses the row naming it rather than counting it as a sale;
the seller's own map (``--status-map WORD=MEANING``, ``[imports] status_map``) comes first.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from liveguard.core.orders import OrderStatus
from liveguard.core.text import CELL_MAX, clean_line

from .formats import normalise

__all__ = [
    "SELLER_MEANINGS",
    "Meaning",
    "StatusMapError",
    "UnknownWord",
    "Vocabulary",
    "parse_status_map",
    "vocabulary",
    "word_tables",
]


class Meaning(StrEnum):
    PAID = "paid"
    IN_PROGRESS = "in_progress"
    UNPAID = "unpaid"
    CANCELLED = "cancelled"
    RETURNED = "returned"


# What a seller may map a word to (in_progress counts as paid; it needs no name of its own).
SELLER_MEANINGS = ("paid", "unpaid", "cancelled", "returned")

_AS_STATUS = {
    Meaning.PAID: OrderStatus.PAID,
    Meaning.IN_PROGRESS: OrderStatus.PAID,
    Meaning.UNPAID: OrderStatus.UNPAID,
    Meaning.CANCELLED: OrderStatus.CANCELLED,
    Meaning.RETURNED: OrderStatus.RETURNED,
}
_NOT_A_SALE = (OrderStatus.UNPAID, OrderStatus.CANCELLED, OrderStatus.RETURNED)


class StatusMapError(ValueError):
    """A ``WORD=MEANING`` pair that cannot be used; the message says the expected form."""


@dataclass(frozen=True)
class UnknownWord:
    """A status word in no table (as written), returned instead of a status."""

    word: str
    side: bool  # found in the cancel/return column


@dataclass(frozen=True)
class Vocabulary:
    main: Mapping[str, Meaning]  # normalised word -> meaning
    side: Mapping[str, Meaning]

    def classify(self, main: str, side: str = "") -> OrderStatus | UnknownWord:
        """The order status the two cells mean, or the first word that is in no table."""
        meaning = self.main.get(normalise(main))
        if meaning is None:
            return UnknownWord(main, side=False)
        status = _AS_STATUS[meaning]
        if not side or status in _NOT_A_SALE:
            return status
        side_meaning = self.side.get(normalise(side))
        if side_meaning is None:
            return UnknownWord(side, side=True)
        side_status = _AS_STATUS[side_meaning]
        return side_status if side_status in _NOT_A_SALE else status

    def with_seller_map(self, seller: Mapping[str, str]) -> Vocabulary:
        """The seller's words first (they apply to both columns)."""
        if not seller:
            return self
        mine = {normalise(word): Meaning(meaning) for word, meaning in seller.items()}
        return Vocabulary({**self.main, **mine}, {**self.side, **mine})


@cache
def word_tables() -> dict[str, dict[str, dict[str, Meaning]]]:
    """format -> "status"/"side" -> word as written -> meaning (the data file, checked)."""
    text = resources.files(__package__).joinpath("status_words.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    return {
        fmt: {column: {w: Meaning(m) for w, m in words.items()} for column, words in tables.items()}
        for fmt, tables in raw.items()
    }


@cache
def vocabulary(format_name: str) -> Vocabulary:
    tables = word_tables()
    if format_name == "csv":  # a seller's own sheet may use any marketplace's words
        main: dict[str, Meaning] = {}
        for fmt in tables:
            main.update(_normalised(tables[fmt].get("status", {})))
        main.update(_normalised(tables["csv"]["status"]))
        return Vocabulary(main, {})
    own = tables[format_name]
    return Vocabulary(_normalised(own.get("status", {})), _normalised(own.get("side", {})))


def _normalised(words: Mapping[str, Meaning]) -> dict[str, Meaning]:
    return {normalise(w): m for w, m in words.items()}


def parse_status_map(pairs: list[str] | Mapping[str, object]) -> dict[str, str]:
    """``["Dikemas=paid", …]`` or a config table into {word: meaning}; raises StatusMapError."""
    items = (
        [(str(k), v) for k, v in pairs.items()]
        if isinstance(pairs, Mapping)
        else [(p.rpartition("=")[0], p.rpartition("=")[2]) for p in pairs]
    )
    out: dict[str, str] = {}
    for word, meaning in items:
        wanted = meaning.strip().lower() if isinstance(meaning, str) else meaning
        if not word.strip() or wanted not in SELLER_MEANINGS:
            given = clean_line(f"{word}={meaning}" if word.strip() else meaning, CELL_MAX)
            raise StatusMapError(f"{given}: use WORD=paid|unpaid|cancelled|returned")
        out[word.strip()] = str(wanted)
    return out
