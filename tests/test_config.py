"""The config loader: the starter is valid; every kind of mistake names file, line and key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from liveguard.adapters.config_file import ConfigError, load_config, parse_config
from liveguard.cli.home_commands import starter_config_text
from liveguard.core.config import MissingEnvError, resolve_env

BASE = """\
shop = "Toko Kue Bu Sari"

[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true

[[channels]]
id = "shopee"
name = "Shopee"
"""


def error_of(text: str, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "liveguard.toml", environ or {})
    return info.value


def test_the_starter_config_is_valid_and_complete() -> None:
    config = parse_config(starter_config_text(), "liveguard.toml", {})
    assert [c.id for c in config.channels] == ["tiktok", "shopee", "tokopedia", "instagram"]
    assert config.channels[0].name == "TikTok Shop"
    armed = config.armed_promotion
    assert armed is not None and armed.id == "plan-b" and armed.grace == timedelta(seconds=5)
    assert {a.kind for a in armed.actions} == {"message", "link", "checklist"}
    assert config.alerts.failures_before_down == 3 and config.alerts.auto_activate_after is None


def test_the_interface_example_parses_with_its_env_variables() -> None:
    text = (
        BASE
        + """
[alerts]
auto_activate_after = "5m"

[[channels.checks]]
kind = "http"
url = "https://status.example.com/live"
expect = ["status == 200", "body.live.enabled == true", "response_time < 3000"]
every = "30s"
timeout = "10s"

[[channels.checks]]
kind = "tcp"
host = "rtmp.example.com"
port = 1935

[[sources]]
kind = "http-json"
channel = "shopee"
url = "https://orders.example.com/today"
headers = { Authorization = "Bearer ${ORDERS_TOKEN}" }

[[promotions]]
id = "plan-b"
armed = true
grace = "0s"

  [[promotions.actions]]
  kind = "webhook"
  url = "https://hooks.example.com/flash-sale/start"
  headers = { Authorization = "Bearer ${HOOK_TOKEN}" }
  body = { voucher = "LIVEDOWN20", reason = "{reason}" }
  secret = "${HOOK_SECRET}"
  undo = { url = "https://hooks.example.com/flash-sale/end" }
"""
    )
    env = {
        "ORDERS_TOKEN": "t0ps3cret",
        "HOOK_TOKEN": "h00k",
        "HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }
    config = parse_config(text, "liveguard.toml", env)
    shopee = config.channel("shopee")
    assert shopee is not None and len(shopee.checks) == 2
    assert shopee.checks[0].expect[1] == "body.live.enabled == true"
    assert config.alerts.auto_activate_after == timedelta(minutes=5)
    # Secrets stay as placeholders in the typed config; they are resolved at use.
    assert config.sources[0].headers["Authorization"] == "Bearer ${ORDERS_TOKEN}"
    assert "t0ps3cret" not in repr(config)
    webhook = config.promotions[0].actions[0]
    assert webhook.undo is not None and webhook.undo.url.endswith("/end")
    assert webhook.undo.headers == webhook.headers  # undo inherits the headers
    assert config.promotions[0].grace == timedelta(0)


@pytest.mark.parametrize(
    ("snippet", "line", "key", "message"),
    [
        ('shpo = "x"\n', 1, "shpo", "unknown key (did you mean 'shop'?)"),
        (
            '[alerts]\nfailures_before_down = "3"\n',
            12,
            "alerts.failures_before_down",
            "must be a whole number, not a string",
        ),
        (
            "[alerts]\nsuccesses_before_up = 0\n",
            12,
            "alerts.successes_before_up",
            "between 1 and 100",
        ),
        (
            '[alerts]\nauto_activate_after = "soon"\n',
            12,
            "alerts.auto_activate_after",
            "bad duration 'soon'",
        ),
        ('timezone = "Asia/Bandung"\n', 1, "timezone", "unknown time zone"),
        ('language = "jv"\n', 1, "language", 'must be "id" or "en"'),
    ],
)
def test_top_level_mistakes(snippet: str, line: int, key: str, message: str) -> None:
    # Top-level keys go before the first table; [alerts] goes after the channels.
    err = error_of(BASE + snippet if snippet.startswith("[") else snippet + BASE)
    assert (err.file, err.line, err.key) == ("liveguard.toml", line, key)
    assert message in err.message
    assert str(err).startswith(f"liveguard.toml:{line}: {key}: ")


@pytest.mark.parametrize(
    ("extra", "key", "message"),
    [
        ('[[channels]]\nid = "tiktok"\n', "channels[2].id", "duplicate channel id 'tiktok'"),
        ('[[channels]]\nid = "TikTok Shop"\n', "channels[2].id", "not a valid id"),
        ('[[channels]]\nid = "ig"\nlive = "yes"\n', "channels[2].live", "must be true or false"),
        ('[[channels]]\nid = "ig"\nlvie = true\n', "channels[2].lvie", "did you mean 'live'"),
        (
            '[[channels.checks]]\nkind = "http"\nurl = "https://x.example"\ntimeout = "10x"\n',
            "channels[1].checks[0].timeout",
            "bad duration '10x'",
        ),
        (
            '[[channels.checks]]\nkind = "http"\nurl = "http://status.example.com/live"\n',
            "channels[1].checks[0].url",
            "plain http is allowed only for loopback",
        ),
        (
            '[[channels.checks]]\nkind = "http"\nurl = "ftp://x"\n',
            "channels[1].checks[0].url",
            "bad URL",
        ),
        (
            '[[channels.checks]]\nkind = "http"\nurl = "https://x.example"\nexpect = ["status = 200"]\n',
            "channels[1].checks[0].expect[0]",
            "write LEFT OP RIGHT",
        ),
        (
            '[[channels.checks]]\nkind = "ping"\n',
            "channels[1].checks[0].kind",
            "must be one of http, statuspage, tcp, feed",
        ),
        (
            '[[channels.checks]]\nkind = "tcp"\nhost = "rtmp.example.com"\nport = 99999\n',
            "channels[1].checks[0].port",
            "port number",
        ),
        (
            '[[sources]]\nkind = "http-json"\nchannel = "lazada"\nurl = "https://o.example"\n',
            "sources[0].channel",
            "unknown channel 'lazada' (known: tiktok, shopee)",
        ),
        (
            '[[sources]]\nkind = "http-json"\nchannel = "shopee"\nurl = "https://o.example"\n'
            'headers = { Authorization = "Bearer ${ORDERS_TOKEN}" }\n',
            "sources[0].headers.Authorization",
            "environment variable ORDERS_TOKEN is not set",
        ),
        (
            '[[sources]]\nkind = "http-json"\nchannel = "shopee"\nurl = "https://o.example"\n'
            'headers = { Authorization = "Bearer abc\\r" }\n',
            "sources[0].headers.Authorization",
            "the value has a line break (CR or LF)",
        ),
        (
            '[[channels.checks]]\nkind = "http"\nurl = "https://x.example"\n'
            'headers = { "X Token" = "abc" }\n',
            "channels[1].checks[0].headers.X Token",
            "is not a valid header name",
        ),
        (
            '[[channels.checks]]\nkind = "http"\nurl = "https://x.example"\n'
            'headers = { X-Token = "s\u00e9cret" }\n',
            "channels[1].checks[0].headers.X-Token",
            "outside ASCII",
        ),
        (
            '[[promotions]]\nid = "plan-b"\nchannel = "youtube"\n',
            "promotions[0].channel",
            "unknown channel 'youtube'",
        ),
        (
            '[[promotions]]\nid = "a"\narmed = true\n[[promotions]]\nid = "b"\narmed = true\n',
            "promotions[1].armed",
            "only one promotion can be armed",
        ),
        (
            '[[promotions]]\nid = "a"\ngrace = "five"\n',
            "promotions[0].grace",
            "bad duration 'five'",
        ),
        (
            '[[promotions]]\nid = "a"\n  [[promotions.actions]]\n  kind = "sms"\n',
            "promotions[0].actions[0].kind",
            "must be one of webhook, message, link, checklist",
        ),
        (
            '[[promotions]]\nid = "a"\n  [[promotions.actions]]\n  kind = "webhook"\n'
            '  url = "https://h.example"\n  secret = "${HOOK_SECRET}"\n',
            "promotions[0].actions[0].secret",
            "environment variable HOOK_SECRET is not set",
        ),
        (
            '[[promotions]]\nid = "a"\n  [[promotions.actions]]\n  kind = "checklist"\n  steps = []\n',
            "promotions[0].actions[0].steps",
            "at least one step",
        ),
        ('[keys]\nplan_bee = "b"\n', "keys.plan_bee", "unknown action"),
    ],
)
def test_channel_source_and_promotion_mistakes(extra: str, key: str, message: str) -> None:
    text = BASE + extra
    err = error_of(text)
    assert err.key == key
    assert message in err.message
    # The line named is where that key (or its table) is written.
    assert err.line is not None
    named_line = text.splitlines()[err.line - 1]
    leaf = key.rsplit(".", 1)[-1].split("[")[0]
    assert leaf in named_line or named_line.strip().startswith("[")


def test_toml_syntax_errors_name_the_line() -> None:
    err = error_of(BASE + 'name = "unterminated\n')
    assert err.line == 11
    assert "not valid TOML" in err.message


def test_a_missing_file_suggests_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no config file here; run `liveguard init`"):
        load_config(tmp_path / "liveguard.toml")


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "liveguard.toml"
    path.write_bytes(b'shop = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, {})


def test_a_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "liveguard.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert load_config(path, {}).shop == "Toko Kue Bu Sari"


def test_secrets_are_resolved_only_when_used() -> None:
    assert resolve_env("Bearer ${T}", {"T": "abc"}) == "Bearer abc"
    with pytest.raises(MissingEnvError, match="T is not set"):
        resolve_env("Bearer ${T}", {})


def test_loopback_http_is_allowed() -> None:
    for host in ("127.0.0.1:8080", "localhost", "[::1]:9000"):
        text = BASE + f'[[channels.checks]]\nkind = "http"\nurl = "http://{host}/live"\n'
        assert parse_config(text, "x.toml", {}).channels[1].checks[0].url.startswith("http://")
