"""Check what users install: build the wheel, install it into a fresh virtual environment and
run the installed ``liveguard`` from outside the repository (part of ``make test``).

A file missing from package-data (catalogues, styles, the starter config) or a broken
console-script entry point fails here, although the editable install would not notice.

    .venv/bin/python scripts/check_installed.py [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_PLAY_S = 4.0  # how long the demo runs before q
DEADLINE_S = 90.0  # only guards against a hang


class Failed(Exception):
    pass


def step(what: str) -> None:
    print(f"installed: {what}", flush=True)


def run(cmd: list[str], cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode not in ok:
        raise Failed(f"{' '.join(cmd)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    if "Traceback" in done.stdout + done.stderr:
        raise Failed(f"{' '.join(cmd)}: a traceback\n{done.stderr}")
    return done.stdout


def clean_copy(work: Path) -> Path:
    """The checkout's files as a fresh clone would have them (tracked and new, not ignored):
    a build in the checkout itself would reuse build/ and *.egg-info/ from earlier builds,
    which can hide a file missing from package-data."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    copy = work / "checkout"
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    return copy


def build_and_install(work: Path) -> Path:
    """The wheel of this checkout, installed into a new venv; returns its ``liveguard``."""
    step("building the wheel from a clean copy of the checkout")
    dist = work / "dist"
    env = dict(os.environ)
    source = clean_copy(work)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist)]
    run([*pip_wheel, str(source)], work, env)
    [wheel] = dist.glob("liveguard-*.whl")
    step(f"installing {wheel.name} into a fresh virtual environment")
    venv = work / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    run([base, "-m", "venv", str(venv)], work, env)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], work, env)
    return bin_dir / "liveguard"


def user_env(work: Path) -> dict[str, str]:
    """A user's environment: no LIVEGUARD_* from the developer, a home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEGUARD", "PYTHON"))}
    env.update(HOME=str(work / "user"), TMPDIR=str(work / "tmp"), LANG="en_US.UTF-8")
    (work / "user").mkdir()
    (work / "tmp").mkdir()
    return env


def check_commands(liveguard: Path, work: Path, env: dict[str, str]) -> None:
    home = work / "home"
    step("--version")
    version = run([str(liveguard), "--version"], work, env).strip()
    if not version.startswith("liveguard "):
        raise Failed(f"--version printed {version!r}")
    where_from = "import liveguard; print(liveguard.__file__)"
    where = run([str(liveguard.parent / "python"), "-c", where_from], work, env)
    if not Path(where.strip()).is_relative_to(liveguard.parents[1]):
        raise Failed(f"liveguard was imported from {where.strip()}, not the fresh venv")
    step("init")
    run([str(liveguard), "--home", str(home), "init"], work, env)
    if not (home / "liveguard.toml").is_file():
        raise Failed("init wrote no liveguard.toml")
    step("doctor")
    run([str(liveguard), "--home", str(home), "doctor"], work, env)
    step("status --json")
    # the starter config's channels have no checks yet: every state is unknown (exit 3)
    out = run([str(liveguard), "--home", str(home), "status", "--json"], work, env, ok=(3,))
    channels = json.loads(out)["channels"]
    if not channels or any(c["state"] != "unknown" for c in channels):
        raise Failed(f"status --json: {out}")
    step("status in both languages (the catalogues are installed)")
    said = {
        lang: run([str(liveguard), "--home", str(home), "--lang", lang, "status"], work, env,
                  ok=(3,))
        for lang in ("id", "en")
    }  # fmt: skip
    if said["id"] == said["en"] or "status." in said["id"] + said["en"]:
        raise Failed(f"status is not translated:\n{said['id']}\n{said['en']}")


def check_demo(liveguard: Path, work: Path, env: dict[str, str]) -> None:
    """``liveguard demo`` in a pseudo-terminal: it paints, plays a few seconds, q quits it."""
    sys.path.insert(0, str(ROOT))
    from tests.pty_session import PtySession

    step(f"demo (headless in a pseudo-terminal, {DEMO_PLAY_S:g} s)")
    env = dict(env, TERM="xterm-256color", COLUMNS="120", LINES="40")
    demo = PtySession([str(liveguard), "--lang", "en", "demo"], env, work)
    painted = demo.read_until(lambda out: b"Toko Demo" in out, DEADLINE_S)
    if painted:
        demo.read_until(lambda out: False, DEMO_PLAY_S)
        demo.send(b"q")
    code = demo.wait(DEADLINE_S)
    if not painted:
        raise Failed(f"the demo never painted:\n{demo.seen[-2000:]!r}")
    if code != 0 or b"Traceback" in demo.seen:
        raise Failed(f"the demo quit with {code}:\n{demo.seen[-3000:]!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="liveguard-installed-"))
    try:
        liveguard = build_and_install(work)
        env = user_env(work)
        check_commands(liveguard, work, env)
        if os.name == "posix":
            check_demo(liveguard, work, env)
        else:
            step("demo skipped: pseudo-terminals are POSIX only")
    except Failed as exc:
        print(f"installed: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"installed: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    step("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
