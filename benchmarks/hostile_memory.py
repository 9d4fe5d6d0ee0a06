"""Peak memory of `liveguard status` and `liveguard import` against a hostile world.

`status`: 8 live channels, each with an http check, a status page and a status feed, all
answering with compression bombs (200 MB of gzip or deflate in ~200 KB) or a 1.9 MB
reason. `import`: every hostile workbook of tests/hostile_files.py (zip and shared-string
bombs, forged dimensions and row numbers, 16,384-column rows, XML entity bombs).

Each run is a fresh `python -m liveguard` child; its own peak resident memory (VmHWM) is
the figure. Goal: <= 100 MB each.

    python benchmarks/hostile_memory.py
    python benchmarks/hostile_memory.py --src /path/to/other/src   # measure another tree
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import result
from tests.hostile_files import HOSTILE_XLSX
from tests.servers import LoopbackServer, reply

ROOT = Path(__file__).resolve().parents[1]
GOAL_MB = 100.0
BOMB_BYTES = 200_000_000
CHANNELS = 8

# Runs liveguard's own main in this fresh process, then reports the process's peak memory.
_CHILD = """
import atexit, sys
def _peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            sys.stderr.write("\\nPEAK_KB " + line.split()[1] + "\\n")
atexit.register(_peak)
from liveguard.cli import main
sys.exit(main(sys.argv[1:]))
"""


def bombs() -> dict[str, bytes]:
    gz = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    chunk = b"\0" * 1_000_000
    gzip_bomb = b"".join(
        [*(gz.compress(chunk) for _ in range(BOMB_BYTES // len(chunk))), gz.flush()]
    )
    deflate = zlib.compressobj(9)
    brace = b"{" * 1_000_000
    deflate_bomb = b"".join(
        [*(deflate.compress(brace) for _ in range(BOMB_BYTES // len(brace))), deflate.flush()]
    )
    return {"gzip": gzip_bomb, "deflate": deflate_bomb}


def hostile_server(srv: LoopbackServer) -> None:
    for coding, payload in bombs().items():
        headers = {"Content-Encoding": coding, "Content-Type": "application/json"}
        srv.route(f"/{coding}", reply(200, payload, headers=headers))
        srv.route(f"/{coding}/api/v2/status.json", reply(200, payload, headers=headers))
    feed = {
        "channels": {
            f"c{i}": {
                "state": "down",
                "since": "0001-01-01T00:00:00+14:00",
                "reason": "x" * 1_900_000,
            }
            for i in range(CHANNELS)
        }
    }
    srv.route("/feed", reply(200, json=feed))


def status_config(srv: LoopbackServer) -> str:
    parts = []
    for i in range(CHANNELS):
        coding = "gzip" if i % 2 else "deflate"
        parts.append(
            f'[[channels]]\nid = "c{i}"\nlive = true\n'
            f'[[channels.checks]]\nkind = "http"\nurl = "{srv.url("/" + coding)}"\n'
            'expect = ["body.live.enabled == true"]\ntimeout = "20s"\n'
            f'[[channels.checks]]\nkind = "statuspage"\nurl = "{srv.url("/" + coding)}"\n'
            'timeout = "20s"\n'
            f'[[channels.checks]]\nkind = "feed"\nurl = "{srv.url("/feed")}"\ntimeout = "20s"\n'
        )
    return "\n".join(parts)


def peak_of(args: list[str], src: str | None) -> tuple[float, int, str]:
    env = dict(os.environ)
    env.pop("LIVEGUARD_HOME", None)
    if src:
        env["PYTHONPATH"] = src
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
    )  # fmt: skip
    lines = proc.stderr.splitlines()
    peak_kb = next((int(line.split()[1]) for line in lines if line.startswith("PEAK_KB")), 0)
    said = next((line for line in lines if line and not line.startswith("PEAK_KB")), "")
    return peak_kb / 1024, proc.returncode, said or proc.stdout.strip().splitlines()[0][:100]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", help="PYTHONPATH for the measured liveguard (default: this tree)")
    parser.add_argument("--status-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer() as srv:
        work = Path(tmp)
        hostile_server(srv)
        home = work / "home"
        home.mkdir()
        (home / "liveguard.toml").write_text(status_config(srv))
        peak, code, said = peak_of(["--home", str(home), "status", "--json"], args.src)
        print(f"status against bombs: peak {peak:.0f} MB, exit {code}: {said[:100]}")
        result("hostile_memory", "status vs bombs: peak RSS", peak, "MB", "<= 100", peak <= GOAL_MB)

        if args.status_only:
            return 0
        imports = work / "imports"
        imports.mkdir()
        (imports / "liveguard.toml").write_text('[[channels]]\nid = "shopee"\n')
        worst = 0.0
        for name, (make, _) in HOSTILE_XLSX.items():
            path = make(work / f"{name}.xlsx")
            peak, code, said = peak_of(["--home", str(imports), "import", str(path)], args.src)
            worst = max(worst, peak)
            size = path.stat().st_size
            print(f"import {name} ({size:,} bytes): peak {peak:.0f} MB, exit {code}: {said[:80]}")
            path.unlink()
        result(
            "hostile_memory",
            "import of hostile xlsx: worst peak RSS",
            worst,
            "MB",
            "<= 100",
            worst <= GOAL_MB,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
