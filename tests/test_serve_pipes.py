"""The event loop's end of a worker pipe (``service/pool.py``): non-blocking, so a message larger than
the socket buffer, or written in pieces, must still be read and written whole, and a writer that dies
midway must give a clean ``EOFError``, never a half-read message or a stream out of step.

Real socket pairs under the service's own event loop (uvloop where installed), with the worker's
side played by a thread writing as multiprocessing's ``Connection`` writes (blocking, a 4-byte length
then the pickle, in two writes past 16 KiB).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import socket
import struct
import threading
import time
from multiprocessing.connection import Connection

import pytest

from aigc_check.model import Declared
from aigc_check.service.pool import CheckJob, MessageReader, job_message, receive_job, receive_message, send_message

BIG = 4 * 1024 * 1024  # far past a socket pair's buffer (~208 KiB on Linux)


def run(coro):
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


@pytest.fixture
def pipe():
    """(the event loop's end, non-blocking; the worker's end, blocking)."""
    loop_end, worker_end = socket.socketpair()
    loop_end.setblocking(False)
    yield loop_end, worker_end
    loop_end.close()
    worker_end.close()


def test_a_reply_larger_than_the_pipe_arrives_whole_and_in_order(pipe):
    loop_end, worker_end = pipe
    replies = [("ok", "compliant", os.urandom(BIG)), ("ok", "unreadable", b"{}"), ("error", "x" * 20_000)]

    def worker() -> None:
        conn = Connection(os.dup(worker_end.fileno()))
        try:
            for reply in replies:
                conn.send(reply)
                time.sleep(0.05)  # the reader finds the pipe empty in between
        finally:
            conn.close()

    async def main() -> list:
        reader = MessageReader()
        thread = threading.Thread(target=worker)
        thread.start()
        try:
            return [await receive_message(reader, loop_end.fileno(), 10) for _ in replies]
        finally:
            thread.join()

    assert run(main()) == replies


def test_a_reply_in_slow_pieces_is_waited_for(pipe):
    loop_end, worker_end = pipe
    reply = ("ok", "compliant", b"y" * 300_000)
    frame = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    data = struct.pack("!i", len(frame)) + frame

    def worker() -> None:
        for i in range(0, len(data), 7_001):  # the length header itself split across writes
            worker_end.sendall(data[i : i + 7_001])
            time.sleep(0.001)

    async def main():
        thread = threading.Thread(target=worker)
        thread.start()
        try:
            return await receive_message(MessageReader(), loop_end.fileno(), 10)
        finally:
            thread.join()

    assert run(main()) == reply


def test_a_writer_that_dies_midway_is_eof_not_a_half_message(pipe):
    loop_end, worker_end = pipe
    worker_end.sendall(struct.pack("!i", 1_000_000) + b"z" * 1000)
    worker_end.close()
    with pytest.raises(EOFError):
        run(receive_message(MessageReader(), loop_end.fileno(), 5))


def test_a_silent_writer_times_out(pipe):
    loop_end, _ = pipe
    with pytest.raises(asyncio.TimeoutError):
        run(receive_message(MessageReader(), loop_end.fileno(), 0.2))


def test_a_job_waits_for_room_in_a_full_pipe_and_keeps_its_descriptor(pipe, tmp_path):
    """The loop's end filled until a write would block; the next job (with a descriptor) goes out
    whole once the worker reads, instead of failing partway."""
    loop_end, worker_end = pipe
    filler = job_message(CheckJob.for_uri("s3://b/" + "k" * 2_000_000, Declared.NONE, "k"), False)
    queued = 0
    try:
        while queued < len(filler):
            queued += loop_end.send(filler[queued:])
    except BlockingIOError:
        pass
    assert queued < len(filler), "the pipe took the whole filler: it was not full"
    target = tmp_path / "a.bin"
    target.write_bytes(b"payload")
    job = CheckJob.for_fd(Declared.AI, "a.bin")

    async def main() -> None:
        fd = os.open(target, os.O_RDONLY)
        try:
            rest = filler[queued:]
            await send_message(loop_end, rest, None)  # the filler's remainder, then the job
            await send_message(loop_end, job_message(job, True), fd)
        finally:
            os.close(fd)

    received = []

    def worker() -> None:
        time.sleep(0.2)  # the loop meets a full pipe first
        conn = Connection(os.dup(worker_end.fileno()))
        try:
            received.append(receive_job(worker_end, conn))
            received.append(receive_job(worker_end, conn))
        finally:
            conn.close()

    thread = threading.Thread(target=worker)
    thread.start()
    run(main())
    thread.join(10)
    (first, no_fd), (second, fd) = received
    assert first.uri.endswith("k" * 2_000_000) and no_fd is None
    assert second == job and fd is not None and os.pread(fd, 16, 0) == b"payload"
    os.close(fd)
