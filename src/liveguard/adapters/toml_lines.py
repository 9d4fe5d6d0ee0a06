"""Find the line a TOML key was written on, so config errors can name it.

tomllib gives values, not positions. This scanner follows table headers (``[a]``,
``[[a.b]]``) and ``key =`` lines well enough to place a path such as
``channels[1].checks[0].timeout``; inside inline tables it names the enclosing key's line.
"""

from __future__ import annotations

import re

_HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(r"^\s*(\"[^\"]+\"|[A-Za-z0-9_\-]+)\s*=")


def _strip_quotes(part: str) -> str:
    part = part.strip()
    return part[1:-1] if len(part) >= 2 and part[0] == part[-1] == '"' else part


def key_lines(text: str) -> dict[str, int]:
    """Map every path the scanner can see (``alerts.failures_before_down``,
    ``channels[0]``, ``channels[0].checks[1].url``) to its 1-based line number."""
    lines: dict[str, int] = {}
    counters: dict[str, int] = {}
    current = ""
    multiline_string = False
    for number, line in enumerate(text.splitlines(), start=1):
        if multiline_string:
            if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                multiline_string = False
            continue
        header = _HEADER_RE.match(line)
        if header:
            names = [_strip_quotes(p) for p in header.group(2).split(".")]
            is_array = header.group(1) == "[["
            # Resolve the parent part against the arrays opened so far.
            path = ""
            for i, name in enumerate(names):
                plain = f"{path}.{name}" if path else name
                last = i == len(names) - 1
                if last and is_array:
                    index = counters.get(plain, 0)
                    counters[plain] = index + 1
                    # A new array element resets the counters of arrays nested in it.
                    for key in [k for k in counters if k.startswith(plain + "[")]:
                        del counters[key]
                    path = f"{plain}[{index}]"
                elif plain in counters:
                    path = f"{plain}[{counters[plain] - 1}]"
                else:
                    path = plain
            current = path
            lines.setdefault(current, number)
            continue
        key_match = _KEY_RE.match(line)
        if key_match:
            name = _strip_quotes(key_match.group(1))
            full = f"{current}.{name}" if current else name
            lines.setdefault(full, number)
            rest = line[key_match.end() :]
            if rest.count('"""') % 2 == 1 or rest.count("'''") % 2 == 1:
                multiline_string = True
    return lines


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path`` or of its nearest ancestor the scanner saw."""
    probe = path
    while probe:
        if probe in lines:
            return lines[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        if cut <= 0:
            break
        probe = probe[:cut]
    return lines.get(probe)
