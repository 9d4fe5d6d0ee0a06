"""Phone messages through the durable outbox, against real loopback servers: the Bot API
(with 429 + retry_after), an ntfy-style endpoint, a WhatsApp-gateway receiver (Fonnte-style
POST form, CallMeBot-style GET) and a real SMTP server (aiosmtpd, STARTTLS + AUTH)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.notify_store import NotifyStore
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Config
from liveguard.core.status import Change, ChannelStatus, Outage, Source, State
from liveguard.core.timekeeping import FixedClock
from liveguard.demo.phone import BotApi
from liveguard.service.events import Notice, PlanBChanged, Publisher, StatusChanged
from liveguard.service.notify import NotifyService

from .phone_servers import running_bot, smtp_server
from .servers import LoopbackServer, SelfSignedTls, hang, reply, self_signed_tls

TOKEN = "123456:SECRET-bot-token"
TOPIC = "kue-sari-8f3a1c"
GATEWAY = "fonnte-device-secret"
ENV = {"TG": TOKEN, "TOPIC": TOPIC, "GW": GATEWAY, "SMTP_PW": "smtp-secret-pw"}
SECRETS = (TOKEN, TOPIC, GATEWAY, "smtp-secret-pw")


def config_for(targets: str) -> Config:
    text = (
        'shop = "Toko Kue Bu Sari"\n[[channels]]\nid = "tiktok"\nname = "TikTok Shop"\nlive = true\n'
        '[[channels]]\nid = "wa"\nname = "WhatsApp"\n\n' + targets
    )
    return parse_config(text, "liveguard.toml", ENV)


def telegram(api: str, chats: str = '["111", "222"]', extra: str = "") -> str:
    return (
        f'[[notify]]\nid = "owner"\nkind = "telegram"\ntoken = "${{TG}}"\nchats = {chats}\n'
        f'api = "{api}"\nlanguage = "id"\n{extra}\n'
    )


def status(
    channel: str, state: State, *, live: bool = True, since=None, suggestion: str = ""
) -> ChannelStatus:  # type: ignore[no-untyped-def]
    name = {"tiktok": "TikTok Shop", "wa": "WhatsApp"}[channel]
    return ChannelStatus(
        channel,
        name,
        live,
        state,
        Source.PROBE,
        since,
        "status 503 (expected 200)",
        120,
        None,
        suggestion,
    )


def down_change(clock: FixedClock, channel: str = "tiktok", live: bool = True) -> StatusChanged:
    now = clock.now()
    outage = Outage(channel, now, None, Source.PROBE, "status 503")
    return StatusChanged(
        Change(
            status(channel, State.UP, live=live, since=now),
            status(channel, State.DOWN, live=live, since=now),
            opened=outage,
        )
    )


def up_change(clock: FixedClock, start, channel: str = "tiktok") -> StatusChanged:  # type: ignore[no-untyped-def]
    now = clock.now()
    closed = Outage(channel, start, now, Source.PROBE, "status 503")
    return StatusChanged(
        Change(
            status(channel, State.DOWN, since=start),
            status(channel, State.UP, since=now),
            closed=closed,
        )
    )


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SelfSignedTls:
    """A certificate for 127.0.0.1 that the SMTP client trusts (SSL_CERT_FILE)."""
    made = self_signed_tls(tmp_path / "tls")
    if made is None:
        pytest.skip("openssl is not installed")
    monkeypatch.setenv("SSL_CERT_FILE", str(made.cert))
    return made


@pytest.fixture
def bot() -> Iterator[BotApi]:
    with running_bot(token=TOKEN) as api:
        yield api


def service(
    config: Config, home: StateHome, clock: FixedClock, **kwargs
) -> tuple[NotifyService, Publisher]:  # type: ignore[no-untyped-def]
    events = Publisher()
    svc = NotifyService(
        config, home, clock, events, lang="en", environ=ENV, jitter=lambda: 0.0, **kwargs
    )
    svc.attach()
    return svc, events


async def test_down_reaches_every_chat_once_in_the_targets_language(
    home: StateHome, clock: FixedClock, bot: BotApi
) -> None:
    svc, events = service(config_for(telegram(bot.url())), home, clock)
    event = down_change(clock)
    events.publish(event)
    events.publish(event)  # the same fact twice: one message per chat
    await svc.drain()
    assert sorted(m.chat_id for m in bot.sent) == ["111", "222"]
    text = bot.texts("111")[0]
    assert (
        text
        == "LIVE TikTok Shop MATI sejak 21.00 WIB: status 503 (expected 200). Balas /planb untuk menjalankan Plan B."
    )
    # a new publisher (a restart) with the same fact sends nothing again
    svc2, events2 = service(config_for(telegram(bot.url())), home, clock)
    await svc2.start()
    events2.publish(event)
    await svc2.drain()
    assert len(bot.sent) == 2
    attempts = [e for e in AuditLog(home).entries() if e["kind"] == "notify.attempt"]
    assert [(a["detail"]["to"], a["detail"]["result"], a["actor"]) for a in attempts] == [
        ("111", "delivered", "liveguard"),
        ("222", "delivered", "liveguard"),
    ]
    await svc.aclose()
    await svc2.aclose()


async def test_up_says_how_long_it_was_down(
    home: StateHome, clock: FixedClock, bot: BotApi
) -> None:
    svc, events = service(
        config_for(telegram(bot.url(), '["111"]').replace('language = "id"', 'language = "en"')),
        home,
        clock,
    )
    start = clock.now()
    clock.advance(timedelta(minutes=95))
    events.publish(up_change(clock, start))
    await svc.drain()
    assert bot.texts() == ["TikTok Shop LIVE is back at 22.35 WIB, after 1 h 35 min down."]
    await svc.aclose()


async def test_429_retry_after_is_honoured_and_each_attempt_is_audited(
    home: StateHome, clock: FixedClock, bot: BotApi
) -> None:
    bot.rate_limit(1, retry_after=7)
    svc, events = service(config_for(telegram(bot.url(), '["111"]')), home, clock)
    events.publish(down_change(clock))
    await svc.drain()
    assert bot.sent == []
    waiting = NotifyStore(home).load().deliveries[0]
    assert waiting.status == "retrying" and waiting.http_status == 429
    assert waiting.next_at is not None and waiting.next_at >= clock.now() + timedelta(seconds=7)
    clock.advance(timedelta(seconds=6))
    await svc.drain()
    assert bot.sent == [], "not before the server's retry_after"
    clock.advance(timedelta(seconds=2))
    await svc.drain()
    assert len(bot.sent) == 1, NotifyStore(home).load().deliveries
    results = [
        e["detail"]["result"] for e in AuditLog(home).entries() if e["kind"] == "notify.attempt"
    ]
    assert results == ["retrying", "delivered"]
    await svc.aclose()


async def test_a_telegram_refusal_fails_at_once_with_the_reason_and_no_token(
    home: StateHome, clock: FixedClock
) -> None:
    with running_bot(token=TOKEN, known_chats={"111"}) as api:
        svc, events = service(config_for(telegram(api.url(), '["999"]')), home, clock)
        notices: list[Notice] = []
        events.subscribe(lambda e: notices.append(e) if isinstance(e, Notice) else None)
        events.publish(down_change(clock))
        await svc.drain()
        failed = NotifyStore(home).load().deliveries[0]
        assert failed.status == "failed" and failed.error == "HTTP 400: Bad Request: chat not found"
        assert [n.severity for n in notices] == ["warning", "error"]
        await svc.aclose()


async def test_ntfy_gets_title_priority_5_and_tags_and_the_topic_stays_secret(
    home: StateHome, clock: FixedClock
) -> None:
    with LoopbackServer() as ntfy:
        ntfy.route(f"/{TOPIC}", reply(403, f"forbidden topic {TOPIC}"))
        cfg = config_for(
            f'[[notify]]\nid = "staff"\nkind = "ntfy"\nurl = "{ntfy.url("/${TOPIC}")}"\ntags = ["shop"]\n'
        )
        svc, events = service(cfg, home, clock)
        events.publish(down_change(clock))
        await svc.drain()
        failed = NotifyStore(home).load().deliveries[0]
        assert failed.status == "failed" and failed.error == "HTTP 403: forbidden topic •••"
        ntfy.route(f"/{TOPIC}", reply(200, json={"id": "x"}))
        clock.advance(timedelta(hours=1))
        events.publish(down_change(clock))
        await svc.drain()
        sent = ntfy.requests[-1]
        assert sent.method == "POST" and sent.headers["priority"] == "5"
        assert sent.headers["title"] == "TikTok Shop LIVE is DOWN"
        assert sent.headers["tags"] == "shop,rotating_light"
        assert sent.body.decode().startswith("TikTok Shop LIVE DOWN since 22.00 WIB")
        await svc.aclose()
    for text in (json.dumps(AuditLog(home).entries()), (home.dir / "notify.json").read_text()):
        assert TOPIC not in text


async def test_whatsapp_gateways_fonnte_form_post_and_callmebot_get(
    home: StateHome, clock: FixedClock
) -> None:
    with LoopbackServer() as gw:
        gw.route("/send", reply(200, json={"status": True}))
        gw.route("/whatsapp.php", reply(200, "Message queued"))
        cfg = config_for(
            f'[[notify]]\nid = "fonnte"\nkind = "webhook"\nurl = "{gw.url("/send")}"\n'
            'headers = { Authorization = "${GW}" }\nform = { target = "08123456789", message = "{title}: {text}" }\n'
            f'[[notify]]\nid = "callmebot"\nkind = "webhook"\nmethod = "GET"\n'
            f'url = "{gw.url("/whatsapp.php")}?phone=628123&text={{text}}&apikey=${{GW}}"\n'
        )
        svc, events = service(cfg, home, clock)
        events.publish(down_change(clock))
        await svc.drain()
        post = next(r for r in gw.requests if r.path == "/send")
        form = parse_qs(post.body.decode())
        assert post.headers["authorization"] == GATEWAY
        assert form["target"] == ["08123456789"]
        assert form["message"][0].startswith(
            "TikTok Shop LIVE is DOWN: TikTok Shop LIVE DOWN since"
        )
        get = next(r for r in gw.requests if r.path == "/whatsapp.php")
        query = parse_qs(get.query)
        assert get.method == "GET" and query["apikey"] == [GATEWAY] and query["phone"] == ["628123"]
        assert query["text"][0].endswith("Reply /planb to run Plan B.")
        assert post.headers["idempotency-key"].startswith("fonnte:down:tiktok:")
        await svc.aclose()


async def test_email_over_starttls_with_login(
    home: StateHome, clock: FixedClock, tls: SelfSignedTls
) -> None:
    with smtp_server(
        tls_context=tls.context, user="toko@example.com", password="smtp-secret-pw"
    ) as (box, port):
        cfg = config_for(
            f'[[notify]]\nid = "mail"\nkind = "email"\nhost = "127.0.0.1"\nport = {port}\n'
            'username = "toko@example.com"\npassword = "${SMTP_PW}"\nfrom = "toko@example.com"\n'
            'to = ["owner@example.com"]\nlanguage = "id"\n'
        )
        svc, events = service(cfg, home, clock)
        events.publish(down_change(clock))
        await svc.drain()
        assert NotifyStore(home).load().deliveries[0].status == "delivered"
        assert box.logins == [("toko@example.com", "smtp-secret-pw")]
        (mail,) = box.messages
        assert mail["Subject"] == "LIVE TikTok Shop MATI" and mail["To"] == "owner@example.com"
        assert "Balas /planb" in mail.get_payload(decode=True).decode()
        await svc.aclose()


async def test_email_refused_login_fails_without_showing_the_password(
    home: StateHome, clock: FixedClock, tls: SelfSignedTls
) -> None:
    with smtp_server(tls_context=tls.context, user="toko@example.com", password="other") as (
        box,
        port,
    ):
        cfg = config_for(
            f'[[notify]]\nid = "mail"\nkind = "email"\nhost = "127.0.0.1"\nport = {port}\n'
            'username = "toko@example.com"\npassword = "${SMTP_PW}"\nfrom = "toko@example.com"\nto = ["o@example.com"]\n'
        )
        svc, events = service(cfg, home, clock)
        events.publish(down_change(clock))
        await svc.drain()
        failed = NotifyStore(home).load().deliveries[0]
        assert failed.status == "failed" and failed.error.startswith("SMTP 535"), failed
        assert box.messages == []
        await svc.aclose()
    assert "smtp-secret-pw" not in (home.dir / "notify.json").read_text()
    assert "smtp-secret-pw" not in json.dumps(AuditLog(home).entries())


async def test_a_hanging_target_delays_only_itself(
    home: StateHome, clock: FixedClock, bot: BotApi
) -> None:
    with LoopbackServer() as slow:
        slow.route("/hook", hang())
        cfg = config_for(
            telegram(bot.url(), '["111"]')
            + f'[[notify]]\nid = "slow"\nkind = "webhook"\nurl = "{slow.url("/hook")}"\nbody = {{ text = "{{text}}" }}\ntimeout = "5s"\n'
        )
        svc, events = service(cfg, home, clock)
        events.publish(down_change(clock))
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(200):
            await svc.round()
            if bot.sent:
                break
            await asyncio.sleep(0.02)
        assert len(bot.sent) == 1 and loop.time() - started < 3
        assert (
            NotifyStore(home)
            .load()
            .delivery("slow:" + NotifyStore(home).load().deliveries[0].message_key)
            .status
            == "sending"
        )  # type: ignore[union-attr]
        await svc.aclose()


async def test_quiet_hours_hold_back_all_but_live_down_and_failed_planb(
    home: StateHome, clock: FixedClock, bot: BotApi
) -> None:
    # 21.00 WIB falls inside quiet hours 20.00-06.00
    svc, events = service(
        config_for(
            telegram(
                bot.url(),
                '["111"]',
                'quiet_hours = "20.00-06.00"\nevents = ["down", "up", "planb"]',
            )
        ),
        home,
        clock,
    )
    events.publish(down_change(clock, "wa", live=False))  # not a live channel: held
    events.publish(down_change(clock, "tiktok"))  # live DOWN: goes now
    events.publish(
        PlanBChanged(
            "planb.attempt",
            {
                "promotion": "plan-b",
                "key": "lg-x-0-do",
                "result": "failed",
                "label": "Flash sale",
                "error": "HTTP 500",
            },
        )
    )
    events.publish(
        PlanBChanged(
            "planb.transition",
            {
                "promotion": "plan-b",
                "activation_id": "a1",
                "phase": "activating",
                "from_phase": "pending",
                "reason": "x",
            },
        )
    )
    await svc.drain()
    assert len(bot.sent) == 2
    assert bot.texts()[0].startswith("LIVE TikTok Shop MATI")
    assert bot.texts()[1].startswith("Langkah Plan B gagal: Flash sale: HTTP 500.")
    held = [d for d in NotifyStore(home).load().deliveries if d.status == "held"]
    assert len(held) == 2 and all(
        d.next_at is not None and d.next_at.hour == 23 for d in held
    )  # 06.00 WIB
    clock.advance(timedelta(hours=8, minutes=59))  # 05.59 WIB: still quiet
    await svc.drain()
    assert len(bot.sent) == 2
    clock.advance(timedelta(minutes=1))  # 06.00 WIB: the quiet hours are over
    await svc.drain()
    assert len(bot.sent) == 4 and bot.texts()[2].startswith("LIVE WhatsApp MATI sejak 21.00 WIB")
    await svc.aclose()


async def test_escalation_waits_and_drops_what_is_no_longer_true(
    home: StateHome, clock: FixedClock, bot: BotApi
) -> None:
    statuses = [status("tiktok", State.DOWN, since=clock.now())]
    svc, events = service(
        config_for(telegram(bot.url(), '["111"]', 'after = "10m"')),
        home,
        clock,
        statuses=lambda: statuses,
    )
    events.publish(down_change(clock))
    await svc.drain()
    assert bot.sent == []
    clock.advance(timedelta(minutes=10))
    await svc.drain()
    assert len(bot.sent) == 1, "still down after 10 minutes: sent"
    clock.advance(timedelta(hours=1))
    events.publish(down_change(clock))
    statuses[:] = [status("tiktok", State.UP, since=clock.now())]
    clock.advance(timedelta(minutes=10))
    await svc.drain()
    assert len(bot.sent) == 1, "back up before the wait was over: dropped"
    assert [d.status for d in NotifyStore(home).load().deliveries] == ["delivered", "dropped"]


async def test_reminders_every_remind_every_while_down(
    home: StateHome, clock: FixedClock, bot: BotApi
) -> None:
    since = clock.now()
    statuses = [status("tiktok", State.DOWN, since=since)]
    cfg = config_for(telegram(bot.url(), '["111"]'))
    cfg = replace(cfg, alerts=replace(cfg.alerts, remind_every=timedelta(hours=2)))
    svc, _ = service(cfg, home, clock, statuses=lambda: statuses)
    clock.advance(timedelta(hours=1))
    await svc.drain()
    assert bot.sent == []
    clock.advance(timedelta(hours=1, minutes=5))
    await svc.drain()
    await svc.drain()
    assert bot.texts() == [
        "LIVE TikTok Shop masih mati: sudah 2 j 5 mnt (sejak 21.00 WIB). Balas /planb untuk menjalankan Plan B."
    ]


async def test_a_crash_mid_send_resends_with_the_same_key_and_never_a_delivered_one(
    home: StateHome, clock: FixedClock, bot: BotApi
) -> None:
    svc, events = service(config_for(telegram(bot.url(), '["111", "222"]')), home, clock)
    events.publish(down_change(clock))
    await svc.round()  # written…
    await asyncio.gather(*list(svc._tasks))
    store = NotifyStore(home)
    # …then pretend the process died while sending to 222: its entry is left "sending"
    _first, second = store.load().deliveries
    store.update(lambda s: s.with_delivery(replace(second, status="sending", attempts=1)))
    bot.sent.clear()
    await svc.aclose()  # the dead process's lease is gone with it
    svc2, _ = service(config_for(telegram(bot.url(), '["111", "222"]')), home, clock)
    await svc2.drain()
    assert [m.chat_id for m in bot.sent] == ["222"]
    results = [
        (e["detail"]["to"], e["detail"]["result"])
        for e in AuditLog(home).entries()
        if e["kind"] == "notify.attempt"
    ]
    assert ("222", "interrupted") in results and results[-1] == ("222", "delivered")
    await svc2.aclose()


async def test_started_after_being_off_says_for_how_long_and_what_went_down(
    home: StateHome, clock: FixedClock, bot: BotApi
) -> None:
    store = NotifyStore(home)
    off_at = clock.now() - timedelta(hours=5)  # 16.00 WIB
    store.update(lambda s: replace(s, alive_at=off_at))
    outage = Outage("tiktok", clock.now() - timedelta(hours=2), None, Source.PROBE, "x")
    cfg = config_for(telegram(bot.url(), '["111"]').replace('language = "id"', 'language = "en"'))
    svc, _ = service(cfg, home, clock, outages=lambda: [outage])
    await svc.start()
    await svc.drain()
    assert bot.texts() == [
        "liveguard was off from 16.00 WIB to 21.00 WIB. TikTok Shop is still down since 19.00 WIB: reply /planb to run Plan B."
    ]
    assert store.load().alive_at == clock.now()


async def test_no_secret_in_state_audit_or_notices(home: StateHome, clock: FixedClock) -> None:
    with running_bot(token=TOKEN) as api:
        api.rate_limit(1, 1)
        svc, events = service(config_for(telegram(api.url(), '["111"]')), home, clock)
        notices: list[str] = []
        events.subscribe(lambda e: notices.append(e.text) if isinstance(e, Notice) else None)
        events.publish(down_change(clock))
        await svc.drain()
        await svc.aclose()
    blob = (
        (home.dir / "notify.json").read_text()
        + json.dumps(AuditLog(home).entries())
        + "\n".join(notices)
    )
    for secret in SECRETS:
        assert secret not in blob


async def test_a_long_message_is_delivered_once_though_the_reply_is_long(
    home: StateHome, clock: FixedClock, bot: BotApi
) -> None:
    svc, events = service(config_for(telegram(bot.url(), '["111"]')), home, clock)
    event = down_change(clock)
    long_reason = replace(event.change.after, reason="upstream said: " + "gateway timeout " * 12)
    events.publish(StatusChanged(replace(event.change, after=long_reason)))
    await svc.drain()
    (delivered,) = NotifyStore(home).load().deliveries
    assert len(delivered.text) > 200 and (delivered.status, delivered.attempts) == ("delivered", 1)
    assert len(bot.sent) == 1
    await svc.aclose()


async def test_ntfy_429_waits_what_retry_after_asks(home: StateHome, clock: FixedClock) -> None:
    with LoopbackServer() as ntfy:
        ntfy.route(f"/{TOPIC}", reply(429, "slow down", headers={"Retry-After": "30"}))
        cfg = config_for(
            f'[[notify]]\nid = "staff"\nkind = "ntfy"\nurl = "{ntfy.url("/${TOPIC}")}"\n'
        )
        svc, events = service(cfg, home, clock)
        events.publish(down_change(clock))
        await svc.drain()
        (waiting,) = NotifyStore(home).load().deliveries
        assert waiting.status == "retrying" and waiting.http_status == 429
        assert waiting.next_at is not None and waiting.next_at >= clock.now() + timedelta(
            seconds=30
        )
        await svc.aclose()


async def test_email_over_implicit_tls(
    home: StateHome, clock: FixedClock, tls: SelfSignedTls
) -> None:
    with smtp_server(implicit_tls=tls.context) as (box, port):
        cfg = config_for(
            f'[[notify]]\nid = "mail"\nkind = "email"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "ssl"\n'
            'from = "toko@example.com"\nto = ["owner@example.com", "staff@example.com"]\n'
        )
        svc, events = service(cfg, home, clock)
        events.publish(down_change(clock))
        await svc.drain()
        assert NotifyStore(home).load().deliveries[0].status == "delivered"
        assert box.envelopes == [("toko@example.com", ["owner@example.com", "staff@example.com"])]
        await svc.aclose()
