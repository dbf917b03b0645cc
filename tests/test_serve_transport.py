"""``aigc-check serve``'s transport limits over real loopback HTTP: the header size cap, the header
deadline, the connection limit, the keep-alive idle close, an unread body, and the access log.

Small limits keep every test under a few seconds; each connection is bounded by a socket timeout.
"""

from __future__ import annotations

import json
import re
import socket
import time
from contextlib import ExitStack
from urllib.parse import urlsplit

import pytest
from serve_helpers import ServerProcess, health, metric_value, read_answer, read_until_closed, request, wait_until

from aigc_check.errors import UsageError
from aigc_check.service.config import ServeConfig
from aigc_check.service.server import fd_budget

MAX_HEADER_BYTES = 2048
HEADER_TIMEOUT = 0.5
KEEP_ALIVE = 1.0
ACCESS_LINE = re.compile(
    r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?P<client>127\.0\.0\.1:\d+) "(?P<request>[^"]*)" '
    r"(?P<status>\d{3}) (?P<bytes>\d+) (?P<ms>\d+\.\d\d)ms$"
)


@pytest.fixture(scope="module")
def limited():
    """Small header cap and deadline, a 1 s keep-alive, the access log on."""
    args = ["--workers", "1", "--max-header-bytes", "2K", "--header-timeout", str(HEADER_TIMEOUT)]
    with ServerProcess([*args, "--keep-alive-timeout", str(KEEP_ALIVE), "--access-log"]) as s:
        yield s


@pytest.fixture(scope="module")
def few_connections():
    """At most 4 connections, set through the environment (as a container would)."""
    env = {"AIGC_SERVE_MAX_CONNECTIONS": "4", "AIGC_SERVE_HEADER_TIMEOUT": "30"}
    with ServerProcess(["--workers", "1"], env=env) as s:
        yield s


def address(server) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname == "127.0.0.1" and parts.port
    return parts.hostname, parts.port


def open_socket(server, timeout: float = 10) -> socket.socket:
    return socket.create_connection(address(server), timeout=timeout)


def read_one_answer(sock: socket.socket) -> bytes:
    """One answer with a Content-Length body, leaving the connection open."""
    head, body, _ = read_answer(sock)
    return head + b"\r\n\r\n" + body


def assert_json_error(reply: bytes, status: int, code: str) -> bytes:
    """The service's JSON error with ``Connection: close``; returns the head, lower-cased."""
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), reply
    head = head.lower()
    assert b"content-type: application/json" in head and b"connection: close" in head
    assert int(re.search(rb"content-length: *(\d+)", head).group(1)) == len(body)
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"]
    return head


def access_lines(server) -> list[re.Match]:
    return [m for line in list(server.log) if (m := ACCESS_LINE.match(line))]


GET = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"

# -- header size ----------------------------------------------------------------------------------------


def test_headers_within_the_cap_are_served(limited):
    with open_socket(limited) as sock:
        sock.sendall(GET + b"X-Padding: " + b"a" * (MAX_HEADER_BYTES - 200) + b"\r\n\r\n")
        assert read_one_answer(sock).startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize("shape", ["many-fields", "one-long-field", "long-url"])
def test_oversized_headers_get_431_and_the_connection_closes(limited, shape):
    if shape == "many-fields":
        request_bytes = GET + b"".join(b"X-Field-%d: %s\r\n" % (i, b"v" * 50) for i in range(60)) + b"\r\n"
    elif shape == "one-long-field":
        request_bytes = GET + b"X-Long: " + b"a" * (2 * MAX_HEADER_BYTES) + b"\r\n\r\n"
    else:
        request_bytes = b"GET /healthz?" + b"q" * (2 * MAX_HEADER_BYTES) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    with open_socket(limited) as sock:
        sock.sendall(request_bytes)
        reply = read_until_closed(sock)  # returns only because the server closes
    assert_json_error(reply, 431, "headers-too-large")


def test_a_header_line_that_never_ends_is_cut_at_the_cap(limited):
    """The attack that grew the process past 1 GB: the parser buffers an unfinished header line."""
    with open_socket(limited) as sock:
        sock.sendall(GET + b"X-Endless: ")
        sent = 0
        while sent < 64 * MAX_HEADER_BYTES:
            try:
                sock.sendall(b"a" * 256)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 256
            if _ready(sock):  # answered: stop writing, as a client would
                break
        reply = read_until_closed(sock)
    assert sent <= 4 * MAX_HEADER_BYTES  # answered at the cap, not after 128 KiB
    if reply:  # a reset can overtake the answer when the client is still writing
        assert_json_error(reply, 431, "headers-too-large")


def _ready(sock: socket.socket) -> bool:
    import select

    return bool(select.select([sock], [], [], 0.01)[0])


# -- header deadline ---------------------------------------------------------------------------------------


def test_trickled_headers_get_408_at_the_deadline(limited):
    """A slowloris: one header byte every 50 ms, never finishing; the deadline closes it."""
    started = time.monotonic()
    with open_socket(limited) as sock:
        sock.sendall(GET + b"X-Slow: ")
        reply = b""
        for _ in range(200):  # 10 s at most
            try:
                sock.sendall(b"a")
            except (BrokenPipeError, ConnectionResetError):
                break
            if _ready(sock):
                break
            time.sleep(0.05)
        reply = read_until_closed(sock)
    elapsed = time.monotonic() - started
    assert_json_error(reply, 408, "header-timeout")
    assert HEADER_TIMEOUT - 0.05 < elapsed < HEADER_TIMEOUT + 2


def test_a_silent_connection_gets_408_at_the_deadline(limited):
    started = time.monotonic()
    with open_socket(limited) as sock:
        reply = read_until_closed(sock)
    assert_json_error(reply, 408, "header-timeout")
    assert HEADER_TIMEOUT - 0.05 < time.monotonic() - started < HEADER_TIMEOUT + 2


def test_blank_lines_after_an_answer_do_not_hold_the_connection(limited):
    """CRLF between requests is allowed and cancels the keep-alive timer; the header clock still runs."""
    with open_socket(limited) as sock:
        sock.sendall(GET + b"\r\n")
        assert read_one_answer(sock).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        for _ in range(100):  # every 0.1 s: more often than the 1 s keep-alive timeout
            try:
                sock.sendall(b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            if _ready(sock):
                break
            time.sleep(0.1)
        reply = read_until_closed(sock)
    assert_json_error(reply, 408, "header-timeout")
    assert time.monotonic() - started < HEADER_TIMEOUT + 2


def test_a_request_sent_in_pieces_within_the_deadline_is_served(limited):
    with open_socket(limited) as sock:
        for piece in (b"GET /heal", b"thz HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"):
            sock.sendall(piece)
            time.sleep(HEADER_TIMEOUT / 10)
        assert read_one_answer(sock).startswith(b"HTTP/1.1 200 ")


def test_a_malformed_request_gets_the_json_400(limited):
    with open_socket(limited) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        reply = read_until_closed(sock)
    assert_json_error(reply, 400, "bad-http")


# -- keep-alive -----------------------------------------------------------------------------------------


def test_keep_alive_connection_is_reused_then_closed_when_idle(limited):
    with open_socket(limited) as sock:
        for _ in range(3):  # one connection, several requests
            sock.sendall(GET + b"\r\n")
            assert read_one_answer(sock).startswith(b"HTTP/1.1 200 ")
        idle_from = time.monotonic()
        assert sock.recv(1) == b""  # the server closes; the socket's 10 s timeout bounds the wait
    assert KEEP_ALIVE - 0.1 < time.monotonic() - idle_from < KEEP_ALIVE + 2


def test_an_answer_before_the_body_ends_closes_the_connection(limited):
    """A body nobody reads (405 here) must not keep the connection open while it trickles in."""
    started = time.monotonic()
    with open_socket(limited) as sock:
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nab")
        reply = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 405 ")
    assert time.monotonic() - started < KEEP_ALIVE  # closed at once, not after the keep-alive timeout


# -- connection limit -------------------------------------------------------------------------------------


def test_connections_beyond_the_limit_are_refused_at_once(few_connections):
    with ExitStack() as held:
        socks = [held.enter_context(open_socket(few_connections)) for _ in range(4)]
        for sock in socks:  # half a request each: the server holds them, waiting for the rest
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        started = time.monotonic()
        with open_socket(few_connections) as extra:
            reply = read_until_closed(extra)
        assert time.monotonic() - started < 2
        head = assert_json_error(reply, 503, "too-many-connections")
        assert b"retry-after: 1" in head
        # The held connections still work, and once one goes a new one is let in.
        socks[0].sendall(b"Host: x\r\n\r\n")
        assert read_one_answer(socks[0]).startswith(b"HTTP/1.1 200 ")
        socks[1].close()

        def admitted() -> bool:
            try:
                return request(few_connections.url, "GET", "/healthz").status == 200
            except OSError:
                return False

        assert wait_until(admitted, timeout=5)
    answer = request(few_connections.url, "GET", "/metrics").body.decode()
    assert metric_value(answer, 'aigc_check_errors_total{code="too-many-connections"}') >= 1
    assert metric_value(answer, "aigc_check_connections") >= 1


def test_the_limit_counts_connections_not_requests(few_connections):
    """Many requests one after another, each on its own connection, are never refused."""
    for _ in range(20):
        assert health(few_connections.url)["status"] == "ok"


# -- access log ---------------------------------------------------------------------------------------------


def test_access_log_has_one_line_per_request(limited):
    before = len(access_lines(limited))
    assert request(limited.url, "GET", "/healthz").status == 200
    assert request(limited.url, "GET", "/no-such-page").status == 404
    assert request(limited.url, "POST", "/v1/check", b"{}", {"Content-Type": "text/plain"}).status == 415
    with open_socket(limited) as sock:  # answered by the transport: logged too
        sock.sendall(GET + b"X-Long: " + b"a" * (2 * MAX_HEADER_BYTES) + b"\r\n\r\n")
        read_until_closed(sock)
    with open_socket(limited) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        read_until_closed(sock)
    assert wait_until(lambda: len(access_lines(limited)) >= before + 5, timeout=5)
    lines = access_lines(limited)[before:]
    seen = {(m["request"], m["status"]) for m in lines}
    expected = {("GET /healthz", "200"), ("GET /no-such-page", "404"), ("POST /v1/check", "415"), ("-", "431")}
    assert expected | {("-", "400")} <= seen
    for m in lines:
        assert int(m["bytes"]) > 0 and float(m["ms"]) >= 0
    health_line = next(m for m in lines if m["request"] == "GET /healthz")
    assert int(health_line["bytes"]) == len(request(limited.url, "GET", "/healthz").body)


def test_access_log_path_cannot_forge_a_line(limited):
    before = len(access_lines(limited))
    request(limited.url, "GET", '/x%0A2025-01-01T00:00:00.000Z%20"GET%20/"%20200')
    # Other tests' connections may end meanwhile and log their own lines: wait for this request's.

    def own() -> list[re.Match]:
        return [m for m in access_lines(limited)[before:] if m["request"].startswith("GET /x")]

    assert wait_until(lambda: own(), timeout=5)
    lines = access_lines(limited)[before:]
    (line,) = own()
    assert line["status"] == "404" and " " not in line["request"].split(" ", 1)[1]
    assert not [m for m in lines if m["request"] == "GET /"], "the path forged a line of its own"


def test_no_access_lines_without_the_flag(few_connections):
    for path in ("/healthz", "/metrics", "/nothing"):
        request(few_connections.url, "GET", path)
    time.sleep(0.2)
    assert access_lines(few_connections) == []
    assert not any("/healthz" in line for line in few_connections.log)


# -- options ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [("max_header_bytes", 100), ("header_timeout", 0), ("keep_alive_timeout", -1), ("max_connections", 0)],
)
def test_bad_transport_options_are_usage_errors(field, value):
    with pytest.raises(UsageError):
        ServeConfig(**{field: value})


def test_fd_budget_raises_the_soft_limit_and_caps_connections():
    config = ServeConfig(max_connections=1000, workers=2, queue=32)
    soft, fits = fd_budget(config, 1024, 100_000)
    assert soft > 1000 + 2 * config.capacity and fits == 1000  # a connection: 1; an upload in memory: 2
    soft, fits = fd_budget(config, 256, 512)  # the hard limit is too low: fewer connections, not a failure
    assert soft == 512 and 0 < fits < 512
    assert fd_budget(config, -1, -1) == (-1, 1000)  # unlimited
