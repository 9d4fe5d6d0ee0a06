"""The control room itself, ``demo``, ``init`` and ``doctor``."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liveguard.adapters.atomic_storage import atomic_write_bytes
from liveguard.adapters.config_file import ConfigError, load_config
from liveguard.adapters.paths import Paths, writable_by_others
from liveguard.adapters.state_home import StateError, StateHome
from liveguard.i18n import Catalog
from liveguard.service.readiness import ReadinessService, describe

from . import shopee_commands
from .context import CliError, Context

if TYPE_CHECKING:
    from liveguard.core.config import Config
    from liveguard.service.room import ControlRoom


def starter_config_text() -> str:
    return resources.files("liveguard").joinpath("starter.toml").read_text(encoding="utf-8")


def register(sub: Any) -> None:
    demo = sub.add_parser(
        "demo",
        help="the control room on a simulated shop (loopback servers, a scripted evening)",
    )
    demo.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="X",
        help="play the story X times faster (default 1: about two minutes)",
    )
    demo.add_argument(
        "--keep", action="store_true", help="keep the temporary home and print where it is"
    )
    demo.set_defaults(func=run_demo)

    init = sub.add_parser("init", help="write a commented starter config")
    init.add_argument("--force", action="store_true", help="overwrite an existing config")
    init.set_defaults(func=run_init)

    doctor = sub.add_parser(
        "doctor", help="check config, state and paths (exit 0 fine, 1 problems)"
    )
    doctor.set_defaults(func=run_doctor)


def run_room(ctx: Context, args: argparse.Namespace) -> int:
    from liveguard.ui.app import LiveguardApp

    room = open_room(ctx)
    app = LiveguardApp(room)
    app.run()
    if app.return_code and room.config.heartbeat is not None:
        from liveguard.service.heartbeat import ping_fail

        ping_fail(room.config.heartbeat, os.environ, ctx.lang)  # the phone hears at once
    return app.return_code or 0


def open_room(ctx: Context) -> ControlRoom:
    """The control room's service, on this home, claimed for this process."""
    from liveguard.service.room import ControlRoom

    config = ctx.config()
    home = ctx.state()
    try:
        home.hold_room()
    except StateError as exc:
        raise CliError(str(exc)) from None
    return ControlRoom(config, home, ctx.clock, ctx.lang)


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text!r}")
    return value


def run_demo(ctx: Context, args: argparse.Namespace) -> int:
    from liveguard.demo import DemoWorld

    folder = Path(tempfile.mkdtemp(prefix="liveguard-demo-"))
    world = DemoWorld(speed=args.speed, clock=ctx.clock)
    try:
        world.start()
        world.write_config(folder / "liveguard.toml")
        demo_ctx = Context(
            home=str(folder), config_file=None, lang_flag=ctx.lang_flag, clock=ctx.clock
        )
        try:
            shopee_commands.connect_with(
                demo_ctx.config(), demo_ctx.state(), demo_ctx.clock, world.shopee.authorize
            )
            return run_room(demo_ctx, args)
        finally:
            demo_ctx.close()
    finally:
        world.stop()
        received = world.shop.received()
        if received:
            print(f"liveguard: the demo webhook receiver got {len(received)} request(s):")
            for got in received:
                print(f"  {got.method} {got.path}  Idempotency-Key: {got.idempotency_key}")
        if args.keep:
            print(f"liveguard: demo home kept at {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def run_init(ctx: Context, args: argparse.Namespace) -> int:
    path = ctx.paths.config
    if path.exists() and not args.force:
        raise CliError(
            f"{path}: a config already exists; use `liveguard init --force` to overwrite it"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, starter_config_text().encode("utf-8"))
    except OSError as exc:
        raise CliError(f"{path}: cannot write ({exc.strerror or exc})") from None
    print(f"Wrote {path}")
    print("Next: edit it (channels, Plan B), then run `liveguard doctor` and `liveguard`.")
    return 0


def run_doctor(ctx: Context, args: argparse.Namespace) -> int:
    problems = 0

    def line(ok: bool | None, what: str, detail: str) -> None:
        nonlocal problems
        mark = {True: "ok  ", False: "FAIL", None: "note"}[ok]
        if ok is False:
            problems += 1
        print(f"{mark}  {what:<8} {detail}")

    paths: Paths = ctx.paths
    config = None
    try:
        config = load_config(paths.config)
    except ConfigError as exc:
        line(False, "config", str(exc))
    else:
        armed = config.armed_promotion.id if config.armed_promotion else "none"
        line(
            True,
            "config",
            f"{paths.config}: {len(config.channels)} channels, {len(config.sources)} order feeds, "
            f"{len(config.promotions)} promotions (armed: {armed}), zone {config.timezone}",
        )
        for ok, what in statuspage_components(config):
            line(ok, "status", what)
        if config.armed_promotion is not None:
            t = Catalog(ctx.lang)
            ready = asyncio.run(ReadinessService(config, ctx.clock, os.environ).check())
            name = config.armed_promotion.name
            line(
                ready.ready,
                "planb",
                t("readiness.doctor_ready", name=name)
                if ready.ready
                else t("readiness.doctor_not_ready", name=name, count=len(ready.problems)),
            )
            for problem in ready.problems:
                line(None, "planb", describe(problem, t))
    home = StateHome(paths, ctx.clock)
    try:
        home.open()
    except StateError as exc:
        line(False, "state", str(exc))
    else:
        try:
            files = home.files()
            unreadable = check_state_files(home)
            line(
                not unreadable,
                "state",
                f"{paths.state}: {len(files)} files"
                + (f"; {unreadable}" if unreadable else ", all readable"),
            )
            for notice in home.notices:
                line(None, "state", notice)
            if config is not None:
                for ok, detail in shopee_commands.doctor_lines(config, home, ctx.clock.now()):
                    line(ok, "shopee", detail)
            room = home.room_owner() if home.room_is_open() else ""
            line(
                None if room else True,
                "lock",
                f"a control room is open ({room})" if room else "no other liveguard is running",
            )
        finally:
            home.close()
    line(os.access(paths.logs, os.W_OK), "logs", str(paths.logs))
    for path in writable_by_others(paths):
        line(False, "perms", f"{path} is writable by other users (fix: chmod o-w '{path}')")
    print(
        "No problems found." if not problems else f"{problems} problem(s) found.", file=sys.stdout
    )
    return 0 if not problems else 1


def statuspage_components(config: Config) -> list[tuple[bool | None, str]]:
    """Each status page check with a component: can the page's component be chosen? A name
    matching none or several is a problem until the config is precise; a page that cannot
    be read now is only a note."""
    import asyncio

    from liveguard.adapters.http_pool import HttpPool
    from liveguard.adapters.probes import statuspage_component_problem

    checks = [
        (f"channels[{i}].checks[{j}]", check)
        for i, channel in enumerate(config.channels)
        for j, check in enumerate(channel.checks)
        if check.kind == "statuspage" and check.component
    ]

    async def look() -> list[tuple[bool | None, str]]:
        pool = HttpPool(use_env_proxy=config.network.use_env_proxy)
        try:
            found = await asyncio.gather(
                *(statuspage_component_problem(pool, check) for _, check in checks)
            )
        finally:
            await pool.aclose()
        lines: list[tuple[bool | None, str]] = []
        for (where, _), problem in zip(checks, found, strict=True):
            if problem is None:
                lines.append((True, f"{where}: component found"))
            else:
                precise, why = problem
                lines.append((False if precise else None, f"{where}: {why}"))
        return lines

    return asyncio.run(look()) if checks else []


def check_state_files(home: StateHome) -> str:
    """Open every state file the way the program would; report the first one that fails."""
    from liveguard.adapters.state_home import SCHEMAS

    for path in home.files():
        rel = path.relative_to(home.dir).as_posix()
        kind = _kind_of(rel)
        if kind is None or kind not in SCHEMAS:
            continue
        try:
            home.db(rel, kind)
        except StateError as exc:
            return str(exc)
    return ""


def _kind_of(rel: str) -> str | None:
    if rel.startswith("orders/"):
        return "orders-day"
    if rel.startswith("history/"):
        return "history-month"
    return {"status.json": "status", "promotions.json": "promotions", "audit.json": "audit"}.get(
        rel
    )
