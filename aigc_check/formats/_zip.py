"""A bounded ZIP reader for the document walkers (OOXML, ODF, EPUB).

The standard library's ``zipfile`` reads the central directory and inflates members, within bounds
checked here first: the end-of-central-directory record is read by hand so that an archive with
more than ``MAX_ZIP_ENTRIES`` entries (or a ZIP64 directory, which no office suite writes) is
refused before ``zipfile`` builds one object per entry; each member is read through a size-capped
stream (a member that claims, or inflates to, more than ``MAX_ZIP_MEMBER`` is refused, whatever
its header says), and all members together within ``MAX_ZIP_TOTAL``.  Member names are only ever
compared with the names a format defines, never used as paths; a member that is itself an archive
is never opened.
"""

from __future__ import annotations

import io
import struct
import zipfile

from ..errors import LimitExceededError, TruncatedError
from ..limits import MAX_METADATA_BLOCK
from ..source import ByteSource

MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_DIRECTORY = 4 * 1024 * 1024  # central directory bytes
MAX_ZIP_MEMBER = MAX_METADATA_BLOCK  # one metadata part, inflated
MAX_ZIP_TOTAL = 4 * MAX_METADATA_BLOCK  # all parts read from one archive, inflated
_EOCD = b"PK\x05\x06"


class _SourceStream(io.RawIOBase):
    """A seekable read-only view of a ByteSource, for zipfile."""

    def __init__(self, src: ByteSource) -> None:
        self.src, self.pos = src, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.src.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.src.read(self.pos, min(len(b), max(0, self.src.size - self.pos)))
        b[: len(data)] = data
        self.pos += len(data)
        return len(data)


class _HeadStream(io.BytesIO):
    """The head of a file that lies wholly in it, for zipfile: what ``_SourceStream`` reads there,
    without a Python call per read (most office documents are a few KiB).  A negative position is
    taken as 0, as ``_SourceStream`` takes it (a hostile central directory may point before the
    start), where ``BytesIO`` would raise."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.size = len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = 0 if whence == 0 else self.tell() if whence == 1 else self.size
        return super().seek(max(0, base + offset))


def archive_stream(src: ByteSource) -> io.BufferedIOBase:
    """The stream zipfile reads the archive from: the head itself when it holds the whole file (no
    byte is read that ``_SourceStream`` would not read: the head is read already), else a buffered
    view of the source."""
    if src.size <= len(src.head):
        return _HeadStream(src.head)
    return io.BufferedReader(_SourceStream(src), 65536)


class BoundedZip:
    def __init__(self, src: ByteSource) -> None:
        tail_at = max(0, src.size - (65535 + 22))
        tail = src.read(tail_at, src.size - tail_at)
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            raise TruncatedError("the ZIP archive has no end of central directory: the file was cut short", "end")
        entries, dir_size = struct.unpack_from("<xxxxxxxxxxHI", tail, at)
        if entries == 0xFFFF or dir_size == 0xFFFFFFFF:
            raise LimitExceededError("a ZIP64 central directory (no office suite writes one) is not read", "EOCD")
        if entries > MAX_ZIP_ENTRIES:
            raise LimitExceededError(f"{entries} ZIP entries, more than {MAX_ZIP_ENTRIES}", "ZIP central directory")
        if dir_size > MAX_ZIP_DIRECTORY:
            raise LimitExceededError(
                f"a ZIP central directory of {dir_size} bytes, more than {MAX_ZIP_DIRECTORY}", "ZIP central directory"
            )
        try:
            self.zf = zipfile.ZipFile(archive_stream(src))
        except (zipfile.BadZipFile, EOFError, ValueError, struct.error) as exc:
            raise TruncatedError(f"the ZIP central directory cannot be read: {exc}", "ZIP central directory") from exc
        infos = self.zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise LimitExceededError(f"{len(infos)} ZIP entries, more than {MAX_ZIP_ENTRIES}", "ZIP central directory")
        self.members = {i.filename: i for i in infos}
        self.total = 0

    def has(self, name: str) -> bool:
        return name in self.members

    def read(self, name: str, cap: int = MAX_ZIP_MEMBER) -> bytes:
        """The inflated member, at most ``cap`` bytes; the whole archive within MAX_ZIP_TOTAL."""
        info = self.members[name]
        where = f"ZIP member {name!r}"
        if info.file_size > cap:
            raise LimitExceededError(f"the member claims {info.file_size} bytes inflated, more than {cap}", where)
        try:
            with self.zf.open(info) as f:
                data = f.read(cap + 1)
                if len(data) <= cap:
                    f.read(1)  # at the declared end: zipfile checks the CRC here
        except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, OSError) as exc:
            raise TruncatedError(f"the member cannot be inflated: {exc}", where) from exc
        except Exception as exc:  # zlib.error and the like: a broken member
            raise TruncatedError(f"the member cannot be inflated: {type(exc).__name__}: {exc}", where) from exc
        if len(data) > cap:
            raise LimitExceededError(f"the member inflates to more than {cap} bytes", where)
        self.total += len(data)
        if self.total > MAX_ZIP_TOTAL:
            raise LimitExceededError(f"the members read inflate to more than {MAX_ZIP_TOTAL} bytes in all", where)
        return data
