"""Plan B readiness: will the armed promotion work when it is needed? Checked calmly, before
the outage, without firing anything (and with ``send_test``, a fire drill to ``test_url``s).

Used by the room (its Plan B region, every 30 minutes and on demand), ``doctor``,
``status --json`` and ``liveguard promo check``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.reachability import reach
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Config, MissingEnvError, Promotion, resolve_env
from liveguard.core.promotion import TemplateValues, render_webhook
from liveguard.core.readiness import Problem, Readiness, static_problems, targets
from liveguard.core.text import clean_line
from liveguard.core.timekeeping import Clock
from liveguard.i18n import Catalog

__all__ = ["CHECK_EVERY_S", "ReadinessService", "as_json", "describe"]

CHECK_EVERY_S = 30 * 60
TIMEOUT_S = 5.0


def describe(problem: Problem, t: Catalog) -> str:
    """One problem in the seller's language, with the action it concerns."""
    text = t(f"readiness.problem.{problem.key}", **problem.values)
    return t("readiness.in_action", n=problem.action, text=text) if problem.action else text


class ReadinessService:
    def __init__(
        self,
        config: Config,
        clock: Clock,
        environ: Mapping[str, str],
        *,
        verify: bool | str = True,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.config = config
        self.clock = clock
        self.environ = environ
        self.verify = verify
        self.timeout_s = timeout_s
        self.last: Readiness | None = None

    def _values(self, promotion: Promotion) -> TemplateValues:
        now = self.clock.now().isoformat(timespec="seconds")
        return TemplateValues(promotion.id, "readiness check", promotion.channel, now, "CHECK")

    async def check(self, promotion_id: str | None = None, *, links: bool = False) -> Readiness:
        """Check one promotion (default: the armed one) and remember the result."""
        promotion = (
            self.config.promotion(promotion_id) if promotion_id else self.config.armed_promotion
        )
        now = self.clock.now()
        if promotion is None:
            return Readiness(promotion_id or "", (Problem("none_armed"),), now)
        problems = static_problems(promotion, self.environ, self._values(promotion))
        missing = {p.action for p in problems if p.key == "missing_env"}
        places = [(n, url) for n, url in targets(promotion) if n not in missing]
        if links:
            places += [
                (n, a.url)
                for n, a in enumerate(promotion.actions, start=1)
                if a.kind == "link" and n not in missing
            ]
        found = await asyncio.gather(*(self._reach(n, url) for n, url in places))
        problems += [p for p in found if p is not None]
        result = Readiness(promotion.id, tuple(problems), now)
        self.last = result
        return result

    async def _reach(self, n: int, url: str) -> Problem | None:
        try:
            resolved = resolve_env(url, self.environ)
        except MissingEnvError:
            return None  # said by the static check
        why = await reach(resolved, self.timeout_s, verify=self.verify)
        if why is None:
            return None
        return Problem("unreachable", n, {"why": clean_line(why)})

    async def send_tests(
        self, promotion_id: str | None, home: StateHome, pool: HttpPool
    ) -> list[tuple[int, str]]:
        """The fire drill: every webhook with a ``test_url`` gets its request, signed as usual
        and marked as a test; each result is audited as a test. Returns (action, result)."""
        promotion = (
            self.config.promotion(promotion_id) if promotion_id else self.config.armed_promotion
        )
        if promotion is None:
            return []
        audit = AuditLog(home)
        out: list[tuple[int, str]] = []
        stamp = int(self.clock.now().timestamp())
        for n, action in enumerate(promotion.actions, start=1):
            if action.kind != "webhook" or not action.test_url:
                continue
            key = f"lg-test-{self.clock.now():%Y%m%dT%H%M%S}-{n - 1}-do"
            drill = replace(action, url=action.test_url)
            try:
                request = render_webhook(
                    drill, self._values(promotion), self.environ, key=key, timestamp=stamp
                )
            except MissingEnvError as exc:
                out.append((n, f"missing ${{{exc.name}}}"))
                continue
            headers = {**request.headers, "X-Liveguard-Test": "1"}
            try:
                reply = await pool.request(
                    request.method, request.url, deadline=self.timeout_s, headers=headers,
                    content=request.body,
                )  # fmt: skip
                result = f"HTTP {reply.status}"
                ok = 200 <= reply.status < 300
            except Exception as exc:  # a drill reports what happened; it never raises
                result, ok = clean_line(f"{type(exc).__name__}: {exc}"), False
            out.append((n, result))
            audit.record(
                "planb.test",
                {"promotion": promotion.id, "action": n, "ok": ok, "result": result, "key": key},
                at=self.clock.now(),
            )
        return out


def as_json(readiness: Readiness | None, t: Catalog, state: str) -> dict[str, object]:
    """The ``planb`` object of ``status --json``."""
    if readiness is None:
        return {"id": None, "state": state, "ready": False, "problems": [], "checked_at": None}
    checked: datetime = readiness.checked_at
    return {
        "id": readiness.promotion or None,
        "state": state,
        "ready": readiness.ready,
        "problems": [describe(p, t) for p in readiness.problems],
        "checked_at": checked.isoformat(timespec="seconds"),
    }
