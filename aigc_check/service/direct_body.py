"""Reading a request body straight into the buffer it will end in: one copy from the kernel.

A 3 MB raw upload used to be copied four times in the event loop (issue 14 put ~2.7 ms of CPU
per upload down to them): by the kernel into uvloop's read buffer, from there into a new ``bytes`` per
read, by httptools into a new ``bytes`` per body piece, and by the app into the upload's memory
spool, each piece as its own ASGI message.  Two parts here remove all but the first:

- :class:`BufferedConnection` is the protocol uvloop (or asyncio) talks to.  It is an
  ``asyncio.BufferedProtocol``: the loop reads into a buffer the protocol hands it
  (``get_buffer``), with no ``bytes`` made per read.  The HTTP work is done by the wrapped
  uvicorn protocol (``transport.GuardedHttpToolsProtocol``), which is fed a view of that buffer.
  uvloop uses the buffered interface only for a protocol that is not an ``asyncio.Protocol``,
  which uvicorn's is, hence a wrapper rather than a subclass.
- :class:`DirectBody` is offered to the app, in the request's ASGI scope under
  :data:`EXTENSION`, for a request whose length is known (one ``Content-Length``, no
  ``Transfer-Encoding``).  ``await direct.read_into(target)`` copies what httptools has already
  taken of the body into ``target`` and then has the loop read the rest of it into ``target``
  itself (``get_buffer`` returns the part still to fill), so the body reaches the spool with the
  kernel's copy alone and without one ASGI message per piece.  httptools never sees those bytes, so
  once the body is in, the connection gets a fresh parser for its next request, as if the old one
  had parsed the body to its end.

No library does this: uvicorn (like every ASGI server) hands the body over as ``bytes`` messages,
and an ASGI extension is the standard's own way to offer more (``scope["extensions"]``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect

if TYPE_CHECKING:
    import httptools

    from .transport import GuardedHttpToolsProtocol

EXTENSION = "aigc-check.direct-body"  # scope["extensions"][EXTENSION]: a DirectBody
# What the loop reads into outside direct bodies: one buffer for the whole event loop, as every
# read is handed on and copied out (httptools makes its own bytes of each header and body piece)
# before the next read is made.  A request's head is read in small reads, so that little of a
# body that will be read directly goes through httptools first (each such byte is copied twice);
# a body read as ASGI messages (multipart) in reads of uvloop's own 256 KiB (1 MiB reads measured
# slower for multipart in bench_serve.py: each piece is copied twice more, out of the cache).
HEAD_READ_BYTES = 64 * 1024
BODY_READ_BYTES = 256 * 1024
_READ_BUFFER = memoryview(bytearray(BODY_READ_BYTES))
_HEAD_READ_BUFFER = _READ_BUFFER[:HEAD_READ_BYTES]


def body_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The body's length when the request names exactly one ``Content-Length`` and no
    ``Transfer-Encoding`` (as llhttp reads it then); None otherwise."""
    lengths = [value for name, value in headers if name == b"content-length"]
    if len(lengths) != 1 or any(name == b"transfer-encoding" for name, _ in headers):
        return None
    value = lengths[0].strip()
    return int(value) if value.isdigit() else None


class DirectBody:
    """One request's body, to be read into a buffer of the app's (see the module docstring)."""

    def __init__(self, protocol: GuardedHttpToolsProtocol, length: int) -> None:
        self.protocol = protocol
        self.cycle = protocol.cycle
        self.length = length
        self.used = False
        self._target: memoryview | None = None
        self._filled = 0
        self._done: asyncio.Future[None] | None = None

    @property
    def arrived(self) -> bool:
        """Whether the whole body is already in (it came with the headers, as a small JSON reference
        does): then :meth:`read_into` copies it and returns without waiting on the loop, so a read
        deadline need not be armed (a timer is tens of microseconds a request; see ``reference.py``)."""
        cycle = self.cycle
        return not self.used and not cycle.more_body and len(cycle.body) == self.length

    async def read_into(self, target: memoryview, timeout: float | None = None) -> None:
        """Fill ``target`` (exactly ``length`` bytes) with the body; ``ClientDisconnect`` if the client
        goes away first, ``TimeoutError`` if the rest of it has not arrived within ``timeout``
        seconds.  Once only, and only before anything read the body as ASGI messages.

        Timed out or cancelled, it stops writing into ``target`` at once and the connection closes
        after the answer: the rest of the body is never parsed as a request.  The deadline is a
        timer on the future the body completes (a cancel scope around the await, as anyio's
        ``fail_after``, cost some twenty Python calls a request on the event loop)."""
        if self.used or len(target) != self.length:
            raise ValueError("read_into takes the whole body, once")
        self.used = True
        protocol, cycle = self.protocol, self.cycle
        if cycle.disconnected or cycle.response_complete:
            raise ClientDisconnect()
        # A body still to come is the one the parser is in (a request pipelined behind it cannot have
        # started); a complete one may already have a request parsed behind it.
        if cycle.waiting_for_100_continue and not protocol.transport.is_closing():
            protocol.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # as uvicorn's receive() does
            cycle.waiting_for_100_continue = False
        taken = bytes(cycle.body)  # what httptools parsed before the app asked (joined only if in pieces)
        if len(taken) > self.length:
            raise ValueError("the parser took more than the body's length")
        target[: len(taken)] = taken
        cycle.body = bytearray()
        self._filled = len(taken)
        if not cycle.more_body:  # the whole body came with the headers
            return
        loop = asyncio.get_running_loop()
        done = self._done = loop.create_future()
        self._target = target
        protocol.direct_body = self
        protocol.flow.resume_reading()
        timer = loop.call_later(timeout, self._time_out, done) if timeout is not None else None
        try:
            await done
        except BaseException:
            if self._target is not None:  # cancelled or failed mid-body: this connection carries no more requests
                protocol.abandon_body()
            raise
        finally:
            if timer is not None:
                timer.cancel()
            self._target = None
            if protocol.direct_body is self:
                protocol.direct_body = None

    # -- the protocol's side ----------------------------------------------------------------------------

    def buffer(self) -> memoryview:
        """Where the loop's next read goes: the part of the target still to fill."""
        assert self._target is not None
        return self._target[self._filled :]

    def filled(self, size: int) -> None:
        self._filled += size
        if self._filled < self.length:
            return
        self._target = None
        self.protocol.direct_body = None
        self.protocol.direct_body_complete()
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    @staticmethod
    def _time_out(done: asyncio.Future[None]) -> None:
        if not done.done():
            done.set_exception(TimeoutError("the body did not arrive within the read time limit"))

    def lost(self) -> None:
        """The connection closed mid-body."""
        if self._done is not None and not self._done.done():
            self._done.set_exception(ClientDisconnect())


def fresh_parser(protocol: Any) -> httptools.HttpRequestParser:
    """A new parser for ``protocol``'s next request, set up as uvicorn sets up its own."""
    import httptools  # here: the app imports this module also where the server runs h11, without httptools

    parser = httptools.HttpRequestParser(protocol)
    try:
        parser.set_dangerous_leniencies(lenient_data_after_close=True)
    except AttributeError:  # httptools < 0.6.3, as uvicorn allows
        pass
    return parser


class BufferedConnection(asyncio.BufferedProtocol):
    """The loop's protocol: reads land in a buffer of ours, then go to the wrapped HTTP protocol."""

    def __init__(self, inner: GuardedHttpToolsProtocol) -> None:
        self.inner = inner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.inner.connection_made(transport)  # type: ignore[arg-type]  # a stream transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def eof_received(self) -> None:
        self.inner.eof_received()  # uvicorn's keeps nothing open: the transport closes

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def get_buffer(self, sizehint: int) -> memoryview:
        direct = self.inner.direct_body
        if direct is not None:
            return direct.buffer()
        return _HEAD_READ_BUFFER if self.inner.awaiting_headers else _READ_BUFFER

    def buffer_updated(self, nbytes: int) -> None:
        direct = self.inner.direct_body
        if direct is not None:
            direct.filled(nbytes)
            return
        self.inner.data_received(_READ_BUFFER[:nbytes])  # type: ignore[arg-type]  # any buffer does; both start here
