"""Helpers for the service tests: a real server on a loopback port, a tiny HTTP client, expected answers."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

pytest.importorskip("starlette", reason="the serve extra is not installed: pip install '.[serve]'")

from aigc_check import Checker
from aigc_check.service.launch import ServerProcess, wait_until

TIMING_KEYS = ("elapsed_ms",)


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


def connect(url: str, timeout: float = 30) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def request(
    url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> Answer:
    own = conn is None
    conn = conn or connect(url)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        if own:
            conn.close()


def multipart_body(
    fields: dict[str, str], file: tuple[str, bytes] | None = None, file_field: str = "file"
) -> tuple[bytes, str]:
    boundary = "test" + os.urandom(8).hex()
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    if file is not None:
        filename, data = file
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def post_multipart(url: str, path: Path, declared: str | None = "none", **kw) -> Answer:
    fields = {"declared": declared} if declared is not None else {}
    body, content_type = multipart_body(fields, (path.name, path.read_bytes()))
    return request(url, "POST", "/v1/check", body, {"Content-Type": content_type}, **kw)


def post_raw(
    url: str, data: bytes, content_type: str | None = "application/octet-stream", query: str = "", **kw
) -> Answer:
    headers = {"Content-Type": content_type} if content_type else {}
    return request(url, "POST", "/v1/check" + (f"?{query}" if query else ""), data, headers, **kw)


@cache
def _checker() -> Checker:
    return Checker()


def expected_answer(path: Path, declared: str = "none", name: str | None = None) -> dict:
    """What ``check --format json`` says about the same file, without the timing."""
    return without_timing(_checker().check(path, declared, name=name or path.name).to_dict())


def without_timing(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k not in TIMING_KEYS}


def metric_value(text: str, name: str) -> float:
    """The value of one sample (``name`` with its labels, as exposed) in Prometheus text; 0 if absent."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def health(url: str) -> dict:
    return request(url, "GET", "/healthz").json


def query(**params: str) -> str:
    return "&".join(f"{k}={quote(v)}" for k, v in params.items())


__all__ = [
    "Answer",
    "ServerProcess",
    "connect",
    "expected_answer",
    "health",
    "metric_value",
    "multipart_body",
    "post_multipart",
    "post_raw",
    "query",
    "request",
    "wait_until",
    "without_timing",
]


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes, a reset counted as the close (the socket's
    timeout bounds the wait)."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def read_answer(sock: socket.socket, data: bytes = b"") -> tuple[bytes, bytes, bytes]:
    """One answer with a Content-Length body: (head, body, what followed it)."""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before the answer's headers: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed inside the answer's body"
        rest += chunk
    return head, rest[:length], rest[length:]
