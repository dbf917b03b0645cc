"""Random access to a file or an in-memory buffer, counting the bytes read.

Readers ask for byte ranges; the file is never read whole unless C2PA hash
validation needs it.  The first ``HEAD_SIZE`` bytes are fetched once because
almost every header read lands there.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, BinaryIO, cast

from .errors import TruncatedError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

HEAD_SIZE = 64 * 1024
# Small reads past the head are served from a read-ahead window: walkers that step through many
# small headers (Ogg pages, PNG chunks, EBML elements) then cost one system call per window.
WINDOW_SIZE = 64 * 1024
SMALL_READ = 4 * 1024


class ByteSource:
    def __init__(self, fileobj: BinaryIO, size: int, name: str) -> None:
        self._f = fileobj
        self.size = size
        self.name = name
        self.bytes_read = 0
        self._head = self._raw(0, min(size, HEAD_SIZE))
        self._window_at, self._window = 0, b""

    @classmethod
    def open(
        cls, target: str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO, name: str = ""
    ) -> ByteSource:
        if isinstance(target, (bytes, bytearray, memoryview)):
            data = bytes(target)
            return cls(io.BytesIO(data), len(data), name or "<bytes>")
        if hasattr(target, "read") and hasattr(target, "seek"):
            # An already open seekable file (a remote object with ranged reads): the source owns it now.
            # (mypy does not narrow a union by hasattr: what has read and seek here is the BinaryIO.)
            stream = cast(BinaryIO, target)
            return cls(stream, _stream_size(stream), name or getattr(stream, "name", "") or "<stream>")
        # The file is owned by the ByteSource returned (closed by its close()), not by this block.
        # Unbuffered: every read here is a large positioned one (the head, a read-ahead window, a
        # block), which a BufferedReader only copies once more; on a small file the buffered open
        # and head read cost more than the rest of the check's reading.  ``_raw`` reads until the
        # count or the end, so a short read of the raw file (a pipe, a signal) loses nothing.
        f = cast(BinaryIO, open(target, "rb", buffering=0))  # noqa: SIM115
        try:
            size = os.fstat(f.fileno()).st_size
            return cls(f, size, name or os.fspath(target))
        except BaseException:
            f.close()
            raise

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def head(self) -> bytes:
        return self._head

    def _raw(self, offset: int, n: int) -> bytes:
        self._f.seek(offset)
        data = self._f.read(n)
        if 0 < len(data) < n:
            data = self._rest(data, n)
        self.bytes_read += len(data)
        return data

    def _rest(self, data: bytes, n: int) -> bytes:
        """``data`` completed to ``n`` bytes or the end of the stream (a raw file or a remote object
        may return fewer bytes than asked for before the end)."""
        parts = [data]
        got = len(data)
        while got < n:
            more = self._f.read(n - got)
            if not more:
                break
            parts.append(more)
            got += len(more)
        return b"".join(parts)

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
        """The underlying stream, rewound, for libraries that need the whole file
        (the C2PA reader).  What they read is added to ``bytes_read``, so the
        report shows whether validation had to touch the media data."""
        self._f.seek(0)
        return CountingStream(self._f, self)


def _stream_size(f: BinaryIO) -> int:
    size = getattr(f, "size", None)  # fsspec files know it from the listing or a HEAD; seeking to the end is free
    if isinstance(size, int):
        return size
    try:
        return os.fstat(f.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        return f.seek(0, io.SEEK_END)


class CountingStream(io.RawIOBase):
    """A read-only view of a stream that counts the bytes read through it."""

    def __init__(self, f: BinaryIO, owner: ByteSource) -> None:
        super().__init__()
        self._f, self._owner = f, owner

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._owner.bytes_read += len(data)
        return data

    def readinto(self, buffer: WriteableBuffer) -> int:
        # Straight into the caller's buffer (c2pa-python's read callback passes one) when the stream
        # can: no copy.  A stream without readinto (a remote object's reader) is read and copied.
        readinto = getattr(self._f, "readinto", None)
        if readinto is not None:
            n = readinto(buffer) or 0
            self._owner.bytes_read += n
            return int(n)
        view = memoryview(buffer)
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()
