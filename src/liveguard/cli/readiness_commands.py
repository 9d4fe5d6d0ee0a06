"""``liveguard promo check [ID] [--json] [--links] [--send-test]``: will Plan B work?"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

from liveguard.adapters.http_pool import HttpPool
from liveguard.core.readiness import Readiness
from liveguard.core.timekeeping import format_clock, load_zone
from liveguard.i18n import Catalog
from liveguard.service.readiness import ReadinessService, as_json, describe

from .context import CliError, Context

EXIT_NOT_READY = 1


def register(actions: Any) -> None:
    check = actions.add_parser(
        "check", help="is Plan B ready? checks without firing anything (exit 0 ready, 1 not)"
    )
    check.add_argument("id", nargs="?", metavar="ID", help="promotion id (default: armed)")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.add_argument("--links", action="store_true", help="also check that links answer")
    check.add_argument(
        "--send-test",
        action="store_true",
        help="fire drill: send each webhook that has a test_url its request, marked as a test",
    )
    check.set_defaults(func=run_check)


def readiness_service(ctx: Context) -> ReadinessService:
    return ReadinessService(ctx.config(), ctx.clock, os.environ)


def run_check(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config()
    if args.id and config.promotion(args.id) is None:
        raise CliError(f"{ctx.paths.config}: no promotion {args.id!r}", 64)
    service = readiness_service(ctx)
    t = Catalog(ctx.lang)

    async def run() -> tuple[Readiness, list[tuple[int, str]]]:
        result = await service.check(args.id, links=args.links)
        if not args.send_test:
            return result, []
        pool = HttpPool(8, use_env_proxy=config.network.use_env_proxy)
        try:
            return result, await service.send_tests(args.id, ctx.state(), pool)
        finally:
            await pool.aclose()

    result, tests = asyncio.run(run())
    promotion = config.promotion(result.promotion)
    if args.json:
        out: dict[str, Any] = as_json(result, t, "armed" if promotion and promotion.armed else "")
        if args.send_test:
            out["tests"] = [{"action": n, "result": r} for n, r in tests]
        print(json.dumps(out, ensure_ascii=False))
    else:
        state = t("readiness.ready" if result.ready else "readiness.not_ready")
        name = promotion.name if promotion else result.promotion
        clock = format_clock(result.checked_at, load_zone(config.timezone))
        print(t("readiness.cli_header", name=name, id=result.promotion, state=state, clock=clock))
        for problem in result.problems:
            print(t("readiness.cli_problem", text=describe(problem, t)))
        if args.send_test:
            if not tests:
                print(t("readiness.cli_no_tests"))
            for n, r in tests:
                print(t("readiness.cli_test", n=n, result=r))
    return 0 if result.ready else EXIT_NOT_READY
