"""Opening a by-reference path under the ``--allow-root`` folders, in the checker worker that checks it.

The worker, not the event loop, resolves and opens the path (``pool.JobKind.PATH``): resolving and
opening touch the file system (every component's ``lstat``, the ``open``, ``/proc``), which on a slow
or hung network root would stall the event loop and every connection on it, while a stalled worker
stalls only its own request and is killed and replaced at ``--timeout``.  Doing it in the worker
also saves the thread hop and the descriptor passing it replaced (about 0.3 ms a request).

A path is resolved (every symlink followed, ``..`` removed) and must lie in one of the roots
(themselves resolved at start).  It is then opened without following a symlink in its last
component (``O_NOFOLLOW``) and without blocking (a FIFO cannot stall the worker), and the
descriptor's own path (``/proc/self/fd``; where there is none, the device and inode of the resolved
path) is checked against the roots again: a folder swapped for a symlink between the resolution and
the open is caught, not followed.  The check reads that descriptor, never the path again.

Kept free of Starlette and anyio: the worker processes import it.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass

from .errors import PathNotAllowedError

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOCTTY", 0)
)
_PROC_FD = "/proc/self/fd"
PATHS_OFF = "checking by path is off: the service was started without --allow-root"


def under(path: str, roots: tuple[str, ...]) -> bool:
    """Whether the resolved ``path`` is a root or lies inside one (``/srv/up`` does not hold ``/srv/upload``)."""
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _not_allowed(path: str) -> PathNotAllowedError:
    return PathNotAllowedError(f"{path!r} is not under any folder this service may read (--allow-root)")


@dataclass
class OpenedFile:
    """A by-reference file: its open descriptor, or why it could not be opened (an ``unreadable`` result)."""

    fd: int = -1
    error: OSError | None = None

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def open_allowed(path: str, roots: tuple[str, ...]) -> OpenedFile:
    """Resolve ``path``, refuse it outside ``roots`` (``PathNotAllowedError``), open it with care.

    A file that is inside a root but cannot be opened gives ``OpenedFile(error=...)``."""
    if not roots:
        raise PathNotAllowedError(PATHS_OFF)
    resolved = os.path.realpath(path)
    if not under(resolved, roots):
        raise _not_allowed(path)
    try:
        fd = os.open(resolved, _OPEN_FLAGS)
    except OSError as exc:  # missing, denied, or (ELOOP) the last component became a symlink since
        return OpenedFile(error=exc)
    try:
        if not _opened_under(fd, resolved, roots):
            raise _not_allowed(path)
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
            os.close(fd)
            return OpenedFile(error=OSError(0, f"{what}: only regular files are checked"))
    except BaseException:
        os.close(fd)
        raise
    return OpenedFile(fd=fd)


def _opened_under(fd: int, resolved: str, roots: tuple[str, ...]) -> bool:
    """Whether the file behind ``fd`` is the one the resolution allowed (the TOCTOU check)."""
    if sys.platform.startswith("linux") and os.path.isdir(_PROC_FD):
        try:
            actual = os.readlink(f"{_PROC_FD}/{fd}")  # the kernel's own path of the opened file
        except OSError:
            return False
        return under(actual, roots)
    try:  # no /proc: the opened file must still be the one at the resolved path
        here, there = os.fstat(fd), os.stat(resolved, follow_symlinks=False)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino) and under(os.path.realpath(resolved), roots)
