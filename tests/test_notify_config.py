"""[[notify]], [alerts] remind_every and [heartbeat]: valid targets load; every mistake names
file, line and key; secrets must come from the environment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from liveguard.adapters.config_file import ConfigError, parse_config
from liveguard.adapters.notify_config import parse_quiet_hours

ENV = {"TG": "123:abc", "TOPIC": "s3cret-topic", "HC": "uuid", "FONNTE": "tok", "SMTP_PW": "pw"}

BASE = """\
[[channels]]
id = "tiktok"
live = true

[alerts]
remind_every = "30m"

[[notify]]
id = "owner-telegram"
kind = "telegram"
token = "${TG}"
chats = ["123456789", -100200300]
commands = true
events = ["down", "up", "planb"]
language = "id"
quiet_hours = "23.00-06.00"
after = "10m"
api = "https://tg.example.com/"

[[notify]]
id = "staff-ntfy"
kind = "ntfy"
url = "https://ntfy.sh/${TOPIC}"
tags = ["warning"]

[[notify]]
id = "wa-fonnte"
kind = "webhook"
url = "https://api.fonnte.com/send"
headers = { Authorization = "${FONNTE}" }
form = { target = "08123", message = "{text}" }

[[notify]]
id = "wa-callmebot"
kind = "webhook"
method = "GET"
url = "https://api.callmebot.com/whatsapp.php?phone=628123&text={text}&apikey=${FONNTE}"

[[notify]]
id = "mail"
kind = "email"
host = "smtp.example.com"
username = "toko@example.com"
password = "${SMTP_PW}"
from = "toko@example.com"
to = ["owner@example.com"]

[heartbeat]
url = "https://hc-ping.com/${HC}"
every = "1m"
"""


def error_of(text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "liveguard.toml", ENV if environ is None else environ)
    return str(info.value)


def test_every_kind_loads_with_its_keys() -> None:
    config = parse_config(BASE, "liveguard.toml", ENV)
    tg, ntfy, fonnte, callmebot, mail = config.notify
    assert (tg.kind, tg.chats, tg.commands, tg.language) == (
        "telegram",
        ("123456789", "-100200300"),
        True,
        "id",
    )
    assert tg.token == "${TG}", "secrets stay placeholders in the config"
    assert tg.quiet_hours is not None and tg.quiet_hours.text() == "23.00-06.00"
    assert tg.after == timedelta(minutes=10) and tg.events == ("down", "up", "planb")
    assert ntfy.url == "https://ntfy.sh/${TOPIC}" and ntfy.tags == ("warning",)
    assert "reminder" in ntfy.events and "pending" not in ntfy.events
    assert fonnte.form == {"target": "08123", "message": "{text}"} and fonnte.method == "POST"
    assert callmebot.method == "GET"
    assert (mail.port, mail.security, mail.to) == (587, "starttls", ("owner@example.com",))
    assert config.alerts.remind_every == timedelta(minutes=30)
    assert config.heartbeat is not None and config.heartbeat.every == timedelta(minutes=1)


def test_remind_every_off_and_defaults() -> None:
    config = parse_config(BASE.replace('"30m"', '"off"'), "liveguard.toml", ENV)
    assert config.alerts.remind_every is None
    plain = parse_config('[[channels]]\nid = "a"\n', "liveguard.toml", {})
    assert plain.alerts.remind_every == timedelta(hours=2)
    assert plain.notify == () and plain.heartbeat is None


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'kind = "ntfy"',
            'kind = "sms"',
            "liveguard.toml:22: notify[1].kind: must be one of telegram, ntfy, webhook, email, not 'sms'",
        ),
        (
            'id = "staff-ntfy"',
            'id = "owner-telegram"',
            "liveguard.toml:21: notify[1].id: duplicate target id 'owner-telegram' (first in notify[0])",
        ),
        (
            '"down", "up", "planb"',
            '"down", "upp"',
            "liveguard.toml:14: notify[0].events[1]: unknown event 'upp'",
        ),
        (
            '"23.00-06.00"',
            '"25.00-06.00"',
            "liveguard.toml:16: notify[0].quiet_hours: bad quiet hours '25.00-06.00'",
        ),
        ('after = "10m"', 'after = "10x"', "liveguard.toml:17: notify[0].after: "),
        (
            'token = "${TG}"',
            'token = "123:abc"',
            'liveguard.toml:11: notify[0].token: write it as "${NAME}"',
        ),
        (
            'chats = ["123456789", -100200300]',
            'chats = ["me"]',
            "liveguard.toml:12: notify[0].chats[0]: not a chat id: 'me'",
        ),
        (
            'chats = ["123456789", -100200300]',
            "chats = []",
            "liveguard.toml:12: notify[0].chats: needs chat ids",
        ),
        (
            'tags = ["warning"]',
            'tagz = ["warning"]',
            "liveguard.toml:24: notify[1].tagz: unknown key (did you mean 'tags'?)",
        ),
        (
            'method = "GET"',
            'method = "DELETE"',
            "liveguard.toml:36: notify[3].method: must be POST, PUT or GET",
        ),
        (
            'host = "smtp.example.com"',
            'host = "smtp.example.com"\nsecurity = "none"',
            "liveguard.toml:43: notify[4].security: unencrypted SMTP is allowed only for loopback hosts",
        ),
        (
            'to = ["owner@example.com"]',
            'to = ["owner@example.com, x@y"]',
            "liveguard.toml:46: notify[4].to[0]: not an email address",
        ),
        (
            'remind_every = "30m"',
            'remind_every = "10s"',
            "liveguard.toml:6: alerts.remind_every: must be at least 60s",
        ),
        (
            'every = "1m"',
            'every = "1s"',
            "liveguard.toml:50: heartbeat.every: must be at least 10s",
        ),
        (
            'url = "https://hc-ping.com/${HC}"',
            'url = "http://hc-ping.com/x"',
            "liveguard.toml:49: heartbeat.url: plain http is allowed only for loopback hosts",
        ),
    ],
)
def test_each_mistake_names_file_line_and_key(old: str, new: str, expected: str) -> None:
    assert old in BASE
    assert error_of(BASE.replace(old, new, 1)).startswith(expected)


def test_a_missing_secret_names_the_variable_not_a_value() -> None:
    env = {k: v for k, v in ENV.items() if k != "TOPIC"}
    message = error_of(BASE, env)
    assert (
        message
        == "liveguard.toml:23: notify[1].url: environment variable TOPIC is not set (used as ${TOPIC})"
    )


def test_one_command_poller_per_bot_token() -> None:
    second = '\n[[notify]]\nid = "second"\nkind = "telegram"\ntoken = "${TG}"\nchats = ["1"]\ncommands = true\n'
    message = error_of(BASE.replace("[heartbeat]", second + "\n[heartbeat]"))
    assert (
        "notify[5].commands: only one target per bot token may take commands (also notify[0])"
        in message
    )


def test_quiet_hours_wrap_past_midnight() -> None:
    quiet = parse_quiet_hours("23.00-06.00")
    assert quiet.holds(23 * 60) and quiet.holds(2 * 60) and not quiet.holds(6 * 60)
    day = parse_quiet_hours("12:30-13:00")
    assert day.holds(12 * 60 + 45) and not day.holds(13 * 60)
    with pytest.raises(ValueError, match="same time"):
        parse_quiet_hours("06.00-06.00")


def test_a_loopback_bot_api_may_take_a_plain_token() -> None:
    text = BASE.replace('token = "${TG}"', 'token = "100:demo"').replace(
        'api = "https://tg.example.com/"', 'api = "http://127.0.0.1:9"'
    )
    assert parse_config(text, "liveguard.toml", ENV).notify[0].token == "100:demo"
    remote = text.replace('api = "http://127.0.0.1:9"', 'api = "https://api.telegram.org"')
    assert "notify[0].token: write it as" in error_of(remote)
