"""The connection-level limits Uvicorn's httptools protocol lacks, as a small subclass of it.

What Uvicorn offers, and is used as is (``server.py``): ``timeout_keep_alive`` closes a
connection idle after an answer (``--keep-alive-timeout``), ``backlog`` bounds the kernel's
accept queue, and the app bounds each upload (``--read-timeout``, ``--max-bytes``) and the
requests in flight (``--workers`` + ``--queue``).

What it lacks, so the attacks measured in issue 12 went through:

- **No cap on the header section.**  httptools (llhttp) hands a header field over only once it
  is complete and buffers it until then, so a header line that never ends grows without bound
  (20 such connections took the process past 1 GB).  ``h11_max_incomplete_event_size`` is the
  h11 protocol's cap, which httptools has no counterpart of.
- **No deadline for the headers.**  A new connection has no timer at all until its first answer
  (the keep-alive timer only starts after one), and any byte, even the CRLF allowed between
  requests, cancels the keep-alive timer: a slowloris holds a connection forever.
- **No limit on connections.**  ``limit_concurrency`` is checked only once a request's headers
  are complete, so the connections that never complete them, which are the attack, are never
  counted against it; they hold their file descriptors and parser state until the client leaves.
- **A body nobody reads keeps the connection.**  After an answer that did not read the body
  (an early 503, 404, 405), Uvicorn discards the rest of the body as it arrives and each byte
  cancels the keep-alive timer again.

So :class:`GuardedHttpToolsProtocol` adds, around the parent's own methods and without
touching its parsing or its request cycle:

- ``connection_made``: beyond ``max_connections`` open ones, answer 503 ``too-many-connections``
  (``Retry-After: 1``) and close at once; nothing is read or parsed, nothing queued.  A client that has
  already sent its request may see the close as a reset before it reads the 503.
- ``data_received``: while a request's header section is being read, feed the parser at most
  ``max_header_bytes + 1`` bytes of it; if the headers are still not complete, answer 431
  ``headers-too-large`` and close.  So the parser never holds more than the cap (plus, for a
  request pipelined behind another in one read, at most one more cap).
- a header clock from the connection's start, or from the first byte of each later request,
  to the end of its headers: past ``header_timeout``, 408 ``header-timeout`` and close.
- ``on_response_complete``: when the answer went out before the request's body ended, close
  the connection instead of reading a body that may never end.
- ``send_400_response``: a request httptools cannot parse gets the service's JSON 400 too.
- ``on_body``: the body's pieces are kept as they came (:class:`BodyPieces`), not copied twice.
- ``on_headers_complete``: a request of known length is offered the direct body read
  (``direct_body.DirectBody``, the ASGI extension the raw upload route uses); while it runs, the
  loop reads into the app's buffer and this protocol sees none of those bytes.

The loop talks to it through ``direct_body.BufferedConnection`` (:func:`guarded_protocol` makes
that pair), which hands it each read as a view of one reused buffer rather than as new ``bytes``.

The error answers are the service's JSON errors, counted in ``aigc_check_errors_total`` and
written to the access log by the server's ``on_reject`` hook.  While an answer to an earlier request on the
same connection is still being written (pipelining) the connection is closed without one, as
writing it would interleave the two.  The parent's keep-alive handling, flow control, and
shutdown are unchanged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.protocols.utils import get_remote_addr
from uvicorn.server import ServerState

from .direct_body import EXTENSION, BufferedConnection, DirectBody, body_length, fresh_parser
from .errors import BadRequestError, HeadersTooLargeError, HeaderTimeoutError, ServiceError, TooManyConnectionsError

# Called for each answer the transport gives itself: (client, error, seconds since the connection
# or the request began, bytes of the answer's body).
RejectHook = Callable[[tuple[str, int] | None, ServiceError, float, int], None]


@dataclass(frozen=True)
class TransportLimits:
    max_header_bytes: int
    header_timeout: float
    max_connections: int
    on_reject: RejectHook | None = None


def error_response(error: ServiceError, default_headers: list[tuple[bytes, bytes]]) -> tuple[bytes, int]:
    """The raw HTTP/1.1 answer for ``error`` (JSON body, ``Connection: close``) and its body's size."""
    body = json.dumps(error.body(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")  # as Starlette's
    head = [STATUS_LINE[error.status]]
    for name, value in default_headers:
        head += [name, b": ", value, b"\r\n"]
    head += [b"content-type: application/json\r\ncontent-length: ", str(len(body)).encode(), b"\r\n"]
    if error.retry_after is not None:
        head += [b"retry-after: ", str(error.retry_after).encode(), b"\r\n"]
    head.append(b"connection: close\r\n\r\n")
    return b"".join(head) + body, len(body)


class BodyPieces:
    """What uvicorn's request cycle keeps the unread body in, without copying it twice.

    Uvicorn appends each piece httptools hands over to a ``bytearray`` (one copy) and gives the app
    ``bytes(bytearray)`` (another).  With reading paused past 64 KiB, an app that keeps up gets one
    piece per read, so keeping the pieces and joining them only when there are several skips both
    copies of a body (two of its four in-process copies; measured in bench/bench_serve.py).  It
    supports exactly what uvicorn does with ``cycle.body``: ``+=``, ``len()`` and ``bytes()``.
    """

    __slots__ = ("pieces", "size")

    def __init__(self, start: bytes | bytearray = b"") -> None:
        self.pieces: list[bytes] = [bytes(start)] if start else []
        self.size = len(start)

    def __iadd__(self, piece: bytes) -> BodyPieces:
        self.pieces.append(piece)
        self.size += len(piece)
        return self

    def __len__(self) -> int:
        return self.size

    def __bytes__(self) -> bytes:
        return self.pieces[0] if len(self.pieces) == 1 else b"".join(self.pieces)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """Uvicorn's httptools protocol with a header size cap, a header deadline and a connection cap."""

    limits: ClassVar[TransportLimits]  # set on the subclass :func:`guarded_protocol` makes

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.awaiting_headers = True  # between a request's end (or the connection's start) and its headers' end
        self._header_bytes = 0  # bytes fed to the parser since then
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_started = self.loop.time()
        self._refused = False
        self.direct_body: DirectBody | None = None  # a body being read straight into the app's buffer
        self._discarding = False  # a direct body was abandoned: nothing more is parsed on this connection

    # -- the connection limit --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        limit = self.limits.max_connections
        if len(self.connections) >= limit:
            self._refused = True
            self.transport = transport
            self.flow = FlowControl(transport)
            self.client = get_remote_addr(transport)
            self._reject(TooManyConnectionsError(f"{limit} connections are open (the limit); retry shortly"))
            return
        super().connection_made(transport)
        self._start_header_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_clock()
        if self.direct_body is not None:
            self.direct_body.lost()
            self.direct_body = None
        if not self._refused:  # a refused connection was never registered or parsed
            super().connection_lost(exc)

    # -- the header size cap and deadline ----------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._refused or self._discarding or self.transport.is_closing():
            return
        limit = self.limits.max_header_bytes
        while self.awaiting_headers:
            if self._header_timer is None:  # the first byte of a request after a keep-alive pause
                self._start_header_clock()
            room = limit + 1 - self._header_bytes
            piece, data = data[:room], data[room:]  # no copy when ``data`` fits (the usual case)
            self._header_bytes += len(piece)
            super().data_received(piece)
            if self.transport.is_closing():  # the parent answered a malformed request, or closed
                return
            if self.awaiting_headers and self._header_bytes > limit:
                self._reject(HeadersTooLargeError(f"the request's header section is larger than {limit} bytes"))
                return
            if not data:
                return
        super().data_received(data)  # a body: the app's own limits bound it

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if not isinstance(cycle.body, BodyPieces):  # a new cycle, or one whose body the app just took
            cycle.body = BodyPieces(cycle.body)  # type: ignore[assignment]  # used only as += len() bytes()
        super().on_body(body)

    def on_headers_complete(self) -> None:
        self.awaiting_headers = False
        self._stop_header_clock()
        cycle = self.cycle
        super().on_headers_complete()
        if self.cycle is not cycle:  # a request (not an upgrade): offer its body to be read directly
            length = body_length(self.headers)
            if length:
                extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
                extensions[EXTENSION] = DirectBody(self, length)
                # No more reads until the app asks for the body, one way or the other (uvicorn's
                # receive() resumes them too): so reads past the head go where the app wants them.
                self.flow.pause_reading()

    # -- the direct body read (direct_body.py) ---------------------------------------------------------

    def direct_body_complete(self) -> None:
        """The whole body went into the app's buffer unparsed: a fresh parser for the next request,
        and the request's end as the old parser would have signalled it."""
        self.parser = fresh_parser(self)
        self.on_message_complete()

    def abandon_body(self) -> None:
        """The app stopped reading a direct body midway (its deadline): the rest is never parsed, and
        the connection closes after the answer."""
        self._discarding = True
        if self.cycle is not None:
            self.cycle.keep_alive = False

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.awaiting_headers = True
        self._header_bytes = 0

    def _start_header_clock(self) -> None:
        self._header_started = self.loop.time()
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._header_deadline)

    def _stop_header_clock(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_deadline(self) -> None:
        self._header_timer = None
        if self.awaiting_headers and not self.transport.is_closing():
            timeout = self.limits.header_timeout
            self._reject(HeaderTimeoutError(f"the request's headers did not arrive within {timeout:g} s"))

    def _unsupported_upgrade_warning(self) -> None:
        """Silent: with ``ws="none"`` an ``Upgrade`` request is answered as plain HTTP, as HTTP allows; the
        parent's two warnings per such request (suggesting a WebSocket library) would let any client
        flood the log."""

    def send_400_response(self, msg: str) -> None:
        """The parent's answer to a request httptools cannot parse, as the service's JSON error (logged)."""
        self._reject(BadRequestError("the request is not valid HTTP/1.1", "bad-http"))

    # -- a body nobody reads ---------------------------------------------------------------------

    def on_response_complete(self) -> None:
        # With nothing pipelined, ``self.cycle`` is the request just answered; if its body has not
        # ended, close rather than discard a body that may never end.
        if not self.pipeline and self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            self.transport.close()
        super().on_response_complete()

    # -- the transport's own answers -----------------------------------------------------------------

    def _reject(self, error: ServiceError) -> None:
        size = 0
        if self.cycle is None or self.cycle.response_complete:
            payload, size = error_response(error, self.server_state.default_headers)
            self.transport.write(payload)
        self.transport.close()
        self._stop_header_clock()
        hook = self.limits.on_reject
        if hook is not None:
            hook(self.client, error, self.loop.time() - self._header_started, size)


class GuardedConnection(BufferedConnection):
    """What ``uvicorn.Config(http=...)`` makes per connection: the guarded protocol behind the buffered reads."""

    protocol_class: ClassVar[type[GuardedHttpToolsProtocol]]  # set on the subclass :func:`guarded_protocol` makes

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(self.protocol_class(config, server_state, app_state, _loop))


def guarded_protocol(limits: TransportLimits) -> type[GuardedConnection]:
    """A protocol class for ``uvicorn.Config(http=...)`` bound to ``limits``."""
    inner = type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})
    return type("GuardedConnection", (GuardedConnection,), {"protocol_class": inner})
