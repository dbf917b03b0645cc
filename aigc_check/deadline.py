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


def time_limit(seconds: float | None) -> contextlib.AbstractContextManager[None]:
    """A context in which a block may run ``seconds`` at most (``TimeLimitError`` past it); no
    limit when ``seconds`` is None or not positive, or off the main thread."""
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        return _NO_LIMIT
    return _TimeLimit(seconds)


# No limit: one shared context that does nothing.
_NO_LIMIT: contextlib.AbstractContextManager[None] = contextlib.nullcontext()


class _TimeLimit:
    """The ``SIGALRM`` timer for one block: the handler and the timer set on entry, both undone on
    exit.  A class rather than a generator context: a check pays this on every file, and the
    generator machinery, the handler closure and the message made up front cost more than the two
    ``setitimer`` calls themselves.  Both calls stay, whatever the limit: a timer left armed past
    the block would fire into whatever handler the caller has by then (``SIG_DFL`` ends the
    process), and the caller's handler is given back (tested)."""

    __slots__ = ("expired", "previous", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self.previous: Any = None

    def _expire(self, signum: int, frame: FrameType | None) -> NoReturn:
        self.expired = True
        raise TimeLimitError(self.message)

    @property
    def message(self) -> str:
        return f"the check took longer than the {self.seconds:g} s limit"

    def __enter__(self) -> None:
        global _armed
        if _c_signal.getsignal(_SIGALRM) is _dispatch:
            # The process's own handler is in place (``own_alarm_signal``): only the timer is set,
            # and the handler raises into this block, the innermost; the one outside it is kept.
            self.previous, _armed = _armed, self
        else:
            self.previous = _c_signal.signal(_SIGALRM, self._expire)
        _setitimer(_ITIMER_REAL, self.seconds)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        global _armed
        _setitimer(_ITIMER_REAL, 0)
        if _armed is self:
            _armed = self.previous
        else:
            _c_signal.signal(_SIGALRM, self.previous)
        # Only when the block ended normally: if the timer fired anyway, some library caught the
        # TimeLimitError (c2pa-python's stream callbacks, parsers that catch Exception) and went on.
        if exc_type is None and self.expired:
            raise TimeLimitError(self.message)


_setitimer, _ITIMER_REAL, _SIGALRM = signal.setitimer, signal.ITIMER_REAL, int(signal.SIGALRM)

# -- a process that owns its signals ---------------------------------------------------------------

# Setting the handler and giving the caller's back is a part of what ``time_limit`` costs a check
# (about 0.4 of 1.8 µs measured here; the two ``setitimer`` calls are most of the rest).  A process
# that runs nothing but checks (a scan or service worker) has no caller's handler to give back:
# ``own_alarm_signal`` sets one handler for good, and each block then only arms and disarms the
# timer.  A block that finds another handler in place (something set one since) sets and restores
# its own, as without this.
_armed: _TimeLimit | None = None  # the innermost block running under the process's own handler


def _dispatch(signum: int, frame: FrameType | None) -> None:
    """The process's own ``SIGALRM`` handler: the armed block's expiry; nothing when none is armed
    (a timer disarmed as it fired)."""
    if _armed is not None:
        _armed._expire(signum, frame)


def own_alarm_signal() -> None:
    """Set the ``SIGALRM`` handler once for every later ``time_limit`` of this process, which must
    own its signals (a worker that only runs checks): the handler is not given back after a block.
    Nothing off the main thread, where ``time_limit`` is nothing."""
    if threading.current_thread() is not threading.main_thread():
        return
    _c_signal.signal(_SIGALRM, _dispatch)


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
