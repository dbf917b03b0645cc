"""``serve --access-log``: one line per request on stderr.

    2025-01-31T12:00:00.123Z 127.0.0.1:50412 "POST /v1/check" 200 1834 4.21ms

UTC time the answer went out, the client, the method and path (as sent, without the query
string: it carries the clients' file names), the status, the bytes of the answer's body and
the time from the request's headers to the end of its answer.  Requests the transport answers
itself (431, 408 and the 503 of the connection limit, see ``transport``) are logged too, with
``"-"`` for the request and the time since the connection or the request began.

Written straight to the stream, not through :mod:`logging`: Uvicorn's access log goes to stdout
at the info level, which the service's warning level drops, and has neither bytes nor time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, TextIO
from urllib.parse import quote

# Printable ASCII but the space, '"' and '\\', so a path cannot break the line or forge another one.
_PATH_SAFE = "/!$&'()*+,;=:@-._~%"


def request_text(scope: Mapping[str, Any]) -> str:
    raw = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    return f"{scope.get('method', '-')} {quote(raw, safe=_PATH_SAFE)}"


def client_text(client: Sequence[Any] | None) -> str:
    if not client:
        return "-"
    host, port = client[0], client[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def format_line(client: str, request: str, status: int, size: int, seconds: float, now: float) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
    return f'{stamp}.{int(now * 1000) % 1000:03d}Z {client} "{request}" {status} {size} {seconds * 1000:.2f}ms'


class AccessLog:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def write(self, client: str, request: str, status: int, size: int, seconds: float) -> None:
        stream = self.stream or sys.stderr
        try:
            stream.write(format_line(client, request, status, size, seconds, time.time()) + "\n")
            stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: the request is not the one to pay for it
            pass
