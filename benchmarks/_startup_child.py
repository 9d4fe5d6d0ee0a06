"""Child of benchmarks/startup.py: open the control room on a home, report the first frame.

Prints one JSON line: seconds from process start to the first painted frame (Textual's
Ready event) and the peak resident memory, then exits.
"""

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from liveguard.cli.context import Context  # noqa: E402
from liveguard.cli.home_commands import open_room  # noqa: E402
from liveguard.core.timekeeping import FixedClock  # noqa: E402
from liveguard.ui.app import LiveguardApp  # noqa: E402


def peak_rss_mb() -> float:
    # VmHWM is this program's own peak. ru_maxrss is not: Linux carries the parent's peak
    # across fork+exec, so a benchmark parent that built a big home would be measured.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


class TimedApp(LiveguardApp):
    def on_ready(self) -> None:
        first_frame = time.perf_counter() - STARTED
        print(json.dumps({"first_frame_s": first_frame, "peak_rss_mb": peak_rss_mb()}), flush=True)
        self.exit()


def main() -> None:
    clock = FixedClock(datetime(2026, 11, 28, 14, 0, tzinfo=UTC))
    ctx = Context(home=sys.argv[1], config_file=None, lang_flag="en", clock=clock)
    try:
        TimedApp(open_room(ctx)).run(headless=True, size=(120, 40))
    finally:
        ctx.close()


if __name__ == "__main__":
    main()
