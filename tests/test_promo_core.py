"""The pure Plan B switch: transitions, retry decisions, templating, signatures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from liveguard.core.config import Action, MissingEnvError, Promotion
from liveguard.core.promotion import (
    MAX_ATTEMPTS,
    RETRY_DELAYS_S,
    OutboxEntry,
    Switch,
    TemplateValues,
    TransitionError,
    arm,
    cancel,
    decide,
    entries_for,
    expire,
    parse_retry_after,
    press,
    public_state,
    render_text,
    render_webhook,
    settle,
)
from liveguard.core.webhook_signing import sign, verify

NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
HOOK = Action("webhook", url="http://127.0.0.1/x", undo=Action("webhook", url="http://127.0.0.1/y"))
PROMO = Promotion(
    "plan-b",
    "Plan B",
    armed=True,
    channel="tiktok",
    actions=(HOOK, Action("link", url="https://a.example")),
)
VALUES = TemplateValues("plan-b", "TikTok down", "tiktok", "2026-11-28T21:00:00+07:00", "A1")


def test_press_counts_down_then_activates_and_cancel_sends_nothing() -> None:
    idle = Switch(promotion="plan-b")
    pending = press(idle, PROMO, NOW, token="t1", actor="ani", reason="down")
    assert pending.phase == "pending" and pending.due == NOW + timedelta(seconds=5)
    assert public_state(pending, "plan-b") == "pending"
    assert expire(pending, NOW + timedelta(seconds=4)) == pending
    active = expire(pending, NOW + timedelta(seconds=5))
    assert active.phase == "activating" and active.activated_at == NOW + timedelta(seconds=5)
    # the same key during the countdown cancels it
    assert press(pending, PROMO, NOW, token="t2", actor="ani").phase == "idle"
    assert cancel(pending, NOW).phase == "idle"
    with pytest.raises(TransitionError):
        cancel(idle, NOW)


def test_grace_zero_activates_at_once_and_key_again_deactivates_with_grace() -> None:
    quick = Promotion("q", "Q", grace=timedelta(0), actions=PROMO.actions)
    sw = press(Switch(promotion="q"), quick, NOW, token="t", actor="ani")
    assert sw.phase == "activating" and sw.activation_id.endswith("-t")
    entries = entries_for(quick, sw.activation_id, "do")
    assert settle(sw, entries, NOW) == sw  # nothing settled yet
    done = [e.__class__(**{**e.__dict__, "status": "delivered"}) for e in entries]
    active = settle(sw, done, NOW)
    assert active.phase == "active"
    off = press(active, PROMO, NOW, token="x", actor="budi")
    assert off.phase == "pending_off" and public_state(off, "plan-b") == "inactive"
    assert public_state(off, "q") == "pending"
    assert cancel(off, NOW).phase == "activating"
    deactivating = expire(off, NOW + timedelta(seconds=5))
    assert deactivating.phase == "deactivating"
    undo = entries_for(quick, sw.activation_id, "undo")
    assert [e.index for e in undo] == [0]  # only the webhook has an undo
    assert settle(deactivating, done + undo, NOW).phase == "deactivating"
    settled = [e.__class__(**{**e.__dict__, "status": "failed"}) for e in undo]
    assert settle(deactivating, done + settled, NOW).phase == "idle"
    with pytest.raises(TransitionError):
        press(deactivating, PROMO, NOW, token="y", actor="ani")


def test_cancel_and_arm_keep_only_what_the_next_state_needs() -> None:
    later = NOW + timedelta(seconds=3)
    pending = press(Switch(promotion="plan-b"), PROMO, NOW, token="t", actor="ani", reason="x")
    assert pending.countdown(NOW) == 5.0 and pending.countdown(later) == 2.0
    assert pending.countdown(NOW + timedelta(minutes=1)) == 0.0
    # a cancelled countdown forgets the activation: back to armed, by whoever pressed
    assert cancel(pending, later) == Switch(promotion="plan-b", since=later, actor="ani")
    active = Switch("plan-b", "active", "A1", "TikTok down", "tiktok", "ani", NOW, None, NOW)
    stopping = press(active, PROMO, NOW, token="t", actor="budi")
    assert (stopping.phase, stopping.due, stopping.actor) == (
        "pending_off",
        NOW + PROMO.grace,
        "budi",
    )
    assert stopping.countdown(NOW) == 5.0 and active.countdown(NOW) is None
    kept = cancel(stopping, later)  # keep Plan B running: the activation stays whole
    assert kept == Switch(
        "plan-b", "activating", "A1", "TikTok down", "tiktok", "budi", later, None, NOW
    )
    with pytest.raises(TransitionError) as nothing:
        cancel(active, later)
    assert nothing.value.key == "planb.error.nothing_to_cancel"
    assert arm(Switch(promotion="plan-b"), "wa-only", later, "ani") == Switch(
        promotion="wa-only", since=later, actor="ani"
    )
    with pytest.raises(TransitionError) as busy:
        arm(active, "wa-only", later, "ani")
    assert (busy.value.key, busy.value.params) == ("planb.error.arm_busy", {"promotion": "plan-b"})


def test_switch_round_trips_through_json() -> None:
    sw = press(Switch(promotion="plan-b"), PROMO, NOW, token="t", actor="ani", reason="r")
    assert Switch.from_dict(json.loads(json.dumps(sw.to_dict()))) == sw
    entry = OutboxEntry("A1", "plan-b", 0, "undo", "webhook", "retrying", 2, NOW, 503, "HTTP 503")
    assert OutboxEntry.from_dict(json.loads(json.dumps(entry.to_dict()))) == entry
    assert entry.key == "lg-A1-0-undo"


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (200, "", "delivered"),
        (204, "", "delivered"),
        (None, "could not connect", "retrying"),
        (None, "timed out after 10 s", "retrying"),
        (408, "", "retrying"),
        (429, "", "retrying"),
        (500, "", "retrying"),
        (503, "", "retrying"),
        (400, "", "failed"),
        (401, "", "failed"),
        (404, "", "failed"),
        (301, "", "failed"),
    ],
)
def test_decide_retries_only_what_may_pass_later(
    status: int | None, error: str, expected: str
) -> None:
    assert decide(1, http_status=status, error=error).status == expected


def test_retry_delays_grow_with_bounded_jitter_and_give_up() -> None:
    delays = [decide(n, http_status=500, jitter=0.5).delay_s for n in range(1, MAX_ATTEMPTS)]
    # the schedule the README promises, written out (not the constant compared with itself)
    assert delays == [1, 2, 5, 10, 30, 60, 120, 300]
    assert MAX_ATTEMPTS == 9 and RETRY_DELAYS_S == (1, 2, 5, 10, 30, 60, 120, 300)
    low = decide(1, http_status=500, jitter=0.0).delay_s
    high = decide(1, http_status=500, jitter=0.999).delay_s
    assert 0.75 <= low < high < 1.25
    last = decide(MAX_ATTEMPTS, http_status=500)
    assert last.status == "failed" and "gave up" in last.reason


def test_retry_after_is_honoured_but_bounded() -> None:
    assert decide(1, http_status=429, retry_after_s=30, jitter=0.5).delay_s == 30
    assert decide(1, http_status=429, retry_after_s=0, jitter=0.5).delay_s == 1
    assert decide(1, http_status=503, retry_after_s=99_999).delay_s == 600
    assert parse_retry_after("7", NOW) == 7
    assert parse_retry_after("Sat, 28 Nov 2026 14:00:30 GMT", NOW) == 30
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_templating_fills_in_one_pass_so_reason_cannot_read_secrets() -> None:
    env = {"HOOK_TOKEN": "s3cret"}
    sneaky = TemplateValues("plan-b", "${HOOK_TOKEN}", "tiktok", "t", "A1")
    assert render_text("why={reason}", sneaky, env) == "why=${HOOK_TOKEN}"
    assert render_text("Bearer ${HOOK_TOKEN}", VALUES, env) == "Bearer s3cret"
    assert render_text("Bearer ${HOOK_TOKEN}", VALUES, env, mask=True) == "Bearer •••"
    assert render_text("/x?r={reason}", VALUES, env, in_url=True) == "/x?r=TikTok%20down"
    assert render_text('{"json": {reason}}', VALUES, env) == '{"json": TikTok down}'
    with pytest.raises(MissingEnvError):
        render_text("${NOPE}", VALUES, env)


def test_webhook_request_is_templated_keyed_and_signed() -> None:
    action = Action(
        "webhook",
        url="http://127.0.0.1/start/{promotion}",
        headers={"Authorization": "Bearer ${HOOK_TOKEN}", "X-Why": "{reason}"},
        body={"reason": "{reason}", "id": "{activation_id}", "n": 3, "tags": ["{channel}"]},
        secret="${HOOK_SECRET}",
    )
    env = {"HOOK_TOKEN": "tok", "HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    req = render_webhook(action, VALUES, env, key="lg-A1-0-do", timestamp=1_800_000_000)
    assert req.url == "http://127.0.0.1/start/plan-b"
    assert req.headers["Authorization"] == "Bearer tok"
    assert req.headers["X-Why"] == "TikTok down"
    assert req.headers["Idempotency-Key"] == "lg-A1-0-do"
    assert json.loads(req.body) == {"reason": "TikTok down", "id": "A1", "n": 3, "tags": ["tiktok"]}
    sig = req.headers["webhook-signature"]
    assert verify(env["HOOK_SECRET"], "lg-A1-0-do", 1_800_000_000, req.body, sig, now=1_800_000_010)
    assert not verify(
        env["HOOK_SECRET"], "lg-A1-0-do", 1_800_000_000, req.body + b" ", sig, now=1_800_000_010
    )
    masked = render_webhook(action, VALUES, env, key="k", timestamp=1, mask=True)
    assert "tok" not in json.dumps(masked.headers) and "•••" in masked.headers["webhook-signature"]


def test_signature_matches_the_standard_webhooks_vector() -> None:
    got = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert got == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
    assert not verify(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", 1, b"", sign(other, "m", 1, b""), now=1
    )
    assert not verify(other, "m", 1, b"", sign(other, "m", 1, b""), now=1 + 301)
