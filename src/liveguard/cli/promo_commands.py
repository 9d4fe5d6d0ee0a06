"""``liveguard promo list|activate|deactivate|test|check`` and ``liveguard log``."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from typing import Any

from liveguard.adapters.state_home import StateError
from liveguard.core.promotion import RenderedRequest
from liveguard.core.timekeeping import format_clock
from liveguard.i18n import Catalog
from liveguard.service.planb import ActionView, PlanBService, TransitionError, describe_entry

from . import readiness_commands
from .context import CliError, Context

DEFAULT_LOG_LIMIT = 100


def register(sub: Any) -> None:
    promo = sub.add_parser("promo", help="backup promotions (Plan B): list, activate, test")
    actions = promo.add_subparsers(
        dest="promo_command", metavar="ACTION", parser_class=type(promo), required=True
    )
    listing = actions.add_parser("list", help="every prepared promotion and its state")
    listing.add_argument("--json", action="store_true", help="print JSON (docs/reference.md)")
    listing.set_defaults(func=run_list)

    activate = actions.add_parser(
        "activate", help="activate a promotion (default: the armed one), after its countdown"
    )
    activate.add_argument("id", nargs="?", metavar="ID", help="promotion id (default: armed)")
    activate.add_argument("--now", action="store_true", help="skip the grace countdown")
    activate.add_argument("--reason", default="", metavar="TEXT", help="fills {reason}")
    activate.set_defaults(func=run_activate)

    deactivate = actions.add_parser(
        "deactivate", help="deactivate the active promotion (runs its undo actions)"
    )
    deactivate.add_argument("--now", action="store_true", help="skip the grace countdown")
    deactivate.set_defaults(func=run_deactivate)

    test = actions.add_parser("test", help="show what every action of ID would do; sends nothing")
    test.add_argument("id", metavar="ID", help="promotion id")
    test.add_argument("--reason", default="test", metavar="TEXT", help="fills {reason}")
    test.set_defaults(func=run_test)
    readiness_commands.register(actions)

    log = sub.add_parser("log", help="the audit log, newest last")
    log.add_argument("--json", action="store_true", help="print JSON (docs/reference.md)")
    log.add_argument(
        "--limit",
        type=_positive,
        default=DEFAULT_LOG_LIMIT,
        metavar="N",
        help=f"the newest N entries (default {DEFAULT_LOG_LIMIT})",
    )
    log.set_defaults(func=run_log)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _service(ctx: Context) -> PlanBService:
    return PlanBService(ctx.config(), ctx.state(), clock=ctx.clock)


def _refuse(exc: TransitionError, t: Catalog) -> CliError:
    return CliError(t(exc.key, **exc.params))


# -- promo list / test -------------------------------------------------------------------------
def run_list(ctx: Context, args: argparse.Namespace) -> int:
    rows = _service(ctx).listing()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    t = Catalog(ctx.lang)
    if not rows:
        print(t("planb.no_promotions", path=str(ctx.paths.config)))
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        mark = "*" if r["armed"] else " "
        print(f"{mark} {r['id']:<{width}}  {r['state']:<12}  {r['actions']:>2}  {r['name']}")
    return 0


def run_test(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    t = Catalog(ctx.lang)
    promo = ctx.config().promotion(args.id)
    try:
        preview = service.preview(args.id, args.reason)
    except TransitionError as exc:
        raise _refuse(exc, t) from None
    assert promo is not None
    print(t("planb.cli.test_header", name=promo.name, id=promo.id))
    for where, kind, what in preview:
        print(f"\n[{where}] {kind}")
        if isinstance(what, RenderedRequest):
            print(f"  {what.method} {what.url}")
            for name, value in what.headers.items():
                print(f"  {name}: {value}")
            if what.body:
                print("  " + what.body.decode("utf-8", errors="replace"))
        elif isinstance(what, list):
            for step in what:
                print(f"  [ ] {step}")
        else:
            for line in str(what).splitlines() or [""]:
                print(f"  {line}")
    return 0


# -- promo activate / deactivate ---------------------------------------------------------------
def run_activate(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    t = Catalog(ctx.lang)
    try:
        service.activate(args.id, reason=args.reason, skip_grace=args.now)
    except TransitionError as exc:
        raise _refuse(exc, t) from None
    return _follow(ctx, service, t)


def run_deactivate(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    t = Catalog(ctx.lang)
    try:
        service.deactivate(skip_grace=args.now)
    except TransitionError as exc:
        raise _refuse(exc, t) from None
    return _follow(ctx, service, t)


def _follow(ctx: Context, service: PlanBService, t: Catalog) -> int:
    """Run the countdown and the outbox here, printing each attempt; Ctrl-C in a countdown
    cancels it. When a control room holds the outbox, leave the sending to it."""
    view = service.view()
    name = view.promotion_name
    # print what changes from here on, not what earlier runs already did
    shown = {(a.index, a.step): (a.status, a.attempts) for a in view.actions}

    def progress() -> None:
        for a in service.view().actions:
            mark = (a.status, a.attempts)
            if a.status not in ("idle", "waiting") and shown.get((a.index, a.step)) != mark:
                shown[(a.index, a.step)] = mark
                print(t("planb.cli.attempt", label=_label(a, t), result=_status(a, t)), flush=True)

    sent_here = False

    async def run() -> None:
        nonlocal sent_here
        try:
            await service.drain(on_step=progress)
            sent_here = service.lease.held
        finally:
            await service.aclose()

    try:  # Ctrl-C from the first line on cancels a countdown
        if view.countdown_s is not None:
            which = "planb.cli.stops_in" if view.phase == "pending_off" else "planb.cli.started"
            print(t(which, name=name, seconds=view.countdown_s), flush=True)
        asyncio.run(run())
    except KeyboardInterrupt:
        now = service.view()
        if now.countdown_s is not None:
            service.cancel(by="Ctrl-C")
            kept = now.phase == "pending_off"
            print(t("planb.cli.kept" if kept else "planb.cli.cancelled", name=name))
        return 130
    except StateError as exc:
        raise CliError(str(exc)) from None
    if not sent_here:
        print(t("planb.cli.left_to_room"))
        return 0
    final = service.view()
    print(t("planb.cli.result", name=name, state=final.state))
    if any(a.status in ("retrying", "sending", "waiting") for a in final.actions):
        print(t("planb.cli.still_retrying"))
    return 1 if any(a.status == "failed" for a in final.actions) else 0


def _label(a: ActionView, t: Catalog) -> str:
    return f"{a.index + 1}. " + (f"{t('planb.undo')}: " if a.step == "undo" else "") + a.label


def _status(a: ActionView, t: Catalog) -> str:
    if a.status == "retrying":
        return t("planb.status_retrying", seconds=a.retry_in_s or 0, reason=a.error)
    if a.status == "failed":
        return t("planb.status_failed", reason=a.error)
    return t(f"planb.status_{a.status}")


# -- log ---------------------------------------------------------------------------------------
def run_log(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    entries = service.log(args.limit)
    zone = service.zone
    if args.json:
        out = [
            {
                "at": datetime.fromisoformat(e["at"]).astimezone(zone).isoformat(),
                "actor": e.get("actor", ""),
                "kind": e.get("kind", ""),
                "detail": e.get("detail", {}),
            }
            for e in entries
        ]
        print(json.dumps(out, ensure_ascii=False))
        return 0
    t = Catalog(ctx.lang)
    if not entries:
        print(t("planb.cli.no_log"))
        return 0
    for e in entries:
        at = datetime.fromisoformat(e["at"])
        day = at.astimezone(zone).date().isoformat()
        clock = format_clock(at, zone, seconds=True)
        print(f"{day} {clock}  {e.get('actor', '')}  {describe_entry(e, t)}")
    return 0
