"""Probes: run one configured check (http, statuspage, tcp, feed) and say what it saw.

Every check ends by its own ``timeout`` whatever the server does (dripping bytes, hanging
after accept). Every failure has a specific reason. When liveguard itself cannot look (its
connection pool is busy, this machine has no DNS, a ``${VAR}`` is missing) the outcome is
UNKNOWN, never DOWN: the channel is not to blame.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import httpx

from liveguard.core.config import (
    Channel,
    Check,
    HeaderValueError,
    MissingEnvError,
    resolve_env,
    resolve_headers,
)
from liveguard.core.expectations import (
    DEFAULT_EXPECTATIONS,
    Observed,
    evaluate,
    parse_expectation,
)
from liveguard.core.parsing import is_sane_instant
from liveguard.core.status import ProbeResult, State
from liveguard.core.text import NAME_MAX, REASON_MAX, clean_line
from liveguard.core.timekeeping import Clock

from .http_pool import DeadlineExceeded, HttpPool, HttpReply, NotLoopback, PoolBusy

__all__ = [
    "CheckJob",
    "ComponentChoiceError",
    "ProbeScheduler",
    "choose_component",
    "describe_http_error",
    "jobs_for",
    "run_check",
    "statuspage_component_problem",
    "warm_up",
]

# A little room past the check's timeout for our own bookkeeping; the request itself is
# bounded by the pool's deadline.
_GRACE_S = 0.25
START_SPREAD_S = 1.0
_FUTURE_SKEW = timedelta(minutes=5)  # a status feed's clock may run a little ahead of ours

_COMPONENT_STATES = {
    "operational": State.UP,
    "degraded_performance": State.DEGRADED,
    "under_maintenance": State.DEGRADED,
    "partial_outage": State.DOWN,
    "major_outage": State.DOWN,
}
_REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5
_INDICATORS = {
    "none": State.UP,
    "minor": State.DEGRADED,
    "maintenance": State.DEGRADED,
    "major": State.DOWN,
    "critical": State.DOWN,
}


class _Unknown(Exception):
    """liveguard could not look; the reason is said as is."""


@dataclass(frozen=True)
class CheckJob:
    channel: str
    index: int
    check: Check


def jobs_for(channels: Sequence[Channel]) -> list[CheckJob]:
    return [CheckJob(c.id, i, chk) for c in channels for i, chk in enumerate(c.checks)]


def _seconds(check: Check) -> float:
    return check.timeout.total_seconds()


def _timed_out(seconds: float) -> str:
    return f"timed out after {seconds:g} s"


async def run_check(
    pool: HttpPool,
    check: Check,
    channel_id: str,
    clock: Clock,
    environ: Mapping[str, str] | None = None,
) -> ProbeResult:
    """Run one check once, within its timeout; never raises for what the far side does.

    The reason is outside text (a body, a component name, a feed's words): it leaves here as
    one clean, capped line.
    """
    env = os.environ if environ is None else environ
    result = await _run_check(pool, check, channel_id, clock.now(), env)
    return replace(result, reason=clean_line(result.reason))


async def _run_check(
    pool: HttpPool, check: Check, channel_id: str, at: datetime, env: Mapping[str, str]
) -> ProbeResult:
    try:
        async with asyncio.timeout(_seconds(check) + _GRACE_S):
            if check.kind == "http":
                return await _http(pool, check, env, at)
            if check.kind == "statuspage":
                return await _statuspage(pool, check, env, at)
            if check.kind == "feed":
                return await _feed(pool, check, channel_id, env, at)
            return await _tcp(check, at)
    except TimeoutError:
        return ProbeResult(State.DOWN, _timed_out(_seconds(check)), at)
    except (MissingEnvError, HeaderValueError) as exc:
        return ProbeResult(State.UNKNOWN, str(exc), at)
    except _Unknown as exc:
        return ProbeResult(State.UNKNOWN, str(exc), at)
    except httpx.InvalidURL:
        # the message would quote the URL with its ${VAR}s filled in: never show secrets
        return ProbeResult(State.UNKNOWN, "the URL is not valid once its ${...} are filled in", at)
    except Exception as exc:  # a bug of ours: the channel is not to blame
        return ProbeResult(
            State.UNKNOWN, f"liveguard could not run this check ({type(exc).__name__})", at
        )


# -- http ----------------------------------------------------------------------------------
async def _get(
    pool: HttpPool, check: Check, env: Mapping[str, str], url: str | None = None
) -> tuple[int, str, int] | str:
    """(status, body text, elapsed ms), or why no reply came: a DOWN reason.

    Raises _Unknown when liveguard itself could not look.
    """
    reply = await _fetch(pool, check, env, resolve_env(url or check.url, env))
    if isinstance(reply, str):
        return reply
    return reply.status, reply.text, reply.elapsed_ms


async def _fetch(
    pool: HttpPool, check: Check, env: Mapping[str, str], target: str
) -> HttpReply | str:
    headers = resolve_headers(check.headers, env)
    try:
        return await pool.request(check.method, target, deadline=_seconds(check), headers=headers)
    except DeadlineExceeded as exc:
        return str(exc)
    except PoolBusy as exc:
        raise _Unknown(f"liveguard is busy: {exc}") from None
    except httpx.HTTPError as exc:
        return _http_failure(exc)


def _http_failure(exc: BaseException) -> str:
    """A person-readable reason for a failed request; raises _Unknown for our own failures."""
    if isinstance(exc, NotLoopback):
        raise _Unknown(str(exc))  # liveguard refused to look: the channel is not to blame
    if isinstance(exc, httpx.DecodingError):
        return "the reply could not be decoded"
    chain = _causes(exc)
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            detail = cause.verify_message or "verify failed"
            if "expired" in detail:
                return "TLS: certificate expired"
            return f"TLS: certificate verify failed ({detail})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS: {(cause.reason or str(cause)).lower().replace('_', ' ')}"
        if isinstance(cause, socket.gaierror):
            return _dns_failure(cause)
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by the server"
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "certificate" in text:
        return "TLS: certificate " + ("expired" if "expired" in text else "verify failed")
    if "name resolution" in text or "name or service not known" in text or "nodename" in text:
        return _dns_failure(None, text)
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending" in text:
            return "the server closed the connection without replying"
        return "not an HTTP reply (protocol error)"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "bad URL (not valid once its ${...} are filled in)"
    if isinstance(exc, httpx.LocalProtocolError):
        # httpx quotes the offending header or URL, which may hold a secret
        return "liveguard could not write this request (a header or the URL is not valid)"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def describe_http_error(exc: httpx.HTTPError) -> str:
    """The reason a request failed, in words, for anything sent through the pool (feeds)."""
    try:
        return _http_failure(exc)
    except _Unknown as unknown:
        return str(unknown)


def _dns_failure(err: socket.gaierror | None, text: str = "") -> str:
    # EAI_AGAIN / EAI_FAIL: this machine cannot resolve names at all right now.
    temporary = {getattr(socket, n) for n in ("EAI_AGAIN", "EAI_FAIL") if hasattr(socket, n)}
    if (err is not None and err.errno in temporary) or "temporary failure" in text:
        raise _Unknown("DNS is not working on this machine")
    return "host not found (DNS)"


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


async def _http(pool: HttpPool, check: Check, env: Mapping[str, str], at: datetime) -> ProbeResult:
    rules = [parse_expectation(r) for r in (check.expect or DEFAULT_EXPECTATIONS)]
    got = await _get(pool, check, env)
    if isinstance(got, str):
        seen = Observed(connected=False)
        only_connected = all(r.left == "connected" for r in rules)
        if only_connected and all(evaluate(r, seen) is None for r in rules):
            return ProbeResult(State.UP, "not connected, as expected", at)
        return ProbeResult(State.DOWN, got, at)
    status, body, elapsed = got
    seen = Observed(connected=True, status=status, response_time=elapsed, body=body)
    failures = [(r, why) for r in rules if (why := evaluate(r, seen)) is not None]
    hard = [why for r, why in failures if not r.is_timing]
    if hard:
        # the first broken rule says it; "not JSON" after "status 503" adds nothing
        return ProbeResult(State.DOWN, hard[0], at, elapsed)
    if failures:
        return ProbeResult(State.DEGRADED, "; ".join(why for _, why in failures), at, elapsed)
    return ProbeResult(State.UP, f"status {status}, {elapsed} ms", at, elapsed)


# -- statuspage ----------------------------------------------------------------------------
def _statuspage_url(check: Check) -> str:
    url = check.url.rstrip("/")
    if url.endswith(".json"):
        return url
    return url + ("/api/v2/components.json" if check.component else "/api/v2/status.json")


def _json_reply(got: tuple[int, str, int] | str, what: str) -> tuple[Any, int]:
    """The reply's JSON and latency; a source we cannot read says nothing about the channel."""
    if isinstance(got, str):
        raise _Unknown(f"{what} unreachable: {got}")
    status, body, elapsed = got
    if status != 200:
        raise _Unknown(f"{what} replied with status {status}")
    try:
        return json.loads(body), elapsed
    except (ValueError, RecursionError):  # a body nested thousands deep
        raise _Unknown(f"{what}: not JSON") from None


async def _statuspage(
    pool: HttpPool, check: Check, env: Mapping[str, str], at: datetime
) -> ProbeResult:
    data, elapsed = _json_reply(await _statuspage_get(pool, check, env), "status page")
    if check.component:
        comp = choose_component(data, check.component)
        raw = str(comp.get("status", ""))
        if raw not in _COMPONENT_STATES:
            raise _Unknown(f"status page: unknown component status {clean_line(raw, NAME_MAX)!r}")
        name = clean_line(comp.get("name"), NAME_MAX)
        return ProbeResult(_COMPONENT_STATES[raw], f"{name}: {raw.replace('_', ' ')}", at, elapsed)
    status = data.get("status") if isinstance(data, dict) else None
    indicator = status.get("indicator") if isinstance(status, dict) else None
    if not isinstance(status, dict) or indicator not in _INDICATORS:
        raise _Unknown("status page: no status.indicator in the reply")
    text = str(status.get("description") or indicator)
    return ProbeResult(_INDICATORS[str(indicator)], f"status page: {text}", at, elapsed)


async def _statuspage_get(
    pool: HttpPool, check: Check, env: Mapping[str, str]
) -> tuple[int, str, int] | str:
    """The page's reply, following redirects that stay on the same host (keeping the scheme
    or upgrading to https) for at most MAX_REDIRECTS hops; any other redirect is a reason."""
    url = resolve_env(_statuspage_url(check), env)
    for _hop in range(MAX_REDIRECTS + 1):
        reply = await _fetch(pool, check, env, url)
        if isinstance(reply, str):
            return reply
        if reply.status not in _REDIRECTS:
            return reply.status, reply.text, reply.elapsed_ms
        url = _same_host_redirect(url, reply.headers.get("location", ""), reply.status)
    raise _Unknown(f"status page: more than {MAX_REDIRECTS} redirects")


def _same_host_redirect(url: str, location: str, status: int) -> str:
    if not location.strip():
        raise _Unknown(f"status page replied with status {status} without a Location")
    here, there = httpx.URL(url), httpx.URL(url).join(location.strip())
    upgrade = here.scheme == "http" and there.scheme == "https"
    same_place = there.scheme == here.scheme and _port(there) == _port(here)
    if there.host.lower() != here.host.lower() or not (upgrade or same_place):
        shown = clean_line(f"{there.scheme}://{there.host}{there.path}", NAME_MAX)
        raise _Unknown(
            f"status page redirects elsewhere (status {status} to {shown}); "
            "set url to the page's own address"
        )
    return str(there)


def _port(url: httpx.URL) -> int | None:
    return url.port or {"http": 80, "https": 443}.get(url.scheme)


class ComponentChoiceError(_Unknown):
    """The configured component names none, or more than one, of the page's components."""


def choose_component(data: Any, wanted: str) -> dict[str, Any]:
    """The component ``wanted`` names: its ``id``, its name, or ``group/name``; raises
    ComponentChoiceError naming every match when the name is not precise enough."""
    comps = data.get("components") if isinstance(data, dict) else None
    if not isinstance(comps, list):
        raise _Unknown("status page: no components list in the reply")
    items = [c for c in comps if isinstance(c, dict)]
    by_id = [c for c in items if str(c.get("id", "")) == wanted]
    if by_id:
        return by_id[0]
    groups = {str(c.get("id")): str(c.get("name", "")) for c in items if c.get("group") is True}
    key = wanted.casefold()
    matches = [
        c
        for c in items
        if key in (str(c.get("name", "")).casefold(), _full_name(c, groups).casefold())
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ComponentChoiceError(f"status page has no component {clean_line(wanted, NAME_MAX)!r}")
    named = ", ".join(_described(c, groups) for c in matches[:6])
    raise ComponentChoiceError(
        f"status page: component {clean_line(wanted, NAME_MAX)!r} matches {len(matches)} "
        f'({named}); set component to one id or to "group/name"'
    )


def _full_name(comp: dict[str, Any], groups: dict[str, str]) -> str:
    group = groups.get(str(comp.get("group_id")))
    name = str(comp.get("name", ""))
    return f"{group}/{name}" if group is not None else name


def _described(comp: dict[str, Any], groups: dict[str, str]) -> str:
    kind = "group, " if comp.get("group") is True else ""
    name = clean_line(_full_name(comp, groups), NAME_MAX)
    return f"{name!r} ({kind}id {clean_line(comp.get('id'), NAME_MAX)!r})"


async def statuspage_component_problem(
    pool: HttpPool, check: Check, environ: Mapping[str, str] | None = None
) -> tuple[bool, str] | None:
    """For ``doctor``: (True, why) when the configured component cannot be chosen on the
    page (none or several match), (False, why) when the page could not be read, else None."""
    env = os.environ if environ is None else environ
    try:
        async with asyncio.timeout(_seconds(check) + _GRACE_S):
            data, _ = _json_reply(await _statuspage_get(pool, check, env), "status page")
            choose_component(data, check.component)
    except ComponentChoiceError as exc:
        return True, str(exc)
    except (_Unknown, MissingEnvError) as exc:
        return False, str(exc)
    except TimeoutError:
        return False, _timed_out(_seconds(check))
    return None


# -- feed ----------------------------------------------------------------------------------
_FEED_STATES = {s.value: s for s in (State.UP, State.DEGRADED, State.DOWN, State.UNKNOWN)}


async def _feed(
    pool: HttpPool, check: Check, channel_id: str, env: Mapping[str, str], at: datetime
) -> ProbeResult:
    data, elapsed = _json_reply(await _get(pool, check, env), "status feed")
    channels = data.get("channels") if isinstance(data, dict) else None
    if not isinstance(channels, dict):
        raise _Unknown('status feed: wrong shape (expected {"channels": {...}})')
    key = check.feed_channel or channel_id
    entry = channels.get(key)
    if not isinstance(entry, dict):
        raise _Unknown(f"status feed has no entry for {key!r}")
    state = _FEED_STATES.get(str(entry.get("state", "")).lower())
    if state is None:
        state_text = clean_line(entry.get("state"), NAME_MAX)
        raise _Unknown(f"status feed: unknown state {state_text!r} for {key!r}")
    since, readable = _feed_since(entry.get("since"), at)
    reason = str(entry.get("reason") or f"status feed says {state.value}")
    if not readable:
        reason = f"{reason[:REASON_MAX]} (unreadable time in 'since')"
    return ProbeResult(state, reason, at, elapsed, since=since, settled=True)


def _feed_since(raw: object, at: datetime) -> tuple[datetime | None, bool]:
    """The feed's ``since`` when it is a sane time no later than now (a little clock skew
    allowed); otherwise liveguard's own time is used and the reason says why."""
    if raw in (None, ""):
        return None, True
    try:
        parsed = datetime.fromisoformat(str(raw)[:64])
    except ValueError:
        return None, False
    if parsed.tzinfo is None or not is_sane_instant(parsed) or parsed > at + _FUTURE_SKEW:
        return None, False
    return parsed, True


# -- tcp -----------------------------------------------------------------------------------
async def _tcp(check: Check, at: datetime) -> ProbeResult:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(_seconds(check)):
            _, writer = await asyncio.open_connection(check.host, check.port)
    except TimeoutError:
        return ProbeResult(State.DOWN, _timed_out(_seconds(check)), at)
    except socket.gaierror as exc:
        return ProbeResult(State.DOWN, _dns_failure(exc), at)
    except ConnectionRefusedError:
        return ProbeResult(State.DOWN, "connection refused", at)
    except OSError as exc:
        return ProbeResult(State.DOWN, (exc.strerror or str(exc)).lower(), at)
    elapsed = int((time.perf_counter() - started) * 1000)
    writer.close()
    try:
        async with asyncio.timeout(0.5):
            await writer.wait_closed()
    except (TimeoutError, OSError):
        pass
    return ProbeResult(
        State.UP, f"connected to {check.host}:{check.port} in {elapsed} ms", at, elapsed
    )


# -- warming up ----------------------------------------------------------------------------
def warm_up() -> None:
    """Import what httpx loads lazily on its first request (anyio's asyncio backend, ~50 ms).

    Run it in a thread (``asyncio.to_thread``) before the first probe round: on the loop it
    would freeze the screen once; at import time it would slow every start of liveguard.
    """
    importlib.import_module("anyio._backends._asyncio")


# -- schedule ------------------------------------------------------------------------------
OnResult = Callable[[CheckJob, ProbeResult], Awaitable[None] | None]
Sleep = Callable[[float], Awaitable[None]]


class ProbeScheduler:
    """Runs every check on its own ``every``, all concurrently; results go to ``on_result``."""

    def __init__(
        self,
        pool: HttpPool,
        jobs: Sequence[CheckJob],
        clock: Clock,
        on_result: OnResult,
        *,
        environ: Mapping[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.pool = pool
        self.jobs = list(jobs)
        self.clock = clock
        self.on_result = on_result
        self.environ = environ
        self._sleep = sleep

    async def run_once(self) -> list[tuple[CheckJob, ProbeResult]]:
        """One round: every check once, concurrently; results in job order."""
        tasks = []
        for job in self.jobs:
            tasks.append(asyncio.ensure_future(self._one(job)))
            # one check's start per loop turn, not fifty in one go: the screen keeps painting
            await asyncio.sleep(0)
        results = await asyncio.gather(*tasks)
        return list(zip(self.jobs, results, strict=True))

    async def run(self, rounds: int | None = None) -> None:
        """Run each check every ``every`` until cancelled (or ``rounds`` times each, for tests)."""
        # The first runs are spread over up to a second so that starting the control room
        # is not one burst of every connection at once (the screen paints meanwhile).
        spread = min([START_SPREAD_S, *(j.check.every.total_seconds() for j in self.jobs)])
        step = spread / len(self.jobs) if self.jobs else 0.0
        async with asyncio.TaskGroup() as group:
            for n, job in enumerate(self.jobs):
                group.create_task(self._loop(job, rounds, n * step))

    async def _loop(self, job: CheckJob, rounds: int | None, first_delay: float = 0.0) -> None:
        loop = asyncio.get_running_loop()
        every = job.check.every.total_seconds()
        done = 0
        if first_delay > 0:
            await self._sleep(first_delay)
        while rounds is None or done < rounds:
            started = loop.time()
            await self._one(job)
            done += 1
            if rounds is not None and done >= rounds:
                return
            # keep the rhythm: a slow check does not push every later check back
            await self._sleep(max(0.0, every - (loop.time() - started)))

    async def _one(self, job: CheckJob) -> ProbeResult:
        result = await run_check(self.pool, job.check, job.channel, self.clock, self.environ)
        delivered = self.on_result(job, result)
        if delivered is not None:
            await delivered
        return result
