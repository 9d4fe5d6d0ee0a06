"""Performs one Plan B action: sends a webhook through the shared pool and decides what
comes next (delivered, retry later, failed), or saves the message / opens the link."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.promotion_store import save_text_file
from liveguard.adapters.webhook_sender import SendResult, WebhookSender
from liveguard.core.config import Action, HeaderValueError, MissingEnvError
from liveguard.core.promotion import (
    OutboxEntry,
    TemplateValues,
    decide,
    parse_retry_after,
    render_text,
    render_webhook,
)
from liveguard.core.timekeeping import Clock
from liveguard.core.webhook_signing import SecretFormError

__all__ = ["ActionRunner", "Opener", "open_in_browser"]

Opener = Callable[[str], bool]


def open_in_browser(url: str) -> bool:
    """Open a graphical browser when there is one; never a text browser over the control room."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        return bool(webbrowser.open(url, new=2))
    except webbrowser.Error:
        return False


class ActionRunner:
    def __init__(
        self,
        clock: Clock,
        environ: Mapping[str, str],
        sender: WebhookSender | None,
        opener: Opener | None,
        jitter: Callable[[], float],
    ) -> None:
        self.clock = clock
        self.environ = environ
        self.opener = opener
        self.jitter = jitter
        self._sender = sender
        self._own_pool: HttpPool | None = None
        self.use_env_proxy = False  # [network] use_env_proxy, for the pool made here

    async def run(
        self, entry: OutboxEntry, action: Action, values: TemplateValues, message_file: Path
    ) -> tuple[SendResult, OutboxEntry]:
        """One attempt of a claimed action; returns what happened and the entry to write.

        Never raises (but for cancellation): whatever goes wrong becomes a failed attempt
        with a reason the seller can read, so no action is left "sending" for ever."""
        try:
            if action.kind == "webhook":
                return await self._webhook(entry, action, values)
            return await asyncio.to_thread(self._local, entry, action, values, message_file)
        except Exception as exc:
            reason = f"liveguard could not perform this action ({type(exc).__name__})"
            return SendResult(None, reason), replace(
                entry, status="failed", error=reason, next_at=None
            )

    async def _webhook(
        self, entry: OutboxEntry, action: Action, values: TemplateValues
    ) -> tuple[SendResult, OutboxEntry]:
        now = self.clock.now()
        try:
            request = render_webhook(
                action, values, self.environ, key=entry.key, timestamp=int(now.timestamp())
            )
        except (MissingEnvError, HeaderValueError, SecretFormError) as exc:
            result = SendResult(None, str(exc))
            return result, replace(entry, status="failed", error=str(exc), next_at=None)
        result = await self.sender().send(request, action.timeout.total_seconds())
        if result.permanent:
            return result, replace(entry, status="failed", error=result.error, next_at=None)
        after = self.clock.now()
        decision = decide(
            entry.attempts,
            http_status=result.http_status,
            error=result.error,
            retry_after_s=parse_retry_after(result.retry_after, after),
            jitter=self.jitter(),
        )
        next_at = (
            after + timedelta(seconds=decision.delay_s) if decision.status == "retrying" else None
        )
        final = replace(
            entry,
            status=decision.status,
            next_at=next_at,
            http_status=result.http_status,
            error="" if decision.status == "delivered" else decision.reason,
        )
        return result, final

    def _local(
        self, entry: OutboxEntry, action: Action, values: TemplateValues, message_file: Path
    ) -> tuple[SendResult, OutboxEntry]:
        error = ""
        if action.kind == "message":
            text = render_text(action.text, values, {}, mask=True)
            try:
                save_text_file(message_file, text)
            except OSError as exc:
                error = f"could not save the message ({exc.strerror or exc})"
        elif action.kind == "link" and self.opener is not None:
            # not opened (no graphical browser): the link is shown in the region and the CLI
            with contextlib.suppress(OSError, MissingEnvError):
                self.opener(render_text(action.url, values, self.environ, in_url=True))
        # a checklist is "done" once shown; its ticks are the seller's
        final = replace(entry, status="done", error=error, next_at=None)
        return SendResult(None, error), final

    def use_pool(self, pool: HttpPool) -> None:
        """Send webhooks through the room's one shared pool (not closed by ``aclose``)."""
        if self._sender is None:
            self._sender = WebhookSender(pool)

    def sender(self) -> WebhookSender:
        if self._sender is None:
            self._own_pool = HttpPool(use_env_proxy=self.use_env_proxy)
            self._sender = WebhookSender(self._own_pool)
        return self._sender

    async def aclose(self) -> None:
        if self._own_pool is not None:
            await self._own_pool.aclose()
            self._own_pool = None
            self._sender = None
