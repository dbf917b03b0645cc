"""Lazy discovery of the files to scan: folders walked with ``os.scandir``, or a list of paths.

Nothing is listed in full: a folder is read entry by entry and only the stack
of open folders (one per level of depth) and the identities of the folders
already visited are kept, so memory grows with the number of folders, never
with the number of files.  Folder symlinks are followed once per real folder
(tracked by ``(st_dev, st_ino)``), so a link back to an ancestor cannot loop.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

# Deeper trees are almost certainly pathological (bind-mount loops): report, do not descend.
MAX_DEPTH = 256


@dataclass(frozen=True)
class FoundFile:
    """A file to judge; ``root`` is the folder argument it was found under (None for a listed path)."""

    path: str
    root: str | None
    explicit: bool  # named by the user, so judged even when it does not look like media


@dataclass(frozen=True)
class WalkProblem:
    """A folder that could not be read, or a folder link that leads back into the tree."""

    path: str
    code: str  # "io-error" | "symlink-loop" | "too-deep" | "special-file"
    message: str


WalkEvent: TypeAlias = FoundFile | WalkProblem


def walk_targets(paths: Iterable[str], explicit_files: bool = True) -> Iterator[WalkEvent]:
    """Every file below each of ``paths`` (folders) and each path that is not a folder, lazily.

    ``explicit_files``: a path given directly (not found in a folder) is judged
    even if it does not sniff as media, as ``aigc-check check`` would.
    """
    visited: set[tuple[int, int]] = set()
    for path in paths:
        try:
            is_dir = os.path.isdir(path)
        except (OSError, ValueError):
            is_dir = False
        if is_dir:
            yield from _walk_folder(path, visited)
        elif _special(path):
            yield _special_problem(path)
        else:  # a missing or unreadable path becomes an unreadable result, not a crash
            yield FoundFile(path, None, explicit_files)


def _walk_folder(root: str, visited: set[tuple[int, int]]) -> Iterator[WalkEvent]:
    try:
        st = os.stat(root)
    except OSError as exc:
        yield WalkProblem(root, "io-error", f"cannot read folder: {exc.strerror or exc}")
        return
    if (st.st_dev, st.st_ino) in visited:
        return  # the same folder named twice, or inside another named folder
    visited.add((st.st_dev, st.st_ino))
    stack: list[tuple[str, Iterator[os.DirEntry[str]]]] = []
    opened = _open_folder(root)
    if isinstance(opened, WalkProblem):
        yield opened
        return
    stack.append((root, opened))
    while stack:
        folder, entries = stack[-1]
        try:
            entry = next(entries, None)
        except OSError as exc:  # the folder vanished or failed while being read
            entry = None
            yield WalkProblem(folder, "io-error", f"folder read failed: {exc.strerror or exc}")
        if entry is None:
            stack.pop()
            _close(entries)
            continue
        try:
            is_dir = entry.is_dir()  # follows symlinks; d_type makes it free for plain entries
        except OSError:
            is_dir = False
        if not is_dir:
            try:
                regular = entry.is_file()  # free from d_type; only other entries cost a stat
            except OSError:
                regular = False
            if regular or not _special(entry.path):
                yield FoundFile(entry.path, root, False)
            else:
                yield _special_problem(entry.path)
            continue
        try:
            st = entry.stat()
        except OSError as exc:
            yield WalkProblem(entry.path, "io-error", f"cannot read folder: {exc.strerror or exc}")
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited:
            if entry.is_symlink():
                yield WalkProblem(
                    entry.path,
                    "symlink-loop",
                    f"folder link to {os.readlink(entry.path)!r} leads to a folder already scanned",
                )
            continue
        visited.add(key)
        if len(stack) >= MAX_DEPTH:
            yield WalkProblem(entry.path, "too-deep", f"more than {MAX_DEPTH} folder levels: not descended")
            continue
        opened = _open_folder(entry.path)
        if isinstance(opened, WalkProblem):
            yield opened
        else:
            stack.append((entry.path, opened))


def _special(path: str) -> bool:
    """A pipe, socket or device: opening a pipe would block a worker forever."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False  # missing or unreadable: the check reports it


def _special_problem(path: str) -> WalkProblem:
    return WalkProblem(path, "special-file", "not a regular file (pipe, socket or device): not opened")


def _open_folder(path: str) -> Iterator[os.DirEntry[str]] | WalkProblem:
    try:
        return os.scandir(path)
    except OSError as exc:
        return WalkProblem(path, "io-error", f"cannot list folder: {exc.strerror or exc}")


def _close(entries: Iterator[os.DirEntry[str]]) -> None:
    close = getattr(entries, "close", None)
    if close:
        close()


def read_path_list(list_file: str) -> Iterator[str]:
    """Paths from a file, one a line (``-`` for standard input); blank lines are ignored.

    Read as bytes and decoded like the OS does (surrogateescape), so names that
    are not valid UTF-8 still reach the file.
    """
    import sys

    if list_file == "-":
        yield from _path_lines(sys.stdin.buffer)  # standard input stays open
        return
    with open(list_file, "rb") as stream:
        yield from _path_lines(stream)


def _path_lines(stream: Iterable[bytes]) -> Iterator[str]:
    for raw in stream:
        line = raw.rstrip(b"\r\n")
        if line.strip():
            yield os.fsdecode(line)
