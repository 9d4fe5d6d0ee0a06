"""Fewer keys for common work: channel names and aliases in any case, Indonesian mark words,
and sale times as a seller types them (issue: Bahasa Indonesia a seller would write)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from liveguard.adapters.config_file import ConfigError, parse_config
from liveguard.core.parsing import DateError, parse_seller_time
from liveguard.core.timekeeping import load_zone
from tests.cli_runner import run_liveguard

WIB = load_zone("Asia/Jakarta")
NOW = datetime.fromisoformat("2026-11-28T20:45:00+07:00")

CHANNELS = """
[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true

[[channels]]
id = "whatsapp"
name = "WhatsApp"
aliases = ["wa"]

[[channels]]
id = "instagram"
name = "Instagram"
aliases = ["ig"]
"""


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("20.41", "2026-11-28T20:41:00+07:00"),
        ("20:41", "2026-11-28T20:41:00+07:00"),
        ("23.10", "2026-11-27T23:10:00+07:00"),  # later than now: yesterday evening
        ("27/11 20.41", "2026-11-27T20:41:00+07:00"),
        ("29/11 09.00", "2025-11-29T09:00:00+07:00"),  # not yet this year: last year
        ("2026-11-27T20:41", "2026-11-27T20:41:00+07:00"),
        ("27/11/2026 20.41", "2026-11-27T20:41:00+07:00"),
    ],
)
def test_sale_times_as_a_seller_types_them(typed: str, expected: str) -> None:
    assert parse_seller_time(typed, NOW, WIB) == datetime.fromisoformat(expected)


@pytest.mark.parametrize("typed", ["25.61", "31/02 10.00", "jam 8", "99:99"])
def test_times_that_are_not_times_are_refused(typed: str) -> None:
    with pytest.raises(DateError):
        parse_seller_time(typed, NOW, WIB)


def test_find_channel_by_id_name_or_alias_in_any_case() -> None:
    config = parse_config(CHANNELS, "liveguard.toml")
    found = {t: c.id for t in ("WhatsApp", "wa", "WA", "whatsapp", "tiktok shop", "IG")
             if (c := config.find_channel(t)) is not None}  # fmt: skip
    assert found == {
        "WhatsApp": "whatsapp", "wa": "whatsapp", "WA": "whatsapp", "whatsapp": "whatsapp",
        "tiktok shop": "tiktok", "IG": "instagram",
    }  # fmt: skip
    assert config.find_channel("line") is None


def test_an_alias_naming_two_channels_is_refused_with_its_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(CHANNELS.replace('aliases = ["ig"]', 'aliases = ["WA"]'), "liveguard.toml")
    assert "channels[2].aliases" in str(err.value)
    assert "'WA' already names channel 'whatsapp'" in str(err.value)


def home_with(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "liveguard.toml").write_text(CHANNELS)
    return {"LIVEGUARD_HOME": str(tmp_path)}


def test_cli_takes_names_aliases_and_indonesian_mark_words(tmp_path: Path) -> None:
    env = home_with(tmp_path)
    sale = run_liveguard(
        "--lang", "id", "sale", "add", "WhatsApp", "125rb", "--at", "20.41", env=env
    )
    assert sale.returncode == 0, sale.stderr
    wa = run_liveguard("sale", "add", "wa", "50rb", env=env)
    assert wa.returncode == 0, wa.stderr
    marked = run_liveguard(
        "--lang", "id", "mark", "TIKTOK", "mati", "--reason", "LIVE error", env=env
    )
    assert marked.returncode == 0, marked.stderr
    assert "MATI" in marked.stdout
    today = json.loads(run_liveguard("today", "--json", env=env).stdout)
    whatsapp = next(c for c in today["channels"] if c["id"] == "whatsapp")
    assert (whatsapp["orders"], whatsapp["revenue"]) == (2, 175_000)
    status = json.loads(run_liveguard("status", "--json", env=env).stdout)
    tiktok = next(c for c in status["channels"] if c["id"] == "tiktok")
    assert (tiktok["state"], tiktok["source"]) == ("down", "declared")
    for word, state in (("normal", "up"), ("hapus", None)):
        done = run_liveguard("mark", "tiktok", word, env=env)
        assert done.returncode == 0, done.stderr
        now = json.loads(run_liveguard("status", "--json", env=env).stdout)["channels"][0]
        assert (now["source"] == "declared") == (state is not None)


def test_a_mark_word_it_does_not_know_says_what_to_type(tmp_path: Path) -> None:
    bad = run_liveguard("mark", "tiktok", "rusak", env=home_with(tmp_path))
    assert bad.returncode == 64
    assert "choose down, up or clear (mati, normal, hapus)" in bad.stderr
