"""What Plan B looks like from outside: the view the region draws, audit lines for the log
screen and the CLI, and the impact on sales since an activation."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from liveguard.core.config import Action, Promotion
from liveguard.core.ledger import DayOrders
from liveguard.core.promotion import (
    OutboxEntry,
    Switch,
    TemplateValues,
    TransitionError,
    public_state,
    render_text,
    render_webhook,
)
from liveguard.core.timekeeping import local_day

if TYPE_CHECKING:
    from .planb import PlanBService

__all__ = [
    "ActionView",
    "ImpactRow",
    "PlanBView",
    "build_view",
    "describe_entry",
    "orders_impact",
    "preview",
]


@dataclass(frozen=True)
class ActionView:
    index: int
    step: str  # do | undo
    kind: str
    label: str
    status: str  # idle | waiting | sending | retrying | delivered | done | failed | cancelled
    attempts: int = 0
    retry_in_s: int | None = None
    error: str = ""
    detail: str = ""  # the message text, the link, or where the message was saved
    name: str = ""  # the name the seller gave the action in the config, if any


@dataclass(frozen=True)
class ImpactRow:
    channel: str
    since_activation: int  # Rupiah
    same_window_yesterday: int


@dataclass(frozen=True)
class PlanBView:
    promotion_id: str
    promotion_name: str
    state: str
    phase: str
    countdown_s: int | None
    reason: str
    channel: str
    activated_at: datetime | None
    deactivated_at: datetime | None
    activation_id: str
    actions: tuple[ActionView, ...]
    checklist: tuple[tuple[str, bool], ...]
    messages: tuple[str, ...]
    links: tuple[str, ...]
    impact: tuple[ImpactRow, ...] | None
    promotion_count: int


def build_view(service: PlanBService) -> PlanBView:
    """What the Plan B region shows, read from the state file and the config."""
    state = service.state()
    sw = service.switch(state)
    promo = service.promotion(sw)
    now = service.clock.now()
    countdown = sw.countdown(now)
    actions: list[ActionView] = []
    checklist: list[tuple[str, bool]] = []
    messages: list[str] = []
    links: list[str] = []
    if promo is not None:
        values = service.values(sw)
        mine = {
            e.key: e
            for e in state.entries
            if e.activation_id == sw.activation_id and sw.activation_id
        }
        ticks = set(state.ticks.get(sw.activation_id or "-", ()))
        for i, action in enumerate(promo.actions):
            for step, target in (("do", action), ("undo", action.undo)):
                if target is None:
                    continue
                entry = next(
                    (
                        e
                        for e in mine.values()
                        if e.step == step
                        and (e.action_id == action.id if e.action_id else e.index == i)
                    ),
                    None,
                )
                if step == "undo" and entry is None:
                    continue
                actions.append(_action_view(service, promo, i, step, target, entry, values, now))
            if action.kind == "checklist":
                base = len(checklist)
                checklist.extend((s, base + n in ticks) for n, s in enumerate(action.steps))
            elif action.kind == "message":
                messages.append(render_text(action.text, values, {}, mask=True))
            elif action.kind == "link":
                links.append(render_text(action.url, values, {}, mask=True, in_url=True))
    impact = None
    if service.impact_source is not None and sw.activated_at is not None:
        end = sw.deactivated_at or now
        rows = service.impact_source(sw.activated_at, end)
        impact = tuple(rows) if rows is not None else None
    return PlanBView(
        promotion_id=sw.promotion,
        promotion_name=promo.name if promo else "",
        state=public_state(sw, sw.promotion) if sw.promotion else "none",
        phase=sw.phase,
        countdown_s=None if countdown is None else int(-(-countdown // 1)),
        reason=sw.reason,
        channel=sw.channel,
        activated_at=sw.activated_at,
        deactivated_at=sw.deactivated_at,
        activation_id=sw.activation_id,
        actions=tuple(actions),
        checklist=tuple(checklist),
        messages=tuple(messages),
        links=tuple(links),
        impact=impact,
        promotion_count=len(service.config.promotions),
    )


def _action_view(
    service: PlanBService,
    promo: Promotion,
    index: int,
    step: str,
    action: Action,
    entry: OutboxEntry | None,
    values: TemplateValues,
    now: datetime,
) -> ActionView:
    detail = ""
    if action.kind == "message":
        detail = str(service.message_path(promo, index, action))
    elif action.kind == "link":
        detail = render_text(action.url, values, {}, mask=True, in_url=True)
    if entry is None:
        return ActionView(
            index, step, action.kind, action.label, "idle", detail=detail, name=action.name
        )
    retry_in = None
    if entry.status == "retrying" and entry.next_at is not None:
        retry_in = max(0, int(-(-(entry.next_at - now).total_seconds() // 1)))
    return ActionView(
        index,
        step,
        action.kind,
        action.label,
        entry.status,
        entry.attempts,
        retry_in,
        entry.error,
        detail,
        action.name,
    )


def describe_entry(entry: Mapping[str, Any], t: Callable[..., str]) -> str:
    """One line for an audit entry, in the seller's language (details stay as recorded)."""
    d = entry.get("detail", {})
    kind = entry.get("kind", "")
    if kind == "planb.transition" and d.get("by") == "arm":
        return t("planb.log.arm", promotion=d.get("promotion", ""), previous=d.get("previous", ""))
    if kind == "planb.transition":
        return t(
            "planb.log.transition",
            promotion=d.get("promotion", ""),
            **{"from": d.get("from", ""), "to": d.get("to", "")},
        )
    if kind == "planb.attempt":
        result = str(d.get("result", ""))
        if d.get("status"):
            result += f" (HTTP {d['status']})"
        if d.get("error") and result.split()[0] != "delivered":
            result += f": {d['error']}"
        if d.get("duration_ms"):
            result += f" · {d['duration_ms']} ms"
        return t(
            "planb.log.attempt",
            promotion=d.get("promotion", ""),
            action=d.get("action", ""),
            step=d.get("step", ""),
            attempt=d.get("attempt", ""),
            result=result,
        )
    if kind == "planb.tick":
        return t(
            "planb.log.tick",
            promotion=d.get("promotion", ""),
            step=int(d.get("step", 0)) + 1,
            ticked="✓" if d.get("ticked") else "✗",
        )
    if kind == "status.mark":
        return t(
            "planb.log.mark",
            channel=d.get("channel", ""),
            mark=d.get("mark", ""),
            reason=d.get("reason", "") or "-",
        )
    if kind == "notify.attempt":
        where = f"{d.get('target', '')}#{d['to']}" if d.get("to") else d.get("target", "")
        result = str(d.get("result", "")) + (f": {d['error']}" if d.get("error") else "")
        return t("notify.log.attempt", target=where, event=d.get("event", ""), result=result)
    if kind == "notify.command":
        return t("notify.log.command", command=d.get("command", ""), result=d.get("result", ""))
    return t("planb.log.other", kind=kind) + (f" {d}" if d else "")


def orders_impact(
    day_index: Callable[[date], DayOrders], zone: tzinfo, channels: Sequence[str]
) -> Callable[[datetime, datetime], list[ImpactRow]]:
    """Sales per channel since the activation against the same window yesterday, from the
    days' cached rows (each window is a few bisections, however busy the day)."""

    def revenue(start: datetime, end: datetime) -> dict[str, int]:
        out: dict[str, int] = {}
        day = local_day(start, zone)
        while day <= local_day(end, zone):
            for channel, value in day_index(day).revenue_between(start, end).items():
                out[channel] = out.get(channel, 0) + value
            day += timedelta(days=1)
        return out

    def impact(start: datetime, end: datetime) -> list[ImpactRow]:
        now, before = (
            revenue(start, end),
            revenue(start - timedelta(days=1), end - timedelta(days=1)),
        )
        return [ImpactRow(c, now.get(c, 0), before.get(c, 0)) for c in channels]

    return impact


def preview(
    service: PlanBService, promotion_id: str, reason: str = "test"
) -> list[tuple[str, str, Any]]:
    """What each action of a promotion would do, secrets masked; nothing is sent."""
    promo = service.config.promotion(promotion_id)
    if promo is None:
        raise TransitionError("planb.error.unknown", promotion=promotion_id)
    now = service.clock.now()
    sw = Switch(
        promotion=promo.id,
        phase="activating",
        activation_id="TEST",
        reason=reason,
        channel=promo.channel,
        activated_at=now,
    )
    values = service.values(sw)
    out: list[tuple[str, str, Any]] = []
    for i, action in enumerate(promo.actions):
        for step, target in (("do", action), ("undo", action.undo)):
            if target is None:
                continue
            where = f"{i + 1}" + (" undo" if step == "undo" else "")
            if target.kind == "webhook":
                key = f"lg-TEST-{i}-{step}"
                out.append(
                    (
                        where,
                        "webhook",
                        render_webhook(
                            target,
                            values,
                            service.environ,
                            key=key,
                            timestamp=int(now.timestamp()),
                            mask=True,
                        ),
                    )
                )
            elif target.kind == "message":
                out.append((where, "message", render_text(target.text, values, {}, mask=True)))
            elif target.kind == "link":
                out.append(
                    (where, "link", render_text(target.url, values, {}, mask=True, in_url=True))
                )
            else:
                out.append((where, "checklist", list(target.steps)))
    return out
