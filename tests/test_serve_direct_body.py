"""Raw uploads read straight into their spool (``service/direct_body.py``), over real loopback HTTP.

The event loop reads such a body into the upload's memory spool without httptools seeing it, then
gives the connection a fresh parser: so what must hold is that the worker checks exactly the bytes
sent, however they arrive (with the headers, in dribbles, after ``Expect: 100-continue``), that the
connection's next request (kept alive, or pipelined right behind the body) is parsed from its first
byte, and that a body abandoned midway (the read deadline, the client leaving) is never parsed as a
request and leaves the service as it was.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from conftest import FIXTURES
from serve_helpers import (
    ServerProcess,
    connect,
    expected_answer,
    health,
    metric_value,
    post_raw,
    query,
    read_answer,
    read_until_closed,
    request,
)
from serve_helpers import without_timing as untimed

from aigc_check.service.direct_body import body_length

NAMES = ["gb-jpeg-xmp-element.jpg", "camera-canon.jpg", "c2pa-ai-created.png", "gb-png-itxt.png"]
READ_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server():
    with ServerProcess(["--workers", "1", "--read-timeout", str(READ_TIMEOUT)]) as s:
        yield s


def open_socket(server, timeout: float = 10) -> socket.socket:
    parts = urlsplit(server.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=timeout)


def raw_head(name: str, length: int, extra: bytes = b"") -> bytes:
    return (
        b"POST /v1/check?declared=none&name=%s HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
        b"Content-Length: %d\r\n%s\r\n" % (name.encode(), length, extra)
    )


def checked(body: bytes) -> dict:
    import json

    return untimed(json.loads(body))


def test_answers_on_one_kept_alive_connection_are_the_checks(server):
    """Each upload after the first is parsed by the fresh parser the direct read leaves behind."""
    conn = connect(server.url)
    try:
        for _ in range(2):
            for name in NAMES:
                data = (FIXTURES / name).read_bytes()
                answer = post_raw(server.url, data, "image/jpeg", query(name=name), conn=conn)
                assert answer.status == 200 and untimed(answer.json) == expected_answer(FIXTURES / name)
            assert request(server.url, "GET", "/healthz", conn=conn).status == 200
    finally:
        conn.close()


def test_a_body_in_dribbles_is_the_same_bytes(server):
    data = (FIXTURES / "gb-jpeg-xmp-element.jpg").read_bytes()
    with open_socket(server) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(raw_head("gb-jpeg-xmp-element.jpg", len(data)))
        time.sleep(0.05)  # the head on its own: the app asks for the body before any of it is in
        for i in range(0, len(data), 997):
            sock.sendall(data[i : i + 997])
            time.sleep(0.001)
        head, body, _ = read_answer(sock)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert checked(body) == expected_answer(FIXTURES / "gb-jpeg-xmp-element.jpg")


def test_a_request_pipelined_behind_the_body_is_answered_next(server):
    """The body and the next request in one write: the loop reads the body's bytes exactly, so the
    next request starts at its own first byte."""
    data = (FIXTURES / "camera-canon.jpg").read_bytes()
    with open_socket(server) as sock:
        pipelined = raw_head("camera-canon.jpg", len(data)) + data + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        sock.sendall(pipelined)
        head, body, rest = read_answer(sock)
        assert head.startswith(b"HTTP/1.1 200 ")
        assert checked(body) == expected_answer(FIXTURES / "camera-canon.jpg")
        head, body, _ = read_answer(sock, rest)
        assert head.startswith(b"HTTP/1.1 200 ") and b'"status":"ok"' in body.replace(b" ", b"")


def test_expect_100_continue_gets_its_interim_answer(server):
    data = (FIXTURES / "gb-png-itxt.png").read_bytes()
    with open_socket(server) as sock:
        sock.sendall(raw_head("gb-png-itxt.png", len(data), b"Expect: 100-continue\r\n"))
        interim = b""
        while b"\r\n\r\n" not in interim:
            chunk = sock.recv(4096)
            assert chunk, "closed before 100 Continue"
            interim += chunk
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(data)
        head, body, _ = read_answer(sock, interim.partition(b"\r\n\r\n")[2])
    assert head.startswith(b"HTTP/1.1 200 ")
    assert checked(body) == expected_answer(FIXTURES / "gb-png-itxt.png")


def test_a_body_stalled_midway_gets_408_and_its_rest_is_never_parsed(server):
    """Half the body, a stall past --read-timeout, then bytes that would be a request: the 408
    closes the connection, and nothing after it is answered."""
    data = (FIXTURES / "camera-canon.jpg").read_bytes()
    half = len(data) // 2
    with open_socket(server) as sock:
        sock.sendall(raw_head("camera-canon.jpg", len(data)) + data[:half])
        time.sleep(READ_TIMEOUT + 0.3)
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 4)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 408 ") and b'"upload-timeout"' in reply
    assert reply.count(b"HTTP/1.1 ") == 1, reply
    assert health(server.url)["in_flight"] == 0
    answer = post_raw(server.url, data, "image/jpeg", query(name="camera-canon.jpg"))
    assert untimed(answer.json) == expected_answer(FIXTURES / "camera-canon.jpg")


def _reference_head(length: int) -> bytes:
    return (
        b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length
    )


def test_a_reference_after_its_headers_is_read_then_refused(server):
    """A JSON reference whose body comes after a pause is read whole (this server allows no root: 403)."""
    body = b'{"path": "/srv/a.jpg", "declared": "none"}'
    with open_socket(server) as sock:
        sock.sendall(_reference_head(len(body)) + body[:5])
        time.sleep(READ_TIMEOUT / 3)
        sock.sendall(body[5:])
        head, answer, _ = read_answer(sock)
    assert head.startswith(b"HTTP/1.1 403 ") and b'"path-not-allowed"' in answer


def test_a_reference_stalled_midway_gets_408(server):
    body = b'{"path": "/srv/a.jpg", "declared": "none"}'
    with open_socket(server) as sock:
        sock.sendall(_reference_head(len(body)) + body[:5])
        time.sleep(READ_TIMEOUT + 0.3)
        reply = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 408 ") and b'"upload-timeout"' in reply
    assert health(server.url)["in_flight"] == 0


def test_a_client_that_leaves_midway_frees_its_request(server):
    before = metric_value(request(server.url, "GET", "/metrics").body.decode(), _errors("client-disconnected"))
    data = (FIXTURES / "gb-jpeg-xmp-element.jpg").read_bytes()
    with open_socket(server) as sock:
        sock.sendall(raw_head("gb-jpeg-xmp-element.jpg", len(data) + 100_000) + data)
        time.sleep(0.1)
    assert _wait(lambda: health(server.url)["in_flight"] == 0)
    after = metric_value(request(server.url, "GET", "/metrics").body.decode(), _errors("client-disconnected"))
    assert after == before + 1
    answer = post_raw(server.url, data, "image/jpeg", query(name="gb-jpeg-xmp-element.jpg"))
    assert untimed(answer.json) == expected_answer(FIXTURES / "gb-jpeg-xmp-element.jpg")


def _errors(code: str) -> str:
    return f'aigc_check_errors_total{{code="{code}"}}'


def _wait(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(
    ("headers", "length"),
    [
        ([(b"content-length", b"10")], 10),
        ([(b"content-length", b" 7 ")], 7),
        ([(b"content-length", b"0")], 0),
        ([], None),
        ([(b"content-length", b"10"), (b"content-length", b"10")], None),  # two: not ours to choose
        ([(b"content-length", b"10"), (b"transfer-encoding", b"chunked")], None),
        ([(b"content-length", b"-1")], None),
        ([(b"content-length", b"1e3")], None),
    ],
)
def test_only_a_single_plain_content_length_is_read_directly(headers, length):
    assert body_length(headers) == length
