"""The command line as a user runs it: real processes, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from liveguard import __version__
from tests.cli_runner import run_liveguard

ROOT = Path(__file__).resolve().parents[1]


def run(
    *args: str, home: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    where = ["--home", str(home)] if home is not None else []
    return run_liveguard(*where, *args, env=env)


def test_version_and_help() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"liveguard {__version__}"
    result = run("--help")
    assert result.returncode == 0
    for command in ("demo", "init", "doctor"):
        assert command in result.stdout


@pytest.mark.parametrize(
    "args", [["--bogus"], ["frobnicate"], ["--lang", "fr"], ["init", "--forse"]]
)
def test_usage_errors_exit_64(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 64
    assert "usage:" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_writes_a_config_doctor_accepts_and_refuses_to_overwrite(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = run("init", home=home)
    assert result.returncode == 0, result.stderr
    config = home / "liveguard.toml"
    assert config.exists()
    original = config.read_text()
    assert "[[promotions]]" in original and "armed = true" in original

    result = run("init", home=home)
    assert result.returncode == 1
    assert "--force" in result.stderr and result.stderr.count("\n") == 1
    assert config.read_text() == original

    config.write_text("# mine\n" + original)
    assert run("init", "--force", home=home).returncode == 0
    assert config.read_text() == original

    result = run("doctor", home=home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 channels" in result.stdout and "armed: plan-b" in result.stdout
    assert "No problems found." in result.stdout


def test_liveguard_home_from_the_environment(tmp_path: Path) -> None:
    home = tmp_path / "envhome"
    assert run("init", env={"LIVEGUARD_HOME": str(home)}).returncode == 0
    assert (home / "liveguard.toml").exists()


def test_doctor_reports_a_broken_config_and_exits_1(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "liveguard.toml").write_text('[[channels]]\nid = "tiktok"\nlvie = true\n')
    result = run("doctor", home=home)
    assert result.returncode == 1
    assert "liveguard.toml:3: channels[0].lvie: unknown key (did you mean 'live'?)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_doctor_notes_a_corrupt_state_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run("init", home=home).returncode == 0
    (home / "state").mkdir()
    (home / "state" / "status.json").write_text("{truncated")
    result = run("doctor", home=home)
    assert result.returncode == 0, result.stdout
    assert "moved aside as status.json.corrupt-" in result.stdout


def test_the_control_room_without_a_config_says_what_to_do(tmp_path: Path) -> None:
    result = run(home=tmp_path / "empty")
    assert result.returncode == 1
    assert result.stderr.startswith("liveguard: ")
    assert "run `liveguard init`" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_bad_config_is_one_line_naming_file_line_and_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "liveguard.toml").write_text('[alerts]\nfailures_before_down = "three"\n')
    result = run(home=home)
    assert result.returncode == 1
    assert result.stderr == (
        f"liveguard: {home / 'liveguard.toml'}:2: alerts.failures_before_down: "
        "must be a whole number, not a string\n"
    )


def test_an_unwritable_home_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    result = run("sale", "add", "instagram", "10rb", home=blocker)
    assert (result.returncode, result.stdout) == (1, "")
    assert (
        result.stderr == f"liveguard: {blocker / 'liveguard.toml'}: cannot read: Not a directory\n"
    )
    report = run("doctor", home=blocker)
    assert report.returncode == 1 and "Traceback" not in report.stdout + report.stderr
    failed = [line for line in report.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 3 and all(str(blocker) in line for line in failed), report.stdout
    assert "cannot create the state folder (Not a directory)" in failed[1]
