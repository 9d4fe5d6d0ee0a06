"""A scripted loopback HTTP(S) server for tests and benchmarks (127.0.0.1, free port).

It runs its own asyncio loop in a thread, so a route that hangs or drips never blocks the
code under test. Each route is a responder; a few ready-made ones cover what real servers
do on a bad night::

    with LoopbackServer() as srv:
        srv.route("/ok", reply(200, json={"live": {"enabled": True}}))
        srv.route("/hang", hang())
        srv.route("/drip", drip(every=0.5))
        srv.route("/flap", sequence(reply(200), reply(503)))
        url = srv.url("/ok")
        ...
        srv.requests  # every request seen: method, path, headers, body

A route's responder can be swapped at any time (``srv.route`` again). Unknown paths get 404.

Every request that carries a ``webhook-signature`` is verified with the official
``standardwebhooks`` library against ``LoopbackServer(webhook_secret=...)`` (timestamps
judged against ``webhook_now``, the test's clock): one that does not verify, or arrives
where no secret was given, is answered 401 and listed in ``srv.unverified``.
``self_signed_tls(tmp_path)`` gives an ``ssl.SSLContext`` for ``LoopbackServer(tls=...)``
(made with the ``openssl`` command; ``None`` when it is not installed), and
``closed_port()`` a port nothing listens on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json as jsonlib
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

__all__ = [
    "LoopbackServer",
    "Request",
    "SelfSignedTls",
    "close_at_once",
    "closed_port",
    "drip",
    "garbage",
    "hang",
    "reply",
    "self_signed_tls",
    "sequence",
    "statuspage_components",
    "statuspage_indicator",
]

_REASONS = {
    200: "OK",
    204: "No Content",
    404: "Not Found",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ClockedWebhook(Webhook):
    """The official verifier, judging the timestamp against the test's clock instead of the
    machine's (tests run on a FixedClock); signature and JSON checks are the library's own."""

    def __init__(self, secret: str, now: Callable[[], datetime]) -> None:
        super().__init__(secret)
        self._now = now

    def _Webhook__verify_timestamp(self, timestamp_header: str) -> datetime:
        try:
            at = datetime.fromtimestamp(float(timestamp_header), tz=UTC)
        except ValueError:
            raise WebhookVerificationError("Invalid Signature Headers") from None
        if abs(at - self._now()) > timedelta(minutes=5):
            raise WebhookVerificationError("Message timestamp out of tolerance")
        return at


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


Responder = Callable[[Request, asyncio.StreamWriter, asyncio.Event], Awaitable[None]]


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def reply(
    status: int = 200,
    body: bytes | str = b"",
    *,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> Responder:
    """A plain answer; ``json=`` sends the value as application/json."""
    if json is not None:
        payload = jsonlib.dumps(json).encode()
        content_type = "application/json"
    else:
        payload = body.encode() if isinstance(body, str) else body
        content_type = "text/plain; charset=utf-8"

    async def respond(req: Request, writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
        all_headers = {
            "Content-Type": content_type,
            "Content-Length": str(len(payload)),
            "Connection": "close",
        }
        all_headers.update(headers or {})
        writer.write(_head(status, all_headers) + payload)
        await writer.drain()

    return respond


def hang() -> Responder:
    """Accept, read the request, then say nothing until the server stops."""

    async def respond(req: Request, writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
        await stop.wait()

    return respond


def drip(every: float = 0.5, total: int = 10_000) -> Responder:
    """Headers at once, then one body byte every ``every`` seconds: no per-phase timeout trips."""

    async def respond(req: Request, writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
        writer.write(
            _head(
                200,
                {
                    "Content-Type": "application/json",
                    "Content-Length": str(total),
                    "Connection": "close",
                },
            )
        )
        await writer.drain()
        for _ in range(total):
            writer.write(b" ")
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set():
                return

    return respond


def garbage(data: bytes = b"\x00\x17not http at all\r\n\r\n") -> Responder:
    """Bytes that are not an HTTP reply, then close."""

    async def respond(req: Request, writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
        writer.write(data)
        await writer.drain()

    return respond


def close_at_once() -> Responder:
    """Read the request and close the connection without a word."""

    async def respond(req: Request, writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
        return None

    return respond


def sequence(*responders: Responder) -> Responder:
    """Each hit gets the next responder, round and round (a flapping server)."""
    cycle = itertools.cycle(responders)

    async def respond(req: Request, writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
        await next(cycle)(req, writer, stop)

    return respond


def statuspage_components(components: dict[str, str], status: int = 200) -> Responder:
    """An Atlassian Statuspage v2 ``components.json``: name -> status (e.g. major_outage)."""
    comps = [
        {"id": f"c{i}", "name": name, "status": st}
        for i, (name, st) in enumerate(components.items())
    ]
    return reply(status, json={"page": {"id": "p", "name": "Example"}, "components": comps})


def statuspage_indicator(indicator: str, description: str = "") -> Responder:
    """An Atlassian Statuspage v2 ``status.json`` with the page indicator."""
    text = description or {"none": "All Systems Operational"}.get(indicator, f"{indicator} outage")
    return reply(
        json={"page": {"id": "p"}, "status": {"indicator": indicator, "description": text}}
    )


@dataclass
class LoopbackServer:
    tls: ssl.SSLContext | None = None
    routes: dict[str, Responder] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    webhook_secret: str | None = None
    webhook_now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    unverified: list[tuple[Request, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="loopback-server", daemon=True)
        self._stop: asyncio.Event | None = None
        self._lock = threading.Lock()

    # -- public -------------------------------------------------------------------------
    def route(self, path: str, responder: Responder) -> LoopbackServer:
        with self._lock:
            self.routes[path] = responder
        return self

    def url(self, path: str = "/") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def start(self) -> LoopbackServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("loopback server did not start")
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------
    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()
            # handlers still waiting (hang, drip) see the stop event and return
            await asyncio.sleep(0)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._stop is not None
        # One request per connection ("Connection: close"): simple, and no reuse races.
        try:
            req = await _read_request(reader)
            if req is None:
                return
            problem = self._signature_problem(req)
            with self._lock:
                self.requests.append(req)
                responder = self.routes.get(req.path, reply(404, "not found"))
                if problem is not None:
                    self.unverified.append((req, problem))
                    responder = reply(401, problem)
            await responder(req, writer, self._stop)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def _signature_problem(self, req: Request) -> str | None:
        if "webhook-signature" not in req.headers:
            return None
        if self.webhook_secret is None:
            return "signed request, but this receiver was given no secret to verify it"
        try:
            ClockedWebhook(self.webhook_secret, self.webhook_now).verify(req.body, req.headers)
        except (WebhookVerificationError, ValueError) as exc:
            return f"signature does not verify: {exc}"
        return None


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    path, _, query = target.partition("?")
    return Request(method, path, query, headers, body)


# -- helpers --------------------------------------------------------------------------------
def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class SelfSignedTls:
    context: ssl.SSLContext  # for LoopbackServer(tls=...)
    cert: Path  # a client trusting this file (verify=str(cert)) gets past "self-signed"


def self_signed_tls(folder: Path, *, expired: bool = False) -> SelfSignedTls | None:
    """A fresh self-signed certificate for 127.0.0.1 (None when openssl is not installed)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    cmd = [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
    cmd += ["-keyout", str(key), "-out", str(cert)]
    cmd += ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    if expired:
        _backdate(openssl, folder, cert, key)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return SelfSignedTls(ctx, cert)


def _backdate(openssl: str, folder: Path, cert: Path, key: Path) -> None:
    """Re-sign ``cert`` so it expired in the past (``openssl ca`` takes explicit dates)."""
    db = folder / "index.txt"
    db.write_text("")
    (folder / "serial").write_text("01\n")
    conf = folder / "ca.cnf"
    conf.write_text(
        "[ca]\ndefault_ca=d\n[d]\n"
        f"database={db}\nserial={folder / 'serial'}\nnew_certs_dir={folder}\n"
        "default_md=sha256\npolicy=p\ncopy_extensions=copy\nunique_subject=no\n[p]\ncommonName=supplied\n"
    )
    csr = folder / "req.csr"
    subprocess.run(
        [
            openssl,
            "x509",
            "-x509toreq",
            "-in",
            str(cert),
            "-signkey",
            str(key),
            "-out",
            str(csr),
            "-copy_extensions",
            "copy",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    subprocess.run(
        [
            openssl,
            "ca",
            "-batch",
            "-config",
            str(conf),
            "-selfsign",
            "-keyfile",
            str(key),
            "-in",
            str(csr),
            "-out",
            str(cert),
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200102000000Z",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


@contextlib.contextmanager
def serving(**routes: Responder) -> Iterator[LoopbackServer]:
    """A started server with the given routes (keyword = path without the leading slash)."""
    with LoopbackServer() as srv:
        for name, responder in routes.items():
            srv.route("/" + name, responder)
        yield srv
