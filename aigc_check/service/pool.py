"""A pool of checker processes that survives stuck and crashing checks.

Each worker is a process with one :class:`~aigc_check.Checker`, built after
the process starts (a C2PA context inherited through fork is unusable) and
warmed up before it takes work.  The event loop talks to a worker over a
pipe (a Unix socket pair) and waits on the pipe's file descriptor, so a
request costs one message each way and no thread hop.  A job names what to
check (:class:`CheckJob`): an open file descriptor, passed over the pipe with
``SCM_RIGHTS`` (the spooled upload in memory), a path by reference, which the
worker resolves and opens under the allowed roots itself (``allowed_path.py``:
the event loop never waits on the file system, and a refusal comes back as its
own reply), or an object URI the worker opens by ranged reads (``ObjectReader``).
A worker whose check outlives the time limit, or that dies, is killed and
replaced; the request gets a typed error and the pool keeps its size.

Workers come from a ``forkserver``: forking the server process itself would
copy the event loop and its threads; the fork server has imported the
checker once, so a replacement is ready in milliseconds, not a fresh
interpreter's start-up.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import time
from dataclasses import dataclass
from enum import Enum
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from ..checker import CheckOptions
from ..model import CheckResult, Declared
from .allowed_path import open_allowed
from .errors import CheckTimeoutError, OverloadedError, PathNotAllowedError, ServiceError, WorkerCrashedError

if TYPE_CHECKING:
    from multiprocessing.context import ForkServerContext

    from ..checker import Checker
    from ..scan.objects import ObjectReader

log = logging.getLogger("aigc_check.serve")


def _warmup_jpeg() -> bytes:
    """A tiny real JPEG: the warm-up check pays first-call costs (imports, caches) before any request."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (128, 128, 128)).save(out, "JPEG")
    return out.getvalue()


class JobKind(Enum):
    FD = "fd"  # an open file descriptor follows the job on the pipe
    PATH = "path"  # a local path by reference: the worker resolves and opens it under the allowed roots
    URI = "uri"  # an object the worker opens by ranged reads


@dataclass(frozen=True)
class CheckJob:
    kind: JobKind
    declared: Declared
    name: str  # shown as the result's path
    uri: str = ""  # JobKind.URI
    path: str = ""  # JobKind.PATH: absolute, as the client sent it

    @classmethod
    def for_fd(cls, declared: Declared, name: str) -> CheckJob:
        return cls(JobKind.FD, declared, name)

    @classmethod
    def for_path(cls, path: str, declared: Declared, name: str) -> CheckJob:
        return cls(JobKind.PATH, declared, name, path=path)

    @classmethod
    def for_uri(cls, uri: str, declared: Declared, name: str) -> CheckJob:
        return cls(JobKind.URI, declared, name, uri=uri)


def run_job(
    checker: Checker, objects: ObjectReader, job: CheckJob, fd: int | None, roots: tuple[str, ...] = ()
) -> CheckResult:
    """The result for one job; the descriptor (JobKind.FD) is the check's and closed by it.  A path
    (JobKind.PATH) outside ``roots`` raises ``PathNotAllowedError``, which the worker answers as a
    refusal; one inside that cannot be opened gets the ``unreadable`` result."""
    if job.kind is JobKind.PATH:
        opened = open_allowed(job.path, roots)
        if opened.error is not None:
            return checker.open_failed(job.name, job.declared, opened.error)
        return _check_fd(checker, job, opened.fd)
    if job.kind is JobKind.FD:
        assert fd is not None  # received right after the job
        return _check_fd(checker, job, fd)
    try:  # JobKind.URI
        remote = objects.open(job.uri)
    except OSError as exc:  # missing object, denied, network
        return checker.open_failed(job.name, job.declared, exc)
    except Exception as exc:  # fsspec's driver missing, a bad bucket name, the store's own errors
        return checker.unreadable_result(job.name, job.declared, "io-error", f"cannot open: {exc}")
    try:
        return checker.check(remote, job.declared, job.name)
    finally:
        remote.close()


def _check_fd(checker: Checker, job: CheckJob, fd: int) -> CheckResult:
    # Unbuffered: the checker reads ranges, and a buffer would copy each one once more.
    stream = cast(BinaryIO, os.fdopen(fd, "rb", buffering=0))
    try:
        return checker.check(stream, job.declared, job.name)
    finally:
        stream.close()  # also when the check never got to own it (ByteSource.open failed)


def _fd_socket(conn: Connection) -> socket.socket:
    """A socket object over the pipe's own descriptor (duplicated), for passing descriptors along it."""
    return socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=os.dup(conn.fileno()))


FD_MARK, NO_FD_MARK = b"F", b"N"  # the first byte of each job message: whether a descriptor rides with it


def job_message(job: CheckJob | None, with_fd: bool) -> bytes:
    """One message per job: a mark byte (that carries the descriptor, SCM_RIGHTS, when one rides
    along), then the job framed as ``Connection.send`` frames it (a 4-byte length, the pickle)."""
    payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
    return (FD_MARK if with_fd else NO_FD_MARK) + struct.pack("!i", len(payload)) + payload


def send_job(sock: socket.socket, job: CheckJob | None, fd: int | None) -> None:
    """:func:`job_message` in one write on a blocking socket, so the worker is woken once per job: a
    second write (the job, then the descriptor) cost a second cross-process wake-up, which on shared
    cores was most of the hop's time (cProfile of the event loop).  The event loop uses
    ``Worker.send``, which waits for room instead of blocking."""
    message = job_message(job, fd is not None)
    if fd is None:
        sock.sendall(message)
    else:
        sent = socket.send_fds(sock, [message], [fd])
        if sent < len(message):
            sock.sendall(message[sent:])  # the descriptor went with the first byte


async def receive_message(reader: MessageReader, fd: int, timeout: float | None) -> Any:
    """The next frame on the non-blocking ``fd``, however many reads it takes; ``EOFError`` if the
    writer closed, ``TimeoutError`` past ``timeout``."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def on_readable() -> None:
        if future.done():
            return
        try:
            complete, message = reader.read_from(fd)
        except BaseException as exc:  # EOFError when the process died
            future.set_exception(exc)
            return
        if complete:
            future.set_result(message)

    def on_timeout() -> None:
        if not future.done():
            future.set_exception(asyncio.TimeoutError())

    # A timer on the future itself: asyncio.wait_for wraps it in a second future and callbacks, on
    # every job (the loop's share of a check by path is a few hundred Python calls, each counted).
    timer = loop.call_later(timeout, on_timeout) if timeout is not None else None
    loop.add_reader(fd, on_readable)  # level-triggered: a reply already there is seen at once
    try:
        return await future
    finally:
        loop.remove_reader(fd)
        if timer is not None:
            timer.cancel()


async def send_message(sock: socket.socket, message: bytes, fd: int | None) -> None:
    """Write all of ``message`` on the non-blocking ``sock``, ``fd`` riding with its first byte,
    waiting for room whenever the pipe is full (``sendall`` would fail partway, out of step)."""
    loop = asyncio.get_running_loop()
    sent = 0
    while sent == 0:  # the first byte carries the descriptor: retried until it goes
        try:
            sent = sock.send(message) if fd is None else socket.send_fds(sock, [message], [fd])
        except BlockingIOError:
            await _writable(loop, sock.fileno())
    if sent < len(message):
        await loop.sock_sendall(sock, message[sent:])


async def _writable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    future: asyncio.Future[None] = loop.create_future()

    def on_writable() -> None:
        if not future.done():
            future.set_result(None)

    loop.add_writer(fd, on_writable)
    try:
        await future
    finally:
        loop.remove_writer(fd)


def receive_job(sock: socket.socket, conn: Connection) -> tuple[Any, int | None]:
    """The worker's side of :func:`send_job`: (the job, its descriptor or None).  socket.recv_fds sends
    no acknowledgement byte (multiprocessing.reduction's does on macOS, into this same stream)."""
    mark, fds, _, _ = socket.recv_fds(sock, 1, 1)
    if not mark:
        raise EOFError
    if mark not in (FD_MARK, NO_FD_MARK) or len(fds) != (mark == FD_MARK):
        for extra in fds:
            os.close(extra)
        raise OSError("the pipe lost step with its job messages")
    return conn.recv(), (fds[0] if fds else None)


class MessageReader:
    """One ``Connection.send`` frame (a 4-byte length, or -1 and an 8-byte one, then the pickle) read
    from a non-blocking descriptor as its bytes arrive.

    The event loop's end of a worker's pipe is non-blocking (the loop's readiness polling needs it,
    and uvloop sets it so anyway), so ``Connection.recv`` would fail with ``BlockingIOError`` as soon as
    a reply outran the bytes the worker had written yet: a reply larger than the socket buffer, or
    any reply the worker writes in two parts (multiprocessing does past 16 KiB) caught in between.
    multiprocessing has no non-blocking receive; this keeps its framing and reads what is there."""

    HEADER = struct.Struct("!i")
    LONG_HEADER = struct.Struct("!Q")

    def __init__(self) -> None:
        self.buffer = bytearray()

    def _wanted(self) -> int | None:
        """Bytes the frame has in all, once its header is in; None until then."""
        if len(self.buffer) < self.HEADER.size:
            return None
        (size,) = self.HEADER.unpack_from(self.buffer)
        if size != -1:
            return self.HEADER.size + size
        end = self.HEADER.size + self.LONG_HEADER.size
        if len(self.buffer) < end:
            return None
        return end + self.LONG_HEADER.unpack_from(self.buffer, self.HEADER.size)[0]

    def read_from(self, fd: int) -> tuple[bool, Any]:
        """Read what ``fd`` has; ``(True, message)`` once the frame is whole, ``(False, None)`` until then.
        ``EOFError`` when the writer closed (mid-frame or not), ``OSError`` as the read raises it."""
        while True:
            wanted = self._wanted()
            if wanted is not None and len(self.buffer) >= wanted:
                long_frame = self.HEADER.unpack_from(self.buffer)[0] == -1
                start = self.HEADER.size + (self.LONG_HEADER.size if long_frame else 0)
                with memoryview(self.buffer) as view:
                    message = pickle.loads(view[start:wanted])
                del self.buffer[:wanted]  # anything after it is the next frame's start
                return True, message
            want = max((wanted or 0) - len(self.buffer), 64 * 1024)
            try:
                chunk = os.read(fd, want)
            except BlockingIOError:
                return False, None
            if not chunk:
                raise EOFError("the worker closed its pipe")
            self.buffer += chunk


@dataclass
class CheckReply:
    verdict: str
    body: bytes  # the result as one JSON object, UTF-8 (the ``check --format json`` line)
    worker_pid: int


def _worker_main(conn: Connection, options: CheckOptions, roots: tuple[str, ...]) -> None:
    """Runs in the worker process: build a Checker, then answer :class:`CheckJob` requests.  Each
    answer is one message: ``("ok", verdict, JSON bytes)``, ``("refused", message)`` for a path
    outside ``roots``, or ``("error", message)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server, which stops us
    from ..checker import Checker
    from ..deadline import limit_memory, own_alarm_signal
    from ..json_lines import json_line_bytes
    from ..scan.objects import ObjectReader

    limit_memory(options.memory_limit_mb)  # an allocation a hostile file provokes fails here, not the host
    own_alarm_signal()  # a worker's signals are its own: each check only arms and disarms the timer
    checker = Checker(options)
    objects = ObjectReader(io_threads=0)  # one object per request, opened in this process
    checker.check(_warmup_jpeg(), Declared.NONE, name="warm-up")
    warm_up_walkers()
    fd_socket = _fd_socket(conn)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job, fd = receive_job(fd_socket, conn)
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            result = run_job(checker, objects, job, fd, roots)
            conn.send(("ok", result.verdict, json_line_bytes(result.to_dict())))
        except PathNotAllowedError as exc:
            conn.send(("refused", str(exc)))
        except Exception as exc:  # a checker bug: report it, keep serving
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def warm_up_walkers() -> None:
    """Import every walker and mutagen's ID3 frames now, before the worker says it is ready: a
    check imports them as it meets their formats (a one-file ``check`` needs one), and a request
    must not wait for that."""
    from ..formats import handlers
    from ..formats.id3 import fast_frames

    handlers()
    fast_frames()


class Worker:
    """One checker process and the parent's end of its pipe."""

    def __init__(self, context: ForkServerContext, options: CheckOptions, roots: tuple[str, ...] = ()) -> None:
        self.conn, child_conn = context.Pipe(duplex=True)
        self.process = context.Process(
            target=_worker_main, args=(child_conn, options, roots), name="aigc-check-worker", daemon=True
        )
        self.process.start()
        child_conn.close()
        self.pid: int | None = self.process.pid
        self.fd_socket = _fd_socket(self.conn)
        # Non-blocking, said here rather than left to the event loop's readiness polling (which sets
        # it on the shared descriptor anyway): so every read and write below expects it.
        self.fd_socket.setblocking(False)
        self.reader = MessageReader()
        self.checks = 0

    async def receive(self, timeout: float | None) -> tuple[Any, ...]:
        """The next message from the worker; ``EOFError`` if it died, ``TimeoutError`` past ``timeout``."""
        message: tuple[Any, ...] = await receive_message(self.reader, self.conn.fileno(), timeout)
        return message

    async def send(self, job: CheckJob | None, fd: int | None) -> None:
        """:func:`send_job` for the event loop: waits for room in the pipe rather than failing when it is full."""
        await send_message(self.fd_socket, job_message(job, fd is not None), fd)

    def signal_kill(self) -> None:
        """SIGKILL, without waiting (the process is no longer in the pool; ``kill`` reaps it)."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        try:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(timeout=5)
        finally:
            self.fd_socket.close()
            self.conn.close()

    def stop(self) -> None:
        """Ask an idle worker to exit, then make sure it did."""
        try:
            send_job(self.fd_socket, None, None)
            self.process.join(timeout=2)
        except (OSError, ValueError):
            pass
        self.kill()


class WorkerPool:
    """``size`` checker processes; ``check`` admits at most ``size + queue`` requests at once.
    ``allow_roots`` (resolved) are the folders under which the workers open paths by reference."""

    def __init__(
        self, options: CheckOptions, size: int, start_timeout: float = 60.0, allow_roots: tuple[str, ...] = ()
    ) -> None:
        self.options = options
        self.allow_roots = allow_roots
        self.size = size
        self.start_timeout = start_timeout
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["aigc_check.checker", "aigc_check.service.pool"])
        # Last in, first out: the worker that answered last takes the next job, its caches still warm
        # (taking turns, each of two workers woke cold for every other request).
        self._idle: asyncio.LifoQueue[Worker] = asyncio.LifoQueue()
        self._workers: set[Worker] = set()
        self._replacing: set[asyncio.Task[None]] = set()
        self._waiting = 0  # requests waiting for an idle worker
        self.restarts = 0
        self.closed = False

    # -- life cycle ---------------------------------------------------------------

    async def start(self) -> None:
        workers = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        for w in workers:
            self._idle.put_nowait(w)

    async def _spawn(self) -> Worker:
        """Start one worker and wait until its Checker is built and warmed up."""
        loop = asyncio.get_running_loop()
        worker = await loop.run_in_executor(None, Worker, self._context, self.options, self.allow_roots)
        try:
            message = await worker.receive(self.start_timeout)
        except BaseException:
            worker.kill()
            raise
        if message[0] != "ready":
            worker.kill()
            raise RuntimeError(f"checker worker failed to start: {message!r}")
        self._workers.add(worker)
        return worker

    def _replace(self, worker: Worker, why: str) -> None:
        """Kill a lost worker now; start its replacement in the background."""
        log.warning("replacing checker worker %s: %s", worker.pid, why)
        self._workers.discard(worker)
        # SIGKILL now; the wait for the process to be gone in a thread: a worker stuck in the kernel
        # (a hung network root it was opening a path on) dies only when the kernel lets it, and
        # waiting for that here would stall the event loop for up to the join's 5 s.
        worker.signal_kill()
        asyncio.get_running_loop().run_in_executor(None, worker.kill)
        self.restarts += 1
        if self.closed:
            return

        async def replace() -> None:
            while not self.closed:
                try:
                    self._idle.put_nowait(await self._spawn())
                    return
                except Exception:
                    log.exception("could not start a replacement checker worker; retrying")
                    await asyncio.sleep(1)

        task = asyncio.get_running_loop().create_task(replace())
        self._replacing.add(task)
        task.add_done_callback(self._replacing.discard)

    async def close(self) -> None:
        self.closed = True
        for task in list(self._replacing):
            task.cancel()
        while not self._idle.empty():
            self._idle.get_nowait()
        for w in list(self._workers):
            w.stop()
        self._workers.clear()

    # -- state for health and metrics -----------------------------------------------

    @property
    def alive(self) -> int:
        return sum(1 for w in self._workers if w.process.is_alive())

    @property
    def idle(self) -> int:
        return self._idle.qsize()

    # -- work -------------------------------------------------------------------------

    async def check(self, job: CheckJob, timeout: float, fd: int | None = None) -> CheckReply:
        """Run ``job`` in a worker within ``timeout`` seconds (waiting included); ``fd`` (JobKind.FD) is
        passed to the worker, which gets its own copy: the caller still closes its own."""
        deadline = time.monotonic() + timeout
        # An idle worker nobody waits for is taken at once (wait_for would wrap the get in a new task
        # for every request); otherwise this request queues behind those waiting.
        if self._waiting == 0 and not self._idle.empty():
            worker = self._idle.get_nowait()
        else:
            self._waiting += 1
            try:
                worker = await asyncio.wait_for(self._idle.get(), timeout)
            except asyncio.TimeoutError:
                raise OverloadedError(f"no checker became free within {timeout:g} s") from None
            finally:
                self._waiting -= 1
        lost = True
        try:
            await worker.send(job, fd if job.kind is JobKind.FD else None)
            message = await worker.receive(max(deadline - time.monotonic(), 0.001))
            lost = False
        except asyncio.TimeoutError:
            self._replace(worker, "check timed out")
            raise CheckTimeoutError(f"the check took longer than the {timeout:g} s limit; it was stopped") from None
        except (EOFError, OSError) as exc:
            self._replace(worker, f"worker died: {exc!r}")
            raise WorkerCrashedError("the checker process died while checking this file") from None
        finally:
            if lost and worker in self._workers:  # cancelled mid-check: its state is unknown
                self._replace(worker, "request cancelled during the check")
        worker.checks += 1
        self._idle.put_nowait(worker)
        if message[0] == "refused":
            raise PathNotAllowedError(message[1])
        if message[0] != "ok":
            raise ServiceError(f"the checker failed: {message[1]}")
        return CheckReply(message[1], message[2], worker.pid or 0)
