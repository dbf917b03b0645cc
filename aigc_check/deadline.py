"""Time and memory bounds for one check.

``time_limit`` interrupts a check that runs longer than allowed with
``TimeLimitError``, raised from a ``SIGALRM`` timer.  It works in the main
thread of a process (the CLI, scan workers, service workers); elsewhere it
does nothing, since Python delivers signals only to the main thread.  A
native call (the C2PA library) that stalls is not interrupted by it: the
processes that run checks for others (scan, serve) also kill and replace a
worker that overstays.

``limit_memory`` caps the address space of the calling process, so an
allocation a hostile file provokes fails with ``MemoryError`` instead of
taking the machine down.
"""

from __future__ import annotations

import contextlib
import importlib
import resource
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any, NoReturn

from .errors import LimitExceededError

# The C module behind ``signal``: ``signal.signal`` wraps its argument and its answer in enums, and
# turning a Python handler back into one fails with an exception it then catches, a cost per check
# larger than the rest of ``time_limit``.  The handlers are the same objects either way (a handler
# set through one is returned by the other).  Looked up by name: it has no type stubs.
_c_signal: Any = importlib.import_module("_signal")


class TimeLimitError(LimitExceededError):
    code = "time-limit"


# Raised anywhere in a check, these end the whole check (handled in Checker.check): the per-block
# and per-reader handlers that turn other exceptions into listed errors must let them through.
ENDS_CHECK = (TimeLimitError, MemoryError)


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    expired: list[bool] = []
    message = f"the check took longer than the {seconds:g} s limit"

    def expire(signum: int, frame: FrameType | None) -> NoReturn:
        expired.append(True)
        raise TimeLimitError(message)

    previous = _c_signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _c_signal.signal(signal.SIGALRM, previous)
    # Reached only when the block ended normally: if the timer fired anyway, some library caught the
    # TimeLimitError (c2pa-python's stream callbacks, parsers that catch Exception) and went on.
    if expired:
        raise TimeLimitError(message)


def limit_memory(megabytes: int | None) -> None:
    """Cap this process's address space (never raises it above an existing cap)."""
    if not megabytes or megabytes <= 0:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = megabytes * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft == resource.RLIM_INFINITY or cap < soft:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
