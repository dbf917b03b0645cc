"""Where ``mark`` writes, and how: outputs planned (and refused) before any file is read, then each
written whole or not at all.

A file is written to a temporary file in the output's own folder, flushed and fsynced, then moved
into place: ``os.link`` where the output must not exist yet (so a file that appeared meanwhile is
not overwritten either), ``os.replace`` with ``--overwrite`` or ``--in-place``; the folder is
fsynced after.  A failure leaves the output as it was and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from ..errors import UsageError
from ..limits import MAX_MARK_FILE


class OutputError(UsageError):
    """The outputs asked for cannot be written as asked (exists, clashes, is the input)."""


@dataclass(frozen=True)
class Target:
    source: str
    out: str
    in_place: bool = False


def plan(inputs: list[str], out: str | None, out_dir: str | None, in_place: bool, overwrite: bool) -> list[Target]:
    """One output per input; every clash is a usage error before anything is written."""
    given = sum(x is not None and x is not False for x in (out, out_dir, in_place or None))
    if given != 1:
        raise OutputError("give exactly one of --out FILE (one input), --out-dir DIR, or --in-place")
    if out is not None:
        if len(inputs) != 1:
            raise OutputError("--out names one output file: with several inputs use --out-dir")
        targets = [Target(inputs[0], out)]
    elif out_dir is not None:
        if os.path.exists(out_dir) and not os.path.isdir(out_dir):
            raise OutputError(f"--out-dir {out_dir} exists and is not a folder")
        targets = [Target(path, os.path.join(out_dir, os.path.basename(path))) for path in inputs]
    else:
        targets = [Target(path, path, in_place=True) for path in inputs]
    seen: dict[str, str] = {}
    for t in targets:
        key = os.path.normcase(os.path.realpath(t.out))
        if key in seen:
            raise OutputError(f"{seen[key]} and {t.source} would both be written to {t.out}")
        seen[key] = t.source
        if t.in_place:
            continue
        if os.path.realpath(t.out) == os.path.realpath(t.source):
            raise OutputError(f"{t.out} is the input itself: mark never writes its input unless --in-place")
        if os.path.exists(t.out) and not overwrite:
            raise OutputError(f"{t.out} exists: add --overwrite to replace it")
    return targets


def read_input(path: str) -> bytes:
    """The whole input (a lossless rewrite needs every byte), bounded by ``MAX_MARK_FILE``."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_MARK_FILE:
            raise OSError(f"{size} bytes is over the {MAX_MARK_FILE}-byte limit for marking")
        return f.read(MAX_MARK_FILE + 1)


def write_atomically(path: str, data: bytes, replace: bool, mode_from: str | None = None) -> None:
    """``data`` at ``path`` whole, or nothing changed (see the module docstring)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".aigc-mark-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file 0600; the output gets the input's mode (in place) or, as any new
        # file, 0666 less the umask.
        os.chmod(tmp, os.stat(mode_from).st_mode & 0o7777 if mode_from is not None else 0o666 & ~_umask())
        if replace:
            os.replace(tmp, path)
        else:
            _link(tmp, path)
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _link(tmp: str, path: str) -> None:
    """``tmp`` also at ``path``, failing if ``path`` exists (it appeared after planning): never
    overwritten unasked.  Where the file system has no hard links, ``path`` is reserved with
    O_EXCL first and then replaced."""
    try:
        os.link(tmp, path)
        return
    except FileExistsError:
        raise
    except OSError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    os.replace(tmp, path)
    open(tmp, "wb").close()  # the caller unlinks it


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # a platform whose folders cannot be opened (Windows): the rename is what it offers
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
