"""Files liveguard writes into folders others might reach: never through a planted link,
and `doctor` says when a folder or the config is writable by other users."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.promotion_store import save_text_file
from liveguard.adapters.state_home import StateHome
from tests.cli_runner import run_liveguard

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX links and mode bits")


def test_a_link_at_the_audit_archive_is_not_written_through(home: StateHome) -> None:
    log = AuditLog(home, ring_size=10, archive_batch=4, actor="ani")
    target = home.paths.logs.parent / "victim.txt"
    target.write_text("precious\n")
    month = home.now().strftime("%Y-%m")
    home.paths.logs.mkdir(parents=True, exist_ok=True)
    (home.paths.logs / f"audit-{month}.jsonl").symlink_to(target)

    for n in range(30):
        log.record("test", {"n": n})

    assert target.read_text() == "precious\n"
    # nothing is lost: what could not be archived stays in the ring
    assert [e["detail"]["n"] for e in log.entries()] == list(range(30))
    assert any("is a symbolic link" in notice for notice in home.notices), home.notices


def test_a_link_at_a_message_file_is_refused_in_one_line(tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("precious\n")
    link = tmp_path / "logs" / "planb-x-message-1.txt"
    link.parent.mkdir()
    link.symlink_to(target)
    with pytest.raises(OSError, match="is a symbolic link; liveguard does not write through"):
        save_text_file(link, "Halo kak!")
    assert target.read_text() == "precious\n"
    assert link.is_symlink()


def test_doctor_reports_what_other_users_can_write(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_liveguard("init", env={"LIVEGUARD_HOME": str(home)}).returncode == 0
    for sub in ("state", "logs"):
        (home / sub).mkdir(exist_ok=True)
    clean = run_liveguard("doctor", env={"LIVEGUARD_HOME": str(home)})
    assert "writable by other users" not in clean.stdout, clean.stdout

    opened = [home, home / "state", home / "logs", home / "liveguard.toml"]
    for path in opened:
        path.chmod(path.stat().st_mode | stat.S_IWOTH)
    result = run_liveguard("doctor", env={"LIVEGUARD_HOME": str(home)})
    assert result.returncode == 1
    for path in opened:
        assert f"FAIL  perms    {path} is writable by other users" in result.stdout, result.stdout
