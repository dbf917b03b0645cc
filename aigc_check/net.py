"""Bounded HTTP(S) GETs for what the user allowed to come from the network (remote C2PA manifests,
a refreshed trust list): one total deadline, a byte cap, http and https only.

The standard library's ``http.client`` does the HTTP.  What it lacks is written here: a *total*
deadline (its timeout bounds each socket operation, so a server that drips a byte a second, in the
headers or the body, never times out: a timer closes the socket when the deadline passes), and a
size cap that stops reading rather than one checked after the whole body is in memory.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from .errors import AigcCheckError

_CHUNK = 64 * 1024
_SCHEMES = ("http", "https")
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(AigcCheckError):
    """A fetch that did not give the whole answer: ``code`` says why (``timeout``, ``too-large``,
    ``http-404`` and the like, ``unreachable``, ``bad-url``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class FetchLimits:
    timeout: float  # seconds for the whole answer, connection and redirects included
    max_bytes: int


def fetch(url: str, limits: FetchLimits, user_agent: str = "aigc-check") -> bytes:
    """The body of ``url`` (redirects followed, at most ``MAX_REDIRECTS``), or :class:`FetchError`."""
    deadline = time.monotonic() + limits.timeout
    for _ in range(MAX_REDIRECTS + 1):
        status, location, body = _get_once(url, limits, deadline, user_agent)
        if location is None:
            if status != 200:
                raise FetchError(f"http-{status}", f"{url} answered HTTP {status}")
            return body
        url = urljoin(url, location)
    raise FetchError("unreachable", f"more than {MAX_REDIRECTS} redirects")


def _get_once(url: str, limits: FetchLimits, deadline: float, user_agent: str) -> tuple[int, str | None, bytes]:
    # Imported at the first fetch: http.client (with email's parser) and ssl are a tenth of the
    # command's start-up, and a check or a scan without network access never fetches.
    import http.client
    import socket
    import ssl

    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise FetchError("bad-url", f"{url} is not an http(s) URL")
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("timeout", f"{url} did not answer within {limits.timeout:g} s")
    conn: http.client.HTTPConnection
    try:
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=left, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=left)
    except ValueError as exc:  # a port that is not a number
        raise FetchError("bad-url", f"{url}: {exc}") from exc
    expired = threading.Event()
    # The socket, kept here: http.client hands it to the response and forgets it when the answer
    # has no length (read to the close), and the timer must still reach it.
    connected: list[socket.socket] = []

    def close_at_deadline() -> None:
        expired.set()
        for sock in connected:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(left, close_at_deadline)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.connect()  # bounded by the socket timeout (what is left of the deadline)
        if conn.sock is not None:
            connected.append(conn.sock)
        if expired.is_set():
            raise FetchError("timeout", f"{url} did not answer within {limits.timeout:g} s")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", path, headers={"User-Agent": user_agent, "Accept-Encoding": "identity"})
        answer = conn.getresponse()
        if answer.status in _REDIRECTS:
            return answer.status, answer.getheader("Location") or "", b""
        if answer.status != 200:
            return answer.status, None, b""
        declared = answer.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > limits.max_bytes:
            raise FetchError("too-large", f"{url} answers {declared} bytes, more than {limits.max_bytes}")
        body = bytearray()
        while chunk := answer.read1(_CHUNK):
            body += chunk
            if len(body) > limits.max_bytes:
                raise FetchError("too-large", f"{url} answers more than {limits.max_bytes} bytes")
        if expired.is_set():  # the socket was shut in the middle of the body: what came is not all
            raise FetchError("timeout", f"{url} did not answer within {limits.timeout:g} s")
        return answer.status, None, bytes(body)
    except FetchError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise FetchError("timeout", f"{url} did not answer within {limits.timeout:g} s") from exc
        raise FetchError("unreachable", f"{url} could not be fetched: {exc}") from exc
    finally:
        watchdog.cancel()
        conn.close()
