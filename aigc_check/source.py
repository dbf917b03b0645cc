"""Random access to a file or an in-memory buffer, counting the bytes read.

Readers ask for byte ranges; the file is never read whole unless C2PA hash
validation needs it.  The first ``HEAD_SIZE`` bytes are fetched once because
almost every header read lands there.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO, cast

from .errors import TruncatedError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

HEAD_SIZE = 64 * 1024
# Small reads past the head are served from a read-ahead window: walkers that step through many
# small headers (Ogg pages, PNG chunks, EBML elements) then cost one system call per window.
WINDOW_SIZE = 64 * 1024
SMALL_READ = 4 * 1024
# The stream's own read-ahead (``CountingStream``), a BufferedReader's: c2pa-python reads a PNG's
# chunk lengths, four bytes each, and seeks over the chunks, so a larger window reads more than the
# reads it saves.
STREAM_WINDOW = io.DEFAULT_BUFFER_SIZE


class ByteSource:
    def __init__(self, fileobj: BinaryIO | None, size: int, name: str, head: bytes | None = None, fd: int = -1) -> None:
        """``fileobj``: the stream to read, or None to read the open descriptor ``fd`` (a path's,
        owned and closed by this source) by positioned reads.  ``head``: the file's first
        ``min(size, HEAD_SIZE)`` bytes when the caller holds them already (a buffer), counted as
        read; otherwise they are read now."""
        self._f = fileobj
        self._fd = fd
        self.size = size
        self.name = name
        if head is None:
            self.bytes_read = 0
            self._head = self._raw(0, min(size, HEAD_SIZE))
        else:
            self.bytes_read = len(head)
            self._head = head
        self._window_at, self._window = 0, b""

    @classmethod
    def open(
        cls, target: str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO, name: str = ""
    ) -> ByteSource:
        if isinstance(target, (bytes, bytearray, memoryview)):
            # A buffer's head is sliced from it, not read back through its stream (the EXIF reader
            # opens every EXIF blob so); ``bytes`` is immutable, so it is kept, not copied.
            data = target if type(target) is bytes else bytes(target)
            return cls(io.BytesIO(data), len(data), name or "<bytes>", data[:HEAD_SIZE])
        if hasattr(target, "read") and hasattr(target, "seek"):
            # An already open seekable file (a remote object with ranged reads): the source owns it now.
            # (mypy does not narrow a union by hasattr: what has read and seek here is the BinaryIO.)
            stream = cast(BinaryIO, target)
            return cls(stream, _stream_size(stream), name or getattr(stream, "name", "") or "<stream>")
        # A path: its descriptor, owned by the ByteSource returned (closed by its close()), not by
        # this block, and read by positioned reads (``os.pread``), each a large one (the head, a
        # read-ahead window, a block).  No file object: on a small file, which the head holds
        # whole, an unbuffered ``FileIO`` (its own fstat, the seek before the head's read) cost
        # more than the rest of the check's reading, and a buffered one copies every read again.
        # ``_pread_full`` reads until the count or the end, so a short read loses nothing.
        fd = os.open(target, os.O_RDONLY)  # not inherited by child processes (PEP 446), as open()'s
        try:
            status = os.fstat(fd)
            if stat.S_ISDIR(status.st_mode):  # what open() refuses (os.open does not)
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(target))
            return cls(None, status.st_size, name or os.fspath(target), fd=fd)
        except BaseException:
            os.close(fd)
            raise

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
        elif self._fd >= 0:
            fd, self._fd = self._fd, -1  # closed once, whoever else closes it again
            os.close(fd)

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def head(self) -> bytes:
        return self._head

    def fetch(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes at ``offset`` read from the file, not counted (``CountingStream``
        counts what it hands on)."""
        if self._f is None:
            return _pread_full(self._fd, n, offset)
        self._f.seek(offset)
        return _read_full(self._f, n)

    def _raw(self, offset: int, n: int) -> bytes:
        data = self.fetch(offset, n)
        self.bytes_read += len(data)
        return data

    def read(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes at ``offset`` (fewer at end of file)."""
        if n <= 0 or offset >= self.size:
            return b""
        end = offset + n
        if end <= len(self._head):
            return self._head[offset:end]
        w = offset - self._window_at
        if w >= 0 and end <= self._window_at + len(self._window):
            return self._window[w : w + n]
        if n <= SMALL_READ:
            self._window_at, self._window = offset, self._raw(offset, WINDOW_SIZE)
            return self._window[:n]
        return self._raw(offset, n)

    def find_last(self, needle: bytes, start: int, end: int) -> int:
        """The offset of the last ``needle`` wholly inside ``[start, end)``, or -1.  The bytes are
        read as ``read(start, end - start)`` would read them (so ``bytes_read`` is the same), but a
        range inside the head is searched where it is, without a copy."""
        end = min(end, self.size)
        if end <= len(self._head):
            return self._head.rfind(needle, start, end)
        at = self.read(start, end - start).rfind(needle)
        return at + start if at >= 0 else -1

    def read_exact(self, offset: int, n: int, what: str) -> bytes:
        data = self.read(offset, n)
        if len(data) != n:
            raise TruncatedError(f"file ends inside {what}", f"offset {offset:#x}")
        return data

    def stream(self) -> CountingStream:
        """The file as a read-only stream from its start, for libraries that need the whole file
        (the C2PA reader, Pillow).  What they read is added to ``bytes_read``, so the report shows
        whether validation had to touch the media data."""
        return CountingStream(self)


def _read_full(f: BinaryIO, n: int) -> bytes:
    """``n`` bytes from ``f``'s position, or up to its end (a raw file or a remote object may return
    fewer than asked for before the end)."""
    data = f.read(n)
    if not 0 < len(data) < n:
        return data
    return _rest(data, n, lambda got: f.read(n - got))


def _pread_full(fd: int, n: int, offset: int) -> bytes:
    """``_read_full`` by positioned reads of a descriptor."""
    data = os.pread(fd, n, offset)
    if not 0 < len(data) < n:
        return data
    return _rest(data, n, lambda got: os.pread(fd, n - got, offset + got))


def _rest(first: bytes, n: int, more: Callable[[int], bytes]) -> bytes:
    """``first``, a short read, and what ``more(got)`` reads after the ``got`` bytes held, until
    ``n`` or the end (an empty read)."""
    parts = [first]
    got = len(first)
    while got < n:
        data = more(got)
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def _stream_size(f: BinaryIO) -> int:
    size = getattr(f, "size", None)  # fsspec files know it from the listing or a HEAD; seeking to the end is free
    if isinstance(size, int):
        return size
    try:
        return os.fstat(f.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        return f.seek(0, io.SEEK_END)


class CountingStream(io.RawIOBase):
    """A read-only view of a ``ByteSource``'s file that counts the bytes read through it.  It keeps
    its own position and serves reads from the source's head or its own read-ahead window, so the
    many small reads of c2pa-python and Pillow cost no system call each (the file is unbuffered)."""

    def __init__(self, owner: ByteSource) -> None:
        super().__init__()
        self._owner = owner
        self._pos = 0
        # Its own read-ahead window: the source's window counts what it reads into ``bytes_read``.
        self._window_at, self._window = 0, b""
        self._head_view = memoryview(owner.head)

    def _bytes(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes at ``offset``, uncounted (``read`` counts what it hands on): from the
        source's head or this stream's window when they hold them (c2pa-python and Pillow step
        through a file in reads of a few bytes: a BMFF file's boxes cost hundreds), else read."""
        end = offset + n
        head = self._owner.head
        if end <= len(head):
            return head[offset:end]
        w = offset - self._window_at
        if w >= 0 and end <= self._window_at + len(self._window):
            return self._window[w : w + n]
        if n < STREAM_WINDOW:
            self._window_at, self._window = offset, self._owner.fetch(offset, STREAM_WINDOW)
            return self._window[:n]
        return self._owner.fetch(offset, n)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            n = max(self._owner.size - self._pos, 0)
        data = self._bytes(self._pos, n) if n else b""
        self._pos += len(data)
        self._owner.bytes_read += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: WriteableBuffer) -> int:
        # c2pa-python reads through this, tens to hundreds of times a file: a range inside the head
        # is copied straight from it into the caller's buffer (no bytes object between), and the
        # rest is ``read``'s.  The bytes counted are the same either way.
        view = memoryview(buffer)
        pos = self._pos
        end = pos + view.nbytes
        if end <= len(self._owner.head):
            view[:] = self._head_view[pos:end]
            self._pos = end
            self._owner.bytes_read += end - pos
            return end - pos
        data = self.read(view.nbytes)
        view[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._owner.size + offset
        else:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        if pos < 0:
            raise OSError(22, "Invalid argument")  # as a file's seek before its start
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._pos
