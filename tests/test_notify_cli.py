"""`liveguard notify list|test|setup telegram`, run as the real command against a loopback
Bot API server and an ntfy-style endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from liveguard.demo.phone import BotApi

from .cli_runner import ROOT, run_liveguard
from .phone_servers import running_bot, wait_for
from .servers import LoopbackServer, reply

TOKEN = "987654:SETUP-secret-token"
ENV = {"TG": TOKEN, "TOPIC": "topic-secret-42"}


@pytest.fixture
def bot() -> Iterator[BotApi]:
    with running_bot(token=TOKEN) as api:
        yield api


def write_home(tmp_path: Path, bot: BotApi, ntfy_url: str) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "liveguard.toml").write_text(
        'language = "en"\n[[channels]]\nid = "tiktok"\nlive = true\n\n'
        f'[[notify]]\nid = "owner"\nkind = "telegram"\ntoken = "${{TG}}"\nchats = ["111"]\napi = "{bot.url()}"\n\n'
        f'[[notify]]\nid = "staff"\nkind = "ntfy"\nurl = "{ntfy_url}"\n',
        encoding="utf-8",
    )
    return home


def test_list_test_and_list_again(tmp_path: Path, bot: BotApi) -> None:
    with LoopbackServer() as ntfy:
        ntfy.route("/topic-secret-42", reply(500, "down for maintenance"))
        home = write_home(tmp_path, bot, ntfy.url("/${TOPIC}"))
        before = run_liveguard("--home", str(home), "notify", "list", "--json", env=ENV)
        assert before.returncode == 0, before.stderr
        listing = json.loads(before.stdout)
        assert [(x["id"], x["kind"], x["last"]) for x in listing] == [
            ("owner", "telegram", None),
            ("staff", "ntfy", None),
        ]
        assert listing[1]["where"] == "127.0.0.1/•••"

        one = run_liveguard("--home", str(home), "notify", "test", "owner", env=ENV)
        assert one.returncode == 0, one.stderr
        assert one.stdout.strip() == "owner (111): sent (200)"
        assert bot.texts("111")[0].startswith("Test message from liveguard")

        every = run_liveguard("--home", str(home), "notify", "test", env=ENV, timeout=120)
        assert every.returncode == 1
        assert "staff: FAILED: HTTP 500: down for maintenance" in every.stdout

        after = run_liveguard("--home", str(home), "notify", "list", env=ENV)
        lines = after.stdout.splitlines()
        assert lines[0].startswith("owner") and "delivered" in lines[0]
        assert lines[1].startswith("staff") and "not sent" in lines[1] and "HTTP 500" in lines[1]
        for out in (before.stdout, one.stdout, every.stdout, after.stdout, every.stderr):
            assert TOKEN not in out and "topic-secret-42" not in out

        log = run_liveguard("--home", str(home), "log", "--json", env=ENV)
        kinds = [e["kind"] for e in json.loads(log.stdout)]
        assert kinds.count("notify.attempt") == 3


def test_unknown_target_is_a_usage_error(tmp_path: Path, bot: BotApi) -> None:
    home = write_home(tmp_path, bot, "https://ntfy.sh/${TOPIC}")
    result = run_liveguard("--home", str(home), "notify", "test", "ownr", env=ENV)
    assert result.returncode == 64
    assert result.stderr.strip() == "liveguard: No target 'ownr'. Choose: owner, staff"


def test_setup_checks_the_token_and_shows_who_messaged_the_bot(tmp_path: Path, bot: BotApi) -> None:
    home = write_home(tmp_path, bot, "https://ntfy.sh/${TOPIC}")
    child = subprocess.Popen(
        [sys.executable, "-m", "liveguard", "--home", str(home), "notify", "setup", "telegram", "--wait", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**_env(), **ENV},
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(child.stdout or []), daemon=True)
    reader.start()
    wait_for(lambda: any(method == "getUpdates" for method, _ in bot.calls), what="the long poll")
    bot.say(555123, "halo", user="Sari")
    assert child.wait(30) == 0, child.stderr.read() if child.stderr else ""
    reader.join(5)
    out = "".join(lines)
    assert "Bot: @liveguard_demo_bot" in out
    assert "chat 555123: Sari (@sari)" in out
    assert 'Paste into the config: chats = ["555123"]' in out
    assert bot.pending_updates() == 1, "setup never confirms updates: they stay for the room"


def test_setup_with_a_wrong_token_says_so(tmp_path: Path, bot: BotApi) -> None:
    home = write_home(tmp_path, bot, "https://ntfy.sh/${TOPIC}")
    result = run_liveguard(
        "--home", str(home), "notify", "setup", "telegram", env={**ENV, "TG": "1:wrong"}
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "liveguard: Telegram refused the token: HTTP 401: Unauthorized"


def _env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGUARD")}
    env.update(LANG="en_US.UTF-8")
    return env
