"""Send one phone message: Telegram Bot API, ntfy, a generic HTTP template, or SMTP.

Never raises for trouble on the way: every outcome is a ``SendResult`` the outbox turns into
delivered / retrying / failed. HTTP goes through the shared ``HttpPool`` (via
``WebhookSender``); SMTP runs on a worker thread under a total deadline. Error text is
scrubbed of every secret the target uses (token, topic, gateway key, password) and cleaned
by ``core.text.clean_line`` before anything keeps it.
"""

from __future__ import annotations

import asyncio
import json
import re
import smtplib
import ssl
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import quote, urlencode

from liveguard.core.config import NotifyTarget, env_names, resolve_env
from liveguard.core.notify import Delivery, telegram_retry_after
from liveguard.core.promotion import MASK, RenderedRequest, parse_retry_after
from liveguard.core.text import clean_line

from .webhook_sender import SendResult, WebhookSender

__all__ = ["NotifySender", "render_request", "scrub", "secret_values", "telegram_url"]

PLACEHOLDERS = ("text", "title", "event", "target", "key", "priority")


def secret_values(target: NotifyTarget, environ: Mapping[str, str]) -> list[str]:
    """Every environment value the target's config refers to (all treated as secrets)."""
    texts: list[str] = [target.token, target.url, target.username, target.password]
    texts += list(target.headers.values())
    texts += list((target.form or {}).values())
    texts.append(json.dumps(target.body) if target.body is not None else "")
    names = {n for t in texts for n in env_names(t)}
    values = [environ[n] for n in names if environ.get(n)]
    if target.kind == "ntfy":  # the topic is the password, even when written in the file
        values.append(resolve_env(target.url, environ).rstrip("/").rsplit("/", 1)[-1])
    return sorted({v for v in values if len(v) >= 3}, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, MASK).replace(quote(value, safe=""), MASK)
    return clean_line(text)


def telegram_url(target: NotifyTarget, method: str, environ: Mapping[str, str]) -> str:
    token = resolve_env(target.token, environ)
    return f"{target.api.rstrip('/')}/bot{token}/{method}"


def _fill(
    template: str, values: Mapping[str, str], environ: Mapping[str, str], in_url: bool
) -> str:
    """Placeholders and ``${ENV}`` in one pass, so a filled-in text never pulls in a secret."""
    out: list[str] = []
    i = 0
    while i < len(template):
        if template.startswith("${", i) and (end := template.find("}", i)) > 0:
            out.append(resolve_env(template[i : end + 1], environ))
            i = end + 1
            continue
        if template[i] == "{":
            end = template.find("}", i)
            name = template[i + 1 : end] if end > 0 else ""
            if name in values:
                value = values[name]
                out.append(quote(value, safe="") if in_url else value)
                i = end + 1
                continue
        out.append(template[i])
        i += 1
    return "".join(out)


def _fill_value(value: Any, values: Mapping[str, str], environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _fill(value, values, environ, in_url=False)
    if isinstance(value, Mapping):
        return {k: _fill_value(v, values, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_value(v, values, environ) for v in value]
    return value


def _header_value(text: str) -> str:
    """Header values must be ASCII: anything else goes RFC 2047 encoded (ntfy reads that)."""
    text = text.replace("\r", " ").replace("\n", " ")
    return text if text.isascii() else Header(text, "utf-8").encode()


def render_request(
    target: NotifyTarget, delivery: Delivery, environ: Mapping[str, str]
) -> RenderedRequest:
    """The exact HTTP request of one attempt (telegram, ntfy or webhook)."""
    headers = {"Idempotency-Key": delivery.key}
    if target.kind == "telegram":
        body = {"chat_id": delivery.to, "text": delivery.text, "disable_web_page_preview": True}
        headers["Content-Type"] = "application/json"
        data = json.dumps(body, ensure_ascii=False).encode()
        return RenderedRequest("POST", telegram_url(target, "sendMessage", environ), headers, data)
    values = {
        "text": delivery.text,
        "title": delivery.title,
        "event": delivery.event,
        "target": delivery.target,
        "key": delivery.key,
        "priority": str(delivery.priority),
    }
    for name, value in target.headers.items():
        headers[name] = _header_value(_fill(value, values, environ, in_url=False))
    url = _fill(target.url, values, environ, in_url=True)
    if target.kind == "ntfy":
        headers["Title"] = _header_value(delivery.title)
        headers["Priority"] = str(max(target.priority, delivery.priority))
        tags = [*target.tags, *(["rotating_light"] if delivery.priority >= 5 else [])]
        if tags:
            headers["Tags"] = ",".join(tags)
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return RenderedRequest("POST", url, headers, delivery.text.encode())
    data = b""
    if target.form is not None:
        filled = {k: _fill(v, values, environ, in_url=False) for k, v in target.form.items()}
        data = urlencode(filled).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif isinstance(target.body, str):
        data = _fill(target.body, values, environ, in_url=False).encode()
    elif target.body is not None:
        rendered = _fill_value(dict(target.body), values, environ)
        data = json.dumps(rendered, ensure_ascii=False).encode()
        headers.setdefault("Content-Type", "application/json")
    return RenderedRequest(target.method, url, headers, data)


class NotifySender:
    """Sends deliveries; one instance per room (it holds no per-target state)."""

    def __init__(self, webhooks: WebhookSender, environ: Mapping[str, str]) -> None:
        self.webhooks = webhooks
        self.environ = environ

    async def send(
        self, target: NotifyTarget, delivery: Delivery
    ) -> tuple[SendResult, float | None]:
        """One attempt; returns the result and the seconds the server asked us to wait."""
        secrets = secret_values(target, self.environ)
        if target.kind == "email":
            result = await self._email(target, delivery)
            return _scrubbed(result, secrets), None
        try:
            request = render_request(target, delivery, self.environ)
        except KeyError as exc:  # MissingEnvError: the variable went away since loading
            return SendResult(None, scrub(str(exc), secrets)), None
        result = await self.webhooks.send(request, target.timeout.total_seconds())
        retry_after: float | None = None
        if target.kind == "telegram" and result.http_status is not None:
            result, retry_after = _telegram_outcome(result)
        else:  # delta-seconds or an HTTP date, as for Plan B's webhooks
            retry_after = parse_retry_after(result.retry_after, datetime.now(UTC))
        return _scrubbed(result, secrets), retry_after

    async def _email(self, target: NotifyTarget, delivery: Delivery) -> SendResult:
        started = time.perf_counter()
        deadline = target.timeout.total_seconds()
        try:
            async with asyncio.timeout(deadline + 1):
                await asyncio.to_thread(_smtp_send, target, delivery, self.environ, deadline)
        except TimeoutError:
            return SendResult(None, f"timed out after {deadline:g} s", duration_ms=_ms(started))
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            status = None if 400 <= exc.smtp_code < 500 else 400  # 5xx SMTP is final
            return SendResult(status, f"SMTP {exc.smtp_code}: {text}", duration_ms=_ms(started))
        except (smtplib.SMTPException, OSError, ssl.SSLError, KeyError) as exc:
            return SendResult(None, f"{type(exc).__name__}: {exc}", duration_ms=_ms(started))
        return SendResult(250, duration_ms=_ms(started))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _scrubbed(result: SendResult, secrets: list[str]) -> SendResult:
    return SendResult(
        result.http_status,
        scrub(result.error, secrets),
        result.retry_after,
        result.duration_ms,
        scrub(result.excerpt, secrets),
    )


def _telegram_outcome(result: SendResult) -> tuple[SendResult, float | None]:
    """The Bot API answers ``{"ok": true|false, …}``. Only the start of the reply is kept (a
    long message makes a long reply), but ``ok`` comes first."""
    ok = _OK_RE.match(result.excerpt)
    if result.http_status == 200 and (ok is None or ok.group(1) == "true"):
        return result, None
    try:
        reply = json.loads(result.excerpt)
    except ValueError:
        reply = {}
    description = reply.get("description") if isinstance(reply, dict) else None
    error = f"HTTP {result.http_status}" + (f": {description}" if description else "")
    status = result.http_status if result.http_status != 200 else 502
    return (
        SendResult(status, error, result.retry_after, result.duration_ms, result.excerpt),
        telegram_retry_after(result.excerpt),
    )


_OK_RE = re.compile(r'^\{\s*"ok"\s*:\s*(true|false)')


def _smtp_send(
    target: NotifyTarget, delivery: Delivery, environ: Mapping[str, str], timeout: float
) -> None:
    host = resolve_env(target.host, environ)
    message = EmailMessage()
    message["Subject"] = delivery.title or delivery.text[:60]
    message["From"] = resolve_env(target.sender, environ)
    message["To"] = ", ".join(target.to)
    message["Date"] = formatdate(localtime=False)
    # the same key gives the same Message-ID, so a repeat after a crash can be recognised
    message["Message-ID"] = make_msgid(
        idstring=delivery.key.replace(":", ".")[:60], domain="liveguard"
    )
    message.set_content(delivery.text)
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if target.security == "ssl":
        client = smtplib.SMTP_SSL(host, target.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, target.port, timeout=timeout)
    try:
        client.ehlo()
        if target.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if target.username:
            client.login(
                resolve_env(target.username, environ), resolve_env(target.password, environ)
            )
        client.send_message(message)
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
