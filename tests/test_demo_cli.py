"""``liveguard demo``: its options, its temporary home, and a clean exit.

The control room itself is replaced here by a stand-in that looks at what the demo set up
(the real control room runs in tests/test_demo_e2e.py); everything else is the real command.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from liveguard.adapters.config_file import load_config
from liveguard.cli import home_commands, main
from liveguard.cli.context import CliError, Context
from tests.pty_session import PtySession
from tests.test_cli import run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, object]:
    """Temp homes go under tmp_path; the control room is a stand-in that records the home."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    found: dict[str, object] = {}

    def room(ctx: Context, args: argparse.Namespace) -> int:
        config = load_config(ctx.paths.config, environ={})
        found["home"] = ctx.paths.config.parent
        found["speed"] = args.speed
        url = config.channels[0].checks[0].url
        found["live"] = httpx.get(url).status_code
        receiver = config.promotions[0].actions[0].url
        httpx.post(receiver, json={}, headers={"Idempotency-Key": "lg-k-0-do"})
        if found.get("fail"):
            raise CliError("the room failed")
        return 0

    monkeypatch.setattr(home_commands, "run_room", room)
    return found


def test_the_temporary_home_is_removed_on_exit(
    seen: dict[str, object],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    real_home = tmp_path / "the-sellers-real-home"
    monkeypatch.setenv("LIVEGUARD_HOME", str(real_home))
    assert main(["--config", str(tmp_path / "nowhere.toml"), "demo"]) == 0
    home = seen["home"]
    assert isinstance(home, Path) and home.name.startswith("liveguard-demo-")
    assert not home.exists()
    assert not real_home.exists()  # the seller's own home and config are never touched
    assert seen["live"] == 200 and seen["speed"] == 1.0
    out = capsys.readouterr().out
    assert "POST /flash-sale/start  Idempotency-Key: lg-k-0-do" in out
    assert "kept" not in out


def test_keep_keeps_the_home_and_says_where(
    seen: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--keep", "--speed", "2.5"]) == 0
    home = seen["home"]
    assert isinstance(home, Path) and (home / "liveguard.toml").is_file()
    assert f"demo home kept at {home}" in capsys.readouterr().out
    assert seen["speed"] == 2.5
    config = load_config(home / "liveguard.toml", environ={})
    assert config.shop == "Toko Demo"


def test_the_home_is_removed_when_the_room_fails(
    seen: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    seen["fail"] = True
    assert main(["demo"]) == 1
    home = seen["home"]
    assert isinstance(home, Path) and not home.exists()
    assert "the room failed" in capsys.readouterr().err


@pytest.mark.parametrize("speed", ["0", "-1", "abc", "nan", "inf", ""])
def test_a_bad_speed_is_a_usage_error(speed: str) -> None:
    result = run("demo", "--speed", speed)
    assert result.returncode == 64
    assert "--speed: must be a number above 0" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_the_real_demo_in_a_terminal_quits_cleanly(tmp_path: Path) -> None:
    """The whole command in a pseudo-terminal: the room paints, q quits, nothing is left."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGUARD")}
    env.update(TMPDIR=str(tmp_path), TERM="xterm-256color", COLUMNS="120", LINES="40")
    demo = PtySession([sys.executable, "-m", "liveguard", "--lang", "en", "demo"], env, ROOT)
    painted = demo.read_until(lambda out: b"Toko Demo" in out and b"TikTok Shop" in out, 60.0)
    if painted:
        demo.send(b"q")
    code = demo.wait(20.0)
    assert painted, demo.seen[-2000:]
    assert code == 0, (code, demo.seen[-2000:])
    assert b"Traceback" not in demo.seen and b"unexpected error" not in demo.seen
    assert not list(tmp_path.glob("liveguard-demo-*"))
