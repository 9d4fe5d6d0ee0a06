"""``liveguard``: the command line. Usage errors exit 64; other failures print one line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from liveguard import __version__

from . import (
    home_commands,
    notify_commands,
    promo_commands,
    sales_commands,
    shopee_commands,
    status_commands,
)
from .context import EXIT_USAGE, CliError, Context
from .output import terminal_safe_output

# Each module adds its subcommands with register(subparsers) and sets func(ctx, args) -> int.
COMMAND_MODULES: list[ModuleType] = [
    home_commands,
    status_commands,
    sales_commands,
    promo_commands,
    shopee_commands,
    notify_commands,
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="liveguard",
        description="A keyboard-driven control room for small online sellers: live-feature "
        "status per channel, today's sales, and a one-key Plan B.",
        epilog="Without a command, opens the control room. Files: --home DIR or LIVEGUARD_HOME "
        "puts config, state and logs in one folder. Every command, option, exit code, JSON "
        "shape and config key: docs/reference.md in the liveguard source.",
    )
    parser.add_argument("--version", action="version", version=f"liveguard {__version__}")
    parser.add_argument(
        "--home", metavar="DIR", help="keep config, state and logs in DIR (or set LIVEGUARD_HOME)"
    )
    parser.add_argument(
        "--config", metavar="FILE", help="use this config file instead of the one in the home"
    )
    parser.add_argument(
        "--lang", choices=["id", "en"], help="language of the control room and messages"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(sub)
    parser.set_defaults(func=home_commands.run_room)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with terminal_safe_output():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(home=args.home, config_file=args.config, lang_flag=args.lang)
    debug = os.environ.get("LIVEGUARD_DEBUG") == "1"
    try:
        code: int = args.func(ctx, args)
        return code
    except CliError as exc:
        print(f"liveguard: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        if debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"liveguard: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if debug:
            raise
        print(
            f"liveguard: unexpected error: {type(exc).__name__}: {exc} "
            "(set LIVEGUARD_DEBUG=1 to see details)",
            file=sys.stderr,
        )
        return 70
    finally:
        ctx.close()
