"""``aigc-check serve`` over real HTTP on a loopback port: every endpoint, every limit, concurrency."""

from __future__ import annotations

import re
import select
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import FIXTURES
from serve_helpers import (
    ServerProcess,
    expected_answer,
    health,
    metric_value,
    multipart_body,
    post_multipart,
    post_raw,
    query,
    read_until_closed,
    request,
    wait_until,
    without_timing,
)

MAX_BYTES = 256 * 1024
SAMPLE = [
    "gb-jpeg-xmp-element.jpg",
    "camera-canon.jpg",
    "c2pa-ai-created.png",
    "c2pa-capture.jpg",
    "gb-png-itxt.png",
    "c2pa-ai-created.webp",
    "broken-random.png",
    "broken-truncated-in-app1.jpg",
]


@pytest.fixture(scope="module")
def spool_parent(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("spool")


@pytest.fixture(scope="module")
def server(spool_parent):
    with ServerProcess(
        ["--workers", "2", "--queue", "16", "--max-bytes", str(MAX_BYTES), "--tmp-dir", str(spool_parent)]
    ) as s:
        yield s
    assert list(spool_parent.iterdir()) == [], "the private upload folder must be gone after shutdown"


@pytest.fixture(scope="module")
def tight_server():
    """One worker, no queue, a 50 ms check limit and a 1 s upload limit: for timeouts and back-pressure."""
    with ServerProcess(["--workers", "1", "--queue", "0", "--timeout", "0.05", "--read-timeout", "1"]) as s:
        yield s


@pytest.fixture(scope="module")
def slow_png(tmp_path_factory) -> Path:
    """A genuinely slow input: a 4000x4000 RGBA PNG (70 KB) makes the checker decode 64 MB of pixels
    for the stealth-pnginfo check (~130 ms on an idle core)."""
    from PIL import Image

    path = tmp_path_factory.mktemp("slow") / "big-alpha.png"
    Image.new("RGBA", (4000, 4000), (10, 20, 30, 255)).save(path, "PNG")
    return path


def assert_error(answer, status: int, code: str) -> dict:
    assert answer.status == status, answer.body
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json["error"]
    assert error["code"] == code and error["message"]
    return error


def spooled_files(spool_parent: Path) -> list[Path]:
    return [f for d in spool_parent.iterdir() for f in d.iterdir()]


# -- answers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE)
@pytest.mark.parametrize("declared", ["none", "ai", "not-ai"])
def test_multipart_answer_is_the_check_json(server, name, declared):
    answer = post_multipart(server.url, FIXTURES / name, declared)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert without_timing(answer.json) == expected_answer(FIXTURES / name, declared)
    assert re.fullmatch(r"upload;dur=[\d.]+, check;dur=[\d.]+, total;dur=[\d.]+", answer.headers["server-timing"])


def test_raw_body_with_query_parameters(server):
    path = FIXTURES / "gb-jpeg-xmp-element.jpg"
    answer = post_raw(server.url, path.read_bytes(), "image/jpeg", query(declared="not-ai", name="dir/photo 1.jpg"))
    assert answer.status == 200
    # The client's name is shown without its folders; the content decides the type, not the header.
    assert without_timing(answer.json) == expected_answer(path, "not-ai", name="photo 1.jpg")


def test_raw_body_without_content_type_is_octet_stream(server):
    path = FIXTURES / "gen-a1111-parameters.png"
    answer = post_raw(server.url, path.read_bytes(), None, query(name=path.name))
    assert answer.status == 200
    assert without_timing(answer.json) == expected_answer(path)


def test_form_declared_wins_over_query(server):
    path = FIXTURES / "gb-png-itxt.png"
    body, content_type = multipart_body({"declared": "ai"}, (path.name, path.read_bytes()))
    answer = request(server.url, "POST", "/v1/check?declared=not-ai", body, {"Content-Type": content_type})
    assert without_timing(answer.json) == expected_answer(path, "ai")


@pytest.mark.parametrize("name", ["broken-random.png", "broken-text.jpg", "broken-truncated-in-ihdr.png"])
def test_corrupt_media_gets_a_verdict(server, name):
    answer = post_multipart(server.url, FIXTURES / name)
    assert answer.status == 200
    assert answer.json["verdict"] == "unreadable"
    assert without_timing(answer.json) == expected_answer(FIXTURES / name)


def test_empty_file_is_unreadable_not_an_error(server):
    raw = post_raw(server.url, b"", "image/jpeg", query(name="empty.jpg"))
    form = post_multipart(server.url, FIXTURES / "broken-empty.jpg")
    for answer, name in ((raw, "empty.jpg"), (form, "broken-empty.jpg")):
        assert answer.status == 200
        assert answer.json["verdict"] == "unreadable" and answer.json["errors"][0]["code"] == "empty"
        assert without_timing(answer.json) == expected_answer(FIXTURES / "broken-empty.jpg", name=name)


# -- bad requests -------------------------------------------------------------------------------------


def test_missing_file_field(server):
    body, content_type = multipart_body({"declared": "none"})
    assert_error(request(server.url, "POST", "/v1/check", body, {"Content-Type": content_type}), 400, "missing-file")
    body, content_type = multipart_body({}, ("photo.jpg", b"\xff\xd8"), file_field="upload")
    assert_error(request(server.url, "POST", "/v1/check", body, {"Content-Type": content_type}), 400, "missing-file")


def test_no_file_chosen_in_a_browser_form(server):
    body, content_type = multipart_body({"declared": "none"}, ("", b""))
    assert_error(request(server.url, "POST", "/v1/check", body, {"Content-Type": content_type}), 400, "missing-file")


def test_bad_declared(server):
    data = (FIXTURES / "camera-canon.jpg").read_bytes()
    error = assert_error(post_raw(server.url, data, "image/jpeg", query(declared="maybe")), 400, "bad-declared")
    assert "maybe" in error["message"]
    body, content_type = multipart_body({"declared": "yes"}, ("a.jpg", data))
    assert_error(request(server.url, "POST", "/v1/check", body, {"Content-Type": content_type}), 400, "bad-declared")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_wrong_content_type(server, content_type):
    answer = post_raw(server.url, b'{"path": "/etc/passwd"}', content_type)
    error = assert_error(answer, 415, "unsupported-content-type")
    assert "multipart/form-data" in error["message"]


def test_malformed_multipart(server):
    answer = request(
        server.url,
        "POST",
        "/v1/check",
        b"--x\r\nnot a header line\r\n\r\n",
        {"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert answer.status == 400 and answer.json["error"]["code"] in ("bad-multipart", "missing-file")
    answer = request(server.url, "POST", "/v1/check", b"", {"Content-Type": "multipart/form-data"})
    assert_error(answer, 400, "bad-request")


def test_unknown_route_and_method(server):
    assert_error(request(server.url, "GET", "/v2/check"), 404, "not-found")
    assert_error(request(server.url, "GET", "/v1/check"), 405, "method-not-allowed")


# -- size limit -----------------------------------------------------------------------------------------


def announce_body(server, content_type: bytes, length: int) -> bytes:
    """Send only the headers of an upload of ``length`` bytes and read the answer.

    Sending no body also keeps the test clear of the reset a client gets when it writes
    to a connection the server has closed."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (content_type, length)
        )
        return read_until_closed(sock)


def test_oversize_by_content_length_is_refused_before_the_body(server):
    reply = announce_body(server, b"image/jpeg", MAX_BYTES + 1)  # answered although no byte of the body came
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert b'"too-large"' in reply and b"connection: close" in reply.lower()


def test_oversize_without_content_length_is_cut_while_streaming(server, spool_parent):
    """Chunked upload (no Content-Length): the 413 comes once the limit is passed, not at the end.

    The client stops sending as soon as the answer is there (a client that keeps writing to a
    closed connection gets a reset instead, as with any HTTP server)."""
    parts = urlsplit(server.url)
    chunk = b"\xff" * 65536
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        for _ in range(64):  # 4 MB at most; the limit is 256 KB
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            if select.select([sock], [], [], 0.5)[0]:
                break
        reply = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 413 ") and b'"too-large"' in reply
    assert sent <= MAX_BYTES + 2 * len(chunk)
    assert wait_until(lambda: spooled_files(spool_parent) == [], timeout=5)


def test_oversize_multipart(server):
    reply = announce_body(server, b"multipart/form-data; boundary=x", MAX_BYTES + 128 * 1024)
    assert reply.startswith(b"HTTP/1.1 413 ") and b'"too-large"' in reply


def test_file_at_the_limit_is_accepted(server):
    data = (FIXTURES / "camera-canon.jpg").read_bytes()
    data += b"\0" * (MAX_BYTES - len(data))
    answer = post_raw(server.url, data, "image/jpeg")
    assert answer.status == 200 and answer.json["size"] == MAX_BYTES


# -- concurrency, health, metrics, files left ---------------------------------------------------------


def test_concurrent_requests_each_get_their_own_answer(server):
    names = sorted(p.name for p in FIXTURES.iterdir() if p.stat().st_size <= MAX_BYTES)
    declared = ["none", "ai", "not-ai"]
    jobs = [(name, declared[i % 3]) for i, name in enumerate(names)]

    def one(job):
        name, decl = job
        return job, post_multipart(server.url, FIXTURES / name, decl)

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(one, jobs))
    for (name, decl), answer in answers:
        assert answer.status == 200, (name, answer.body)
        assert without_timing(answer.json) == expected_answer(FIXTURES / name, decl), name


def test_healthz(server):
    answer = request(server.url, "GET", "/healthz")
    assert answer.status == 200
    body = answer.json
    assert body["status"] == "ok"
    assert body["workers"]["size"] == 2 and body["workers"]["alive"] == 2
    assert body["capacity"] == 18


def test_metrics_count_requests_verdicts_errors_and_latency(server):
    before = request(server.url, "GET", "/metrics").body.decode()
    post_multipart(server.url, FIXTURES / "gb-jpeg-xmp-element.jpg", "none")  # unlabelled-ai
    post_raw(server.url, b"{}", "text/plain")  # 415
    answer = request(server.url, "GET", "/metrics")
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/plain")
    after = answer.body.decode()

    def delta(sample):
        return metric_value(after, sample) - metric_value(before, sample)

    assert delta('aigc_check_requests_total{endpoint="/v1/check",status="200"}') == 1
    assert delta('aigc_check_requests_total{endpoint="/v1/check",status="415"}') == 1
    assert delta('aigc_check_verdicts_total{verdict="unlabelled-ai"}') == 1
    assert delta('aigc_check_errors_total{code="unsupported-content-type"}') == 1
    assert delta('aigc_check_request_duration_seconds_count{endpoint="/v1/check"}') == 2
    assert delta("aigc_check_check_duration_seconds_count") == 1
    assert metric_value(after, 'aigc_check_workers{state="alive"}') == 2
    assert "# TYPE aigc_check_request_duration_seconds histogram" in after


def test_no_upload_outlives_its_request(server, spool_parent):
    post_multipart(server.url, FIXTURES / "camera-canon.jpg")
    announce_body(server, b"image/jpeg", MAX_BYTES + 1)
    assert wait_until(lambda: spooled_files(spool_parent) == [], timeout=5)
    (private,) = spool_parent.iterdir()
    assert private.stat().st_mode & 0o077 == 0, "the upload folder must be private to the service's user"


def test_page_is_self_contained(server):
    page = request(server.url, "GET", "/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    for asset in ("/page.js", "/page.css"):
        answer = request(server.url, "GET", asset)
        assert answer.status == 200
        text = answer.body.decode()
        assert "http://" not in text and "https://" not in text and "@import" not in text
    assert b"http" not in page.body.replace(b"http-equiv", b"")
    script = request(server.url, "GET", "/page.js").body.decode()
    assert not re.search(r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write", script), (
        "data must reach the page through textContent only"
    )


# -- time limits and back-pressure -------------------------------------------------------------------


def test_slow_check_times_out_and_the_worker_is_replaced(tight_server, slow_png):
    started = time.monotonic()
    answer = post_multipart(tight_server.url, slow_png)
    assert_error(answer, 504, "check-timeout")
    assert time.monotonic() - started < 2
    # The stuck worker was killed; a new one takes its place and serves the next file.
    assert wait_until(
        lambda: health(tight_server.url)["workers"] == {"size": 1, "alive": 1, "idle": 1, "restarts": 1}, timeout=20
    )
    path = FIXTURES / "gb-png-itxt.png"
    answer = post_multipart(tight_server.url, path)
    assert answer.status == 200
    assert without_timing(answer.json) == expected_answer(path)


def open_slow_upload(server) -> socket.socket:
    """A client that announces 100 KB and sends 10 bytes, then stalls (slowloris)."""
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.sendall(
        b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
        b"Content-Length: 100000\r\n\r\n\xff\xd8\xff\xe0\0\0\0\0\0\0"
    )
    return sock


def test_slow_upload_gets_408(tight_server):
    started = time.monotonic()
    with open_slow_upload(tight_server) as sock:
        reply = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 408 "), reply
    assert b'"upload-timeout"' in reply
    assert 0.9 < time.monotonic() - started < 5


def test_overload_gets_503_with_retry_after(tight_server):
    path = FIXTURES / "camera-canon.jpg"
    with open_slow_upload(tight_server) as sock:
        assert wait_until(lambda: health(tight_server.url)["in_flight"] == 1, timeout=5)
        answer = post_multipart(tight_server.url, path)
        assert_error(answer, 503, "overloaded")
        assert answer.headers["retry-after"] == "1"
        assert read_until_closed(sock).startswith(b"HTTP/1.1 408 ")  # the stalled upload ends with its 408
    assert wait_until(lambda: health(tight_server.url)["in_flight"] == 0, timeout=5)
    assert post_multipart(tight_server.url, path).status == 200


def test_declared_follows_the_one_rule(server):
    """Case and surrounding space do not matter; an empty form part falls back to the query's value."""
    data = (FIXTURES / "gb-jpeg-xmp-element.jpg").read_bytes()
    answer = post_raw(server.url, data, "image/jpeg", query(declared=" AI "))
    assert answer.status == 200 and answer.json["declared"] == "ai"
    body, content_type = multipart_body({"declared": ""}, ("a.jpg", data))
    answer = request(server.url + "", "POST", "/v1/check?declared=Not-AI", body, {"Content-Type": content_type})
    assert answer.status == 200 and answer.json["declared"] == "not-ai"
