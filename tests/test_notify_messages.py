"""What each event says, per target language: pending, sales drop, Plan B's steps, a stale
source; events a target did not ask for send nothing. No I/O: the notifier's wording only."""

from __future__ import annotations

from datetime import timedelta

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.state_home import StateHome
from liveguard.core.status import Change, ChannelStatus, Source, State
from liveguard.core.timekeeping import FixedClock
from liveguard.service.events import PlanBChanged, Publisher, SourceChanged, StatusChanged
from liveguard.service.notify import NotifyService

CONFIG = """
shop = "Toko Kue Bu Sari"
[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true
[[promotions]]
id = "plan-b"
name = "Flash sale Shopee"
armed = true
grace = "5s"
[[notify]]
id = "id-all"
kind = "ntfy"
url = "https://ntfy.sh/x"
language = "id"
events = ["down", "pending", "up", "reminder", "sales", "planb", "readiness", "watchdog"]
[[notify]]
id = "en-default"
kind = "ntfy"
url = "https://ntfy.sh/y"
language = "en"
"""


def notifier(home: StateHome, clock: FixedClock) -> NotifyService:
    config = parse_config(CONFIG, "liveguard.toml", {})
    return NotifyService(config, home, clock, Publisher(), lang="en")


def st(state: State, suggestion: str = "") -> ChannelStatus:
    return ChannelStatus(
        "tiktok", "TikTok Shop", True, state, Source.PROBE, None, "status 503", 1, None, suggestion
    )


def texts(svc: NotifyService, event: object) -> dict[str, list[str]]:
    return {t.id: [m.text for m in svc.messages_for(event, t)] for t in svc.config.notify}  # type: ignore[arg-type]


def test_pending_and_sales_only_for_targets_that_ask(home: StateHome, clock: FixedClock) -> None:
    svc = notifier(home, clock)
    pending = StatusChanged(Change(st(State.UP), st(State.PENDING)))
    assert texts(svc, pending) == {
        "id-all": [
            "LIVE TikTok Shop sedang dicek ulang sejak 21.00 WIB: status 503. Belum dinyatakan mati."
        ],
        "en-default": [],
    }
    drop = StatusChanged(
        Change(st(State.UP), st(State.UP, "2 orders in the last hour (usually 14)"))
    )
    assert texts(svc, drop)["id-all"] == [
        "Penjualan TikTok Shop turun: 2 orders in the last hour (usually 14). LIVE mungkin mati? Cek, lalu balas /planb bila perlu."
    ]
    assert texts(svc, drop)["en-default"] == []


def test_plan_b_steps_and_failures(home: StateHome, clock: FixedClock) -> None:
    svc = notifier(home, clock)

    def moved(phase: str, was: str) -> PlanBChanged:
        detail = {
            "promotion": "plan-b",
            "activation_id": "a1",
            "phase": phase,
            "from_phase": was,
            "reason": "TikTok mati",
        }
        return PlanBChanged("planb.transition", detail)

    assert texts(svc, moved("pending", "idle"))["en-default"] == [
        'Plan B "Flash sale Shopee" starts in 5 s. Reply /stop to cancel.'
    ]
    assert texts(svc, moved("activating", "pending"))["id-all"] == [
        'Plan B "Flash sale Shopee" dijalankan (TikTok mati).'
    ]
    clock.advance(timedelta(minutes=3))
    assert texts(svc, moved("active", "activating"))["en-default"] == [
        'Plan B "Flash sale Shopee" active since 21.03 WIB. Reply /stop to end it.'
    ]
    assert texts(svc, moved("idle", "deactivating"))["id-all"] == [
        'Plan B "Flash sale Shopee" berhenti pukul 21.03 WIB; siap dipakai lagi.'
    ]
    assert texts(svc, moved("pending_off", "active")) == {"id-all": [], "en-default": []}
    failed = PlanBChanged(
        "planb.attempt",
        {
            "promotion": "plan-b",
            "key": "k",
            "result": "failed",
            "label": "Voucher\x1b[31m",
            "error": "HTTP 500",
        },
    )
    (message,) = svc.messages_for(failed, svc.config.notify[1])
    assert (
        message.urgent
        and message.text
        == "Plan B action failed: Voucher[31m: HTTP 500. Open liveguard to retry, or do it by hand."
    )
    delivered = PlanBChanged(
        "planb.attempt", {"promotion": "plan-b", "key": "k", "result": "delivered"}
    )
    assert texts(svc, delivered) == {"id-all": [], "en-default": []}


def test_readiness_and_a_stale_source(home: StateHome, clock: FixedClock) -> None:
    svc = notifier(home, clock)
    bad = PlanBChanged(
        "planb.readiness", {"promotion": "plan-b", "ready": False, "problems": ["hook: HTTP 404"]}
    )
    assert texts(svc, bad)["en-default"] == [
        'Plan B "Flash sale Shopee" is not ready: hook: HTTP 404. Check with liveguard promo check.'
    ]
    stale = SourceChanged("shopee-feed", "tiktok", "stale", "no answer for 10 min")
    assert texts(svc, stale)["id-all"] == [
        "Data pesanan TikTok Shop tidak ter-update: no answer for 10 min. Angka hari ini mungkin belum lengkap."
    ]


def test_back_up_is_told_only_when_it_works_again(home: StateHome, clock: FixedClock) -> None:
    from liveguard.core.status import Outage

    svc = notifier(home, clock)
    start = clock.now()
    clock.advance(timedelta(minutes=40))
    ended = Outage("tiktok", start, clock.now(), Source.PROBE, "status 503")
    svc.on_event(StatusChanged(Change(st(State.DOWN), st(State.UNKNOWN), closed=ended)))
    assert [d.event for d in svc._queue] == [], "unknown is not back"
    clock.advance(timedelta(minutes=5))
    svc.on_event(StatusChanged(Change(st(State.UNKNOWN), st(State.UP))))
    assert [d.text for d in svc._queue if d.target == "en-default"] == [
        "TikTok Shop LIVE is back at 21.40 WIB, after 40 min down."
    ]
    svc.on_event(StatusChanged(Change(st(State.UP), st(State.UP, "x"))))
    assert len([d for d in svc._queue if d.event == "up"]) == 2, "told once per target"
