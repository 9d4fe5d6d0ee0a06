"""``liveguard notify list|test|setup telegram``: the phone's targets from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.notify_store import NotifyState
from liveguard.core.config import NotifyTarget
from liveguard.core.notify import Delivery
from liveguard.core.timekeeping import format_clock
from liveguard.i18n import Catalog
from liveguard.service.events import Publisher
from liveguard.service.notify import NotifyService
from liveguard.service.telegram import BotError, Conflict, TelegramApi

from .context import EXIT_USAGE, CliError, Context

TEST_WAIT_S = 60.0  # how long `notify test` waits for a control room that holds the outbox


def register(sub: Any) -> None:
    notify = sub.add_parser("notify", help="phone alerts: list, test and set up targets")
    actions = notify.add_subparsers(
        dest="notify_command", metavar="ACTION", parser_class=type(notify), required=True
    )
    listing = actions.add_parser("list", help="the notification targets and their last delivery")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_list)

    test = actions.add_parser("test", help="send a test message to one or every target")
    test.add_argument("target", nargs="?", metavar="TARGET", help="target id (default: every)")
    test.set_defaults(func=run_test)

    setup = actions.add_parser("setup", help="check a bot token and find the chat ids")
    setup.add_argument("kind", choices=["telegram"], help="what to set up")
    setup.add_argument("--target", metavar="ID", help="the telegram target whose token to use")
    setup.add_argument(
        "--token-env", metavar="NAME", help="read the bot token from this environment variable"
    )
    setup.add_argument(
        "--wait", type=int, default=120, metavar="SECONDS", help="how long to wait for messages"
    )
    setup.set_defaults(func=run_setup)


def _service(ctx: Context) -> NotifyService:
    return NotifyService(ctx.config(), ctx.state(), ctx.clock, Publisher(), lang=ctx.lang)


def _last_json(d: Delivery | None, service: NotifyService) -> dict[str, Any] | None:
    if d is None:
        return None
    at = d.sent_at or d.created_at
    return {
        "at": at.astimezone(service.zone).isoformat(),
        "event": d.event,
        "status": d.status,
        "attempts": d.attempts,
        "error": d.error,
    }


def _takes_commands(ctx: Context, target_id: str) -> bool:
    target = ctx.config().target(target_id)
    return bool(target and target.commands)


def run_list(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    views = service.targets()
    if args.json:
        out = [
            {
                "id": v.id,
                "kind": v.kind,
                "where": v.where,
                "events": list(v.events),
                "commands": _takes_commands(ctx, v.id),
                "last": _last_json(v.last, service),
            }
            for v in views
        ]
        print(json.dumps(out, ensure_ascii=False))
        return 0
    t = Catalog(ctx.lang)
    if not views:
        print(t("notify.cli.none", path=ctx.paths.config))
        return 0
    for v in views:
        if v.last is None:
            last = t("notify.cli.never")
        else:
            at = v.last.sent_at or v.last.created_at
            status = t(f"notify.room.status_{v.last.status}")
            last = t("notify.cli.last", status=status, when=format_clock(at, service.zone))
            if v.last.error:
                last += f": {v.last.error}"
        print(f"{v.id:<16} {v.kind:<9} {v.where:<32} {last}")
    return 0


def run_test(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    t = Catalog(ctx.lang)
    config = ctx.config()
    if args.target and config.target(args.target) is None:
        known = ", ".join(x.id for x in config.notify) or "-"
        raise CliError(t("notify.cli.unknown_target", target=args.target, known=known), EXIT_USAGE)
    if not config.notify:
        print(t("notify.cli.none", path=ctx.paths.config))
        return 1
    finals = asyncio.run(_send_tests(service, [args.target] if args.target else None))
    failed = 0
    for d in finals:
        name = f"{d.target} ({d.to})" if d.to else d.target
        if d.status == "delivered":
            detail = f"{d.http_status}" if d.http_status else "ok"
            print(t("notify.cli.test_sent", target=name, detail=detail))
        else:
            failed += 1
            error = d.error or t(f"notify.room.status_{d.status}")
            print(t("notify.cli.test_failed", target=name, error=error))
    return 1 if failed else 0


async def _send_tests(service: NotifyService, targets: list[str] | None) -> list[Delivery]:
    queued = service.test(targets)
    keys = {d.key for d in queued}
    try:
        await service.drain(timeout_s=TEST_WAIT_S)
        # a control room holding the outbox sends them instead: wait for its answers
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TEST_WAIT_S
        while True:
            state = await asyncio.to_thread(service.store.load)
            found = [d for d in state.deliveries if d.key in keys]
            if all(d.settled or d.status == "retrying" for d in found) or loop.time() > deadline:
                break
            await asyncio.sleep(0.2)
        # a test is answered now or not at all: none is retried later behind the seller's back
        await asyncio.to_thread(service.store.update, _drop_unsettled(keys))
        return found
    finally:
        await service.aclose()


def _drop_unsettled(keys: set[str]) -> Callable[[NotifyState], NotifyState]:
    def change(state: NotifyState) -> NotifyState:
        for d in state.deliveries:
            if d.key in keys and not d.settled and d.status != "sending":
                state = state.with_delivery(replace(d, status="dropped"))
        return state

    return change


def run_setup(ctx: Context, args: argparse.Namespace) -> int:
    t = Catalog(ctx.lang)
    target = _setup_target(ctx, args, t)
    return asyncio.run(_setup(target, args.wait, t))


def _setup_target(ctx: Context, args: argparse.Namespace, t: Catalog) -> NotifyTarget:
    if args.token_env:
        if not os.environ.get(args.token_env):
            raise CliError(t("notify.cli.setup_no_env", name=args.token_env), EXIT_USAGE)
        api = "https://api.telegram.org"
        found = next((x for x in _targets(ctx) if x.kind == "telegram"), None)
        if found is not None:
            api = found.api
        return NotifyTarget("setup", "telegram", token=f"${{{args.token_env}}}", api=api)
    telegrams = [x for x in ctx.config().notify if x.kind == "telegram"]
    if args.target:
        telegrams = [x for x in telegrams if x.id == args.target]
    if not telegrams:
        raise CliError(t("notify.cli.setup_no_target"), EXIT_USAGE)
    return telegrams[0]


def _targets(ctx: Context) -> tuple[NotifyTarget, ...]:
    try:
        return ctx.config().notify
    except CliError:
        return ()


async def _setup(target: NotifyTarget, wait_s: int, t: Catalog) -> int:
    pool = HttpPool(2)
    try:
        api = TelegramApi(pool, target, os.environ)
        try:
            me = await api.get_me()
        except BotError as exc:
            raise CliError(t("notify.cli.setup_bad_token", error=str(exc))) from None
        print(
            t(
                "notify.cli.setup_bot",
                username=me.get("username", "?"),
                name=me.get("first_name", ""),
            )
        )
        print(t("notify.cli.setup_waiting", seconds=wait_s), flush=True)
        chats: dict[str, str] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while loop.time() < deadline and not chats:
            left = max(1, min(25, int(deadline - loop.time())))
            try:
                # no offset: the updates stay with Telegram for the control room's poller
                updates = await api.updates(0, left)
            except Conflict:
                raise CliError(t("notify.cli.setup_busy")) from None
            except BotError as exc:
                raise CliError(str(exc)) from None
            for update in updates:
                if update.chat_id:
                    chats.setdefault(update.chat_id, update.user)
        if not chats:
            print(t("notify.cli.setup_none"))
            return 1
        for chat_id, who in chats.items():
            print(t("notify.cli.setup_chat", chat_id=chat_id, who=who))
        print(t("notify.cli.setup_paste", chats=", ".join(f'"{c}"' for c in chats)))
        return 0
    finally:
        await pool.aclose()
