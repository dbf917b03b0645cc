"""The scan's worker processes: what each runs (``start_worker``, then ``scan_chunk`` for each chunk
of files it is handed), and how the parent starts and stops them (``worker_context``,
``signals_held``, ``widen_result_pipe``, ``stop_pool``).  The pool loop itself, which hands the
chunks out and records what comes back, is ``runner.Scan``'s."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

try:
    import fcntl
except ImportError:  # not a Unix
    fcntl = None  # type: ignore[assignment]

from ..checker import Checker, CheckOptions
from .batch import ScanItem, adopt_checker, check_batch, checker_for, init_worker
from .outputs import Tally, csv_lines, csv_row, digest, jsonl_line

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    from .report_rows import RenderedRow, ThumbnailSlots, WorkerRows

RESULT_PIPE_BYTES = 1 << 20  # the workers' result pipe (``widen_result_pipe``): Linux's default fs/pipe-max-size


# What a worker returns for a chunk (``scan_chunk``): its results.jsonl lines, its results.csv lines, the
# report's issue lines, its files' counts (``Tally.for_chunk``: checked, and skipped by reason), and
# the report's rows for its issues, rendered but for the shared strings (``WorkerRows.made``; None
# when the scan writes no report).  All text and a few counters: the parent only appends and adds.
ChunkOutput = tuple[str, str, str, Tally, "list[RenderedRow] | None"]


@dataclass(frozen=True)
class WorkerReport:
    """What a worker makes for report.html beside each chunk (``WorkerRows``): the rows of its
    issues, and thumbnails out of the slots all the workers share (None: no thumbnails)."""

    slots: ThumbnailSlots | None


# This worker's half of the report rows (set by ``start_worker``; None: the scan writes no
# report, or this is the parent).
_worker_rows: WorkerRows | None = None


def scan_chunk(items: list[ScanItem], options: CheckOptions) -> ChunkOutput:
    """Worker side: check a chunk and return its finished output text and its counts."""
    results = check_batch(items, options)
    checker = checker_for(options)
    counts = Tally.for_chunk(checker.policy.ai_statuses, checker.fingerprints)
    checked = []
    for r in results:
        if "skipped" in r:
            counts.skip(r["skipped"])
        else:
            checked.append(r)
    digests = [digest(r) for r in checked]
    for d in digests:
        counts.add(d)
    counts.fingerprints = None  # the parent has its own table; a chunk's counts need it no more
    issues = [d for d in digests if d["issue"]]
    rows = _worker_rows
    return (
        "".join(jsonl_line(r) + "\n" for r in checked),
        csv_lines(csv_row(r) for r in checked),
        "".join(jsonl_line(d) + "\n" for d in issues),
        counts,
        [rows.made(d) for d in issues] if rows is not None else None,
    )


def worker_context() -> BaseContext:
    """fork while this process runs only Python threads: workers start in milliseconds and inherit
    the loaded tables, and each makes its own C2PA context on first use.  Once native threads run
    here (the C2PA library starts some after reading a PDF, e.g. when a program checks files and
    then scans), a forked child can deadlock on a lock one of them held: start workers from a clean
    fork server instead."""
    native_threads = True
    for _ in range(20):
        try:
            native_threads = len(os.listdir("/proc/self/task")) > threading.active_count()
        except OSError:
            break
        if not native_threads:
            break
        # A Python thread that has just ended (the file counter, once it has counted) is gone from
        # threading at once but stays in /proc for a moment: look again before judging it native.
        time.sleep(0.005)
    if not native_threads:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        ["aigc_check.checker", "aigc_check.scan.batch", "aigc_check.scan.pool", "aigc_check.scan.report_rows"]
    )
    return context


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT in this thread while it starts processes.

    A process started meanwhile (a forked worker, the fork server, the resource tracker) inherits
    the held signal, so a Ctrl-C sent to the whole process group cannot raise KeyboardInterrupt in
    it before it is ready: a worker ignores SIGINT before it lets it in (``start_worker``), the
    fork server and the resource tracker ignore it anyway.  A SIGINT that reaches this thread
    meanwhile is delivered when it lets go, to the handler, which only sets a flag."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def start_worker(options: CheckOptions, report: WorkerReport | None = None, checker: Checker | None = None) -> None:
    """Pool initializer: ignore SIGINT, then let it in (the parent held it while starting this
    process, see ``signals_held``); the parent handles Ctrl-C and stops the workers itself.
    ``checker``: the parent's, inherited through fork, to check with (else one is built here)."""
    global _worker_rows
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a SIGINT held meanwhile is dropped
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if checker is not None:
        adopt_checker(options, checker)
    init_worker(options)
    if report is not None:
        from .report_rows import WorkerRows

        checker = checker_for(options)
        _worker_rows = WorkerRows(checker.policy, checker.fingerprints, report.slots)


def widen_result_pipe(pool: ProcessPoolExecutor) -> None:
    """Let a chunk's result (about 300 KB: its JSON and CSV lines) fit in the pipe the workers send
    results on.  A worker's send returns only once the whole message is in the pipe, so with the
    default 64 KiB it waits, idle, for the parent's reader thread to take each part, and a parent
    busy recording the last chunk (or a loaded machine) then costs both workers time.  The pool
    makes the pipe when it is created and its workers inherit it, so this is before any starts;
    where the pipe cannot be widened (not Linux, a lower ``fs/pipe-max-size``) it stays as it was."""
    reader = getattr(getattr(pool, "_result_queue", None), "_reader", None)
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl else None
    if reader is None or set_size is None:
        return
    try:
        fcntl.fcntl(reader.fileno(), set_size, RESULT_PIPE_BYTES)
    except OSError:
        pass


def stop_pool(pool: ProcessPoolExecutor) -> None:
    # Python < 3.14 has no public way to end workers busy on a long file; they hold no output.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    queues = getattr(pool, "_call_queue", None), getattr(pool, "_result_queue", None)  # shutdown forgets them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=2)
        if process.is_alive():  # SIGTERM blocked or ignored by whatever the worker is stuck in
            process.kill()
            process.join(timeout=2)
    release_pool_threads(*queues)


def release_pool_threads(call_queue: object, result_queue: object) -> None:
    """Once its workers are dead, let a pool's threads end, or the interpreter waits for them at
    exit, forever: a worker ended while it sent a chunk's result leaves the pool's manager thread
    reading the rest of that message (closing this process's end of the result pipe ends the read),
    and chunks no worker will read may fill the call pipe, on which the queue's feeder thread then
    blocks (a daemon thread: only the wait for it at exit is cancelled)."""
    cancel_join = getattr(call_queue, "cancel_join_thread", None)
    if cancel_join is not None:
        cancel_join()
    writer = getattr(result_queue, "_writer", None)
    if writer is not None:
        writer.close()
