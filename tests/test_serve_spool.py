"""Where uploads are spooled: reused memfds (no byte of an earlier upload shows), the move to disk, files only."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest
from conftest import FIXTURES
from serve_helpers import ServerProcess, expected_answer, multipart_body, post_raw, query, request, without_timing

from aigc_check.service.transport import BodyPieces
from aigc_check.service.upload import MemorySpools, SpoolPlace, new_upload

MEMORY_SPOOL = 64 * 1024
pytestmark = pytest.mark.skipif(not MemorySpools.available(), reason="no memfd_create on this system")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    spool = tmp_path_factory.mktemp("spool")
    with ServerProcess(["--workers", "1", "--memory-spool", str(MEMORY_SPOOL), "--tmp-dir", str(spool)]) as s:
        yield s


@pytest.fixture(scope="module")
def file_server():
    with ServerProcess(["--workers", "1", "--memory-spool", "0"]) as s:
        yield s


def padded(name: str, size: int) -> bytes:
    data = (FIXTURES / name).read_bytes()
    return data + b"\0" * (size - len(data))


def chunked_post(url: str, data: bytes, piece: int = 16 * 1024) -> bytes:
    """A raw upload without Content-Length (chunked): the spool cannot know its size in advance."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/check?declared=none&name=c.jpg HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        for i in range(0, len(data), piece):
            chunk = data[i : i + piece]
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sock.sendall(b"0\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def test_a_reused_spool_shows_nothing_of_the_upload_before(server):
    """A large upload, then a small one on the same (reused) memfd: the small one's size and answer."""
    big = padded("gb-jpeg-xmp-element.jpg", MEMORY_SPOOL - 10)
    small = (FIXTURES / "camera-canon.jpg").read_bytes()
    for _ in range(3):  # one worker: every upload goes through the same few spools
        assert post_raw(server.url, big, "image/jpeg").json["size"] == len(big)
        answer = post_raw(server.url, small, "image/jpeg", query(name="camera-canon.jpg"))
        assert answer.json["size"] == len(small)
        assert without_timing(answer.json) == expected_answer(FIXTURES / "camera-canon.jpg")


@pytest.mark.parametrize("size", [MEMORY_SPOOL, MEMORY_SPOOL + 1, 4 * MEMORY_SPOOL])
def test_chunked_uploads_move_to_disk_past_the_memory_limit(server, size):
    data = padded("camera-canon.jpg", size)
    reply = chunked_post(server.url, data)
    assert reply.startswith(b"HTTP/1.1 200 "), reply[:200]
    assert b'"size":%d' % size in reply.replace(b" ", b"")


@pytest.mark.parametrize("size", [MEMORY_SPOOL, 4 * MEMORY_SPOOL])
def test_uploads_with_a_length_over_the_limit_go_to_disk(server, size):
    data = padded("gb-png-itxt.png", size)
    answer = post_raw(server.url, data, "image/png")
    assert answer.status == 200 and answer.json["size"] == size
    body, content_type = multipart_body({"declared": "ai"}, ("a.png", data))
    answer = request(server.url, "POST", "/v1/check", body, {"Content-Type": content_type})
    assert answer.status == 200 and answer.json["size"] == size and answer.json["declared"] == "ai"


@pytest.mark.parametrize("name", ["gb-jpeg-xmp-element.jpg", "c2pa-ai-created.png", "broken-random.png"])
def test_files_only_give_the_same_answers(file_server, name):
    answer = post_raw(file_server.url, (FIXTURES / name).read_bytes(), query=query(name=name))
    assert without_timing(answer.json) == expected_answer(FIXTURES / name)


def test_spool_pool_keeps_at_most_its_bytes(tmp_path):
    spools = MemorySpools(keep_bytes=150, capacity=1024)
    place = SpoolPlace(str(tmp_path), 1024, spools)
    first, second = new_upload(place, "a", 10), new_upload(place, "b", 10)
    assert first.in_memory and second.in_memory and first.fd != second.fd
    first.write(b"x" * 100, 10_000)
    first.finish()
    kept = first.fd
    second.write(b"z" * 60, 10_000)  # a failed upload: released without finish()
    first.discard()
    second.discard()  # 100 + 60 bytes of pages would pass keep_bytes=150: closed
    third = new_upload(place, "c", 10)
    assert third.fd == kept
    third.write(b"y", 10_000)
    third.finish()
    assert os.fstat(third.fd).st_size == 1 and os.pread(third.fd, 10, 0) == b"y"
    third.discard()
    spools.close()
    assert list(tmp_path.iterdir()) == []


def test_an_upload_over_the_memory_limit_leaves_no_name(tmp_path):
    place = SpoolPlace(str(tmp_path), 8, MemorySpools(keep_bytes=0, capacity=8))
    upload = new_upload(place, "../../etc/x.jpg", None)
    upload.write(b"0123456789" * 3, 1000)  # past 8 bytes: moved to an unlinked file
    upload.finish()
    assert not upload.in_memory and upload.name == "x.jpg"
    assert os.pread(upload.fd, 100, 0) == b"0123456789" * 3
    assert list(tmp_path.iterdir()) == []
    upload.discard()


def test_body_pieces_join_only_when_there_are_several():
    one = BodyPieces()
    piece = b"a" * 1000
    one += piece
    assert len(one) == 1000 and bytes(one) is piece  # no copy for the usual single piece
    several = BodyPieces(bytearray(b"ab"))
    several += b"cd"
    several += b"e"
    assert len(several) == 5 and bytes(several) == b"abcde"
    assert bytes(BodyPieces()) == b""


def test_a_job_and_its_descriptor_travel_as_one_message(tmp_path):
    """send_job / receive_job over a socket pair, as between the event loop and a worker."""
    from multiprocessing.connection import Connection

    from aigc_check.model import Declared
    from aigc_check.service.pool import CheckJob, JobKind, receive_job, send_job

    parent, child = socket.socketpair()
    conn = Connection(os.dup(child.fileno()))
    try:
        target = tmp_path / "a.bin"
        target.write_bytes(b"payload")
        fd = os.open(target, os.O_RDONLY)
        send_job(parent, CheckJob.for_fd(Declared.AI, "a.bin"), fd)
        os.close(fd)  # the receiver has its own copy
        send_job(parent, CheckJob.for_uri("s3://b/k", Declared.NONE, "k"), None)
        send_job(parent, None, None)
        job, got = receive_job(child, conn)
        assert (job.kind, job.declared, job.name) == (JobKind.FD, Declared.AI, "a.bin")
        assert got is not None and os.pread(got, 16, 0) == b"payload"
        os.close(got)
        job, got = receive_job(child, conn)
        assert job.kind is JobKind.URI and job.uri == "s3://b/k" and got is None
        assert receive_job(child, conn) == (None, None)
        parent.sendall(b"X")  # not a job mark: the stream is out of step, and the worker says so
        with pytest.raises(OSError, match=r"lost step"):
            receive_job(child, conn)
        parent.close()
        with pytest.raises(EOFError):
            receive_job(child, conn)
    finally:
        conn.close()
        child.close()
