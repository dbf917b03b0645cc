"""Stream one upload to a private spool (memory or an unlinked file), enforcing size and time limits as bytes arrive.

Two request shapes:

- raw body: the media bytes, ``Content-Type`` a media type (``image/*``, ``video/*``,
  ``audio/*``, ``application/octet-stream`` or none); ``declared`` and ``name`` as query
  parameters;
- ``multipart/form-data``: a ``file`` part and an optional ``declared`` part.

The size limit is checked against ``Content-Length`` before any byte is read
and again while streaming, so a missing or lying header changes nothing.  The
spool is an open descriptor with no name (see :class:`Upload`); the caller hands
it to a worker and closes it (``Upload.discard``).
"""

from __future__ import annotations

import mmap
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from .direct_body import EXTENSION as DIRECT_BODY
from .direct_body import DirectBody
from .errors import BadRequestError, PayloadTooLargeError, RequestTimeoutError, UnsupportedMediaTypeError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks  # defined for type checkers only

RAW_TYPE_PREFIXES = ("image/", "video/", "audio/")
RAW_TYPES = ("application/octet-stream",)
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and small fields around the file
MAX_FIELD_BYTES = 1024  # a text field (``declared``) longer than this is a bad request
MAX_NAME_CHARS = 255
DEFAULT_NAME = "upload"


class MemorySpool:
    """One memfd, mapped once at the memory-spool limit: an upload is copied into the mapping (one
    ``memcpy``, no system call and no page-cache lookup per page once the pages are in), and the
    file is cut to the upload's size before the worker gets it."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.fd = os.memfd_create("aigc-check-upload", os.MFD_CLOEXEC)
        try:
            os.ftruncate(self.fd, capacity)  # sparse: pages are allocated as they are written
            self.map = mmap.mmap(self.fd, capacity)
        except BaseException:
            os.close(self.fd)
            raise

    def reopen(self) -> None:
        """Grow the file back to the mapping's size after an upload cut it (the kept pages stay)."""
        os.ftruncate(self.fd, self.capacity)

    def close(self) -> None:
        self.map.close()
        os.close(self.fd)


class MemorySpools:
    """Reused memory spools for in-memory uploads: a fresh memfd costs its pages' allocation, zeroing
    and freeing on every upload (a fifth of the event loop's time for a 3 MB upload, by ``perf``), a
    ``write`` into it a page-cache lookup per page; a reused, mapped one costs only the copy.  Idle
    spools are kept while the pages they hold total at most ``keep_bytes`` (there are never more
    spools than requests were once in flight at the same time, so their descriptors are within the
    open-file budget).  One is reused only after its request ended, when the worker has closed its
    copy (before it answered, or by dying), and it is cut to each upload's size, so no byte of an
    earlier upload shows."""

    def __init__(self, keep_bytes: int, capacity: int) -> None:
        self.keep_bytes = keep_bytes
        self.capacity = capacity
        self._idle: list[tuple[MemorySpool, int]] = []  # with the bytes of pages each holds
        self._idle_bytes = 0

    @staticmethod
    def available() -> bool:
        return hasattr(os, "memfd_create")

    def acquire(self) -> MemorySpool:
        if self._idle:
            spool, held = self._idle.pop()
            self._idle_bytes -= held
            spool.reopen()
            return spool
        return MemorySpool(self.capacity)

    def release(self, spool: MemorySpool, held: int) -> None:
        """Keep ``spool`` for reuse, cut to the ``held`` bytes its last upload wrote, or close it."""
        if self._idle_bytes + held <= self.keep_bytes:
            try:
                os.ftruncate(spool.fd, held)  # also when its upload failed before finish()
            except OSError:
                spool.close()
                return
            self._idle.append((spool, held))
            self._idle_bytes += held
        else:
            spool.close()

    def close(self) -> None:
        while self._idle:
            self._idle.pop()[0].close()
        self._idle_bytes = 0


@dataclass
class Upload:
    """The spooled bytes of one upload, held by an open descriptor and nowhere else.

    Up to ``memory_limit`` bytes live in a memfd (anonymous shared memory, Linux); past it, or where
    there is no memfd, in a file of the private spool folder that is unlinked as soon as it is made.
    Either way no name of it exists to be reached or left behind (not even by a crash), the worker
    gets the descriptor itself (``SCM_RIGHTS``), and the bytes go when the last descriptor closes.
    """

    name: str  # the client's file name, for display only (never a path on this host)
    spool_dir: str
    memory_limit: int
    spools: MemorySpools | None = None  # None: never in memory
    declared: str | None = None  # from the form, if it had a ``declared`` part
    size: int = 0
    memory: MemorySpool | None = None  # in memory: the spool; else ``disk_fd``
    disk_fd: int = -1
    closed: bool = False

    @property
    def in_memory(self) -> bool:
        return self.memory is not None

    @property
    def fd(self) -> int:
        """The descriptor to hand the worker."""
        return self.memory.fd if self.memory is not None else self.disk_fd

    def open(self, expected_size: int | None) -> Upload:
        """Make the spool: in memory when the size announced (or, unannounced, so far) fits."""
        if self.spools is not None and (expected_size or 0) <= self.memory_limit:
            self.memory = self.spools.acquire()
        else:
            self.disk_fd = _unlinked_file(self.spool_dir)
        return self

    def finish(self) -> None:
        """The whole file is in: cut a memory spool to this upload's size (the worker reads its size)."""
        if self.memory is not None:
            os.ftruncate(self.memory.fd, self.size)

    async def read_direct(self, body: DirectBody, timeout: float | None = None) -> None:
        """The whole body straight into the memory spool (``direct_body.py``): the kernel's copy only;
        ``TimeoutError`` past ``timeout``."""
        assert self.memory is not None and self.size == 0 and body.length <= self.memory_limit
        view = memoryview(self.memory.map)[: body.length]
        try:
            await body.read_into(view, timeout)
        finally:
            view.release()  # the mapping cannot be reused (or closed) while a view holds it
        self.size = body.length

    def write(self, data: bytes | memoryview, limit: int) -> None:
        end = self.size + len(data)
        if end > limit:
            raise PayloadTooLargeError(f"the upload is larger than the {limit} byte limit")
        if self.closed:
            raise ValueError(f"write to the closed upload {self.name!r}")
        if self.memory is not None and end > self.memory_limit:
            self._move_to_disk()  # an upload without Content-Length that outgrew memory
        if self.memory is not None:
            self.memory.map[self.size : end] = data
        else:
            view = memoryview(data)
            while view:
                view = view[os.write(self.disk_fd, view) :]
        self.size = end

    def _move_to_disk(self) -> None:
        assert self.memory is not None
        disk = _unlinked_file(self.spool_dir)
        try:
            view = memoryview(self.memory.map)[: self.size]
            try:
                while view:
                    view = view[os.write(disk, view) :]
            finally:
                view.release()  # the mapping cannot be reused (or closed) while a view holds it
        except BaseException:
            os.close(disk)
            raise
        if self.spools is not None:
            self.spools.release(self.memory, self.size)
        self.memory, self.disk_fd = None, disk

    def discard(self) -> None:
        """Close the spool (a memory spool goes back for reuse); a file's bytes go once the worker has
        closed its copy too."""
        if self.closed:
            return
        self.closed = True
        if self.memory is not None:
            if self.spools is not None:
                self.spools.release(self.memory, self.size)
            else:
                self.memory.close()
            self.memory = None
        elif self.disk_fd >= 0:
            os.close(self.disk_fd)
            self.disk_fd = -1


def _unlinked_file(spool_dir: str) -> int:
    fd, path = tempfile.mkstemp(dir=spool_dir, prefix="upload-")
    os.unlink(path)  # (O_TMPFILE would skip the name, but not every file system has it)
    return fd


@dataclass(frozen=True)
class SpoolPlace:
    """Where uploads are spooled: the private folder, and memory up to ``memory_limit`` bytes."""

    folder: str
    memory_limit: int
    spools: MemorySpools | None


def new_upload(place: SpoolPlace, name: str, expected_size: int | None) -> Upload:
    upload = Upload(
        name=display_name(name), spool_dir=place.folder, memory_limit=place.memory_limit, spools=place.spools
    )
    return upload.open(expected_size)


def display_name(name: str) -> str:
    """The last path component of a client-given name, without control characters, bounded."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable())[:MAX_NAME_CHARS]
    return base or DEFAULT_NAME


async def _stream_body(request: Request, deadline: float, consume: Callable[[bytes], object]) -> None:
    """Feed the request body to ``consume`` chunk by chunk; ``RequestTimeoutError`` once ``deadline`` passes.

    One timer for the whole body (not one ``wait_for`` task per chunk: a 3 MB upload
    arrives in dozens of chunks and the per-chunk cost showed in the latency).
    """
    try:
        with anyio.fail_after(max(deadline - time.monotonic(), 0)):
            async for chunk in request.stream():
                if chunk:
                    consume(chunk)
    except TimeoutError:
        raise RequestTimeoutError("the upload was not received within the read time limit") from None
    except ClientDisconnect:
        raise BadRequestError("the client went away during the upload", "client-disconnected") from None


async def _read_direct(upload: Upload, body: DirectBody, deadline: float) -> None:
    """:func:`_stream_body`'s errors for the direct read: one timer for the whole body, the read's own."""
    try:
        await upload.read_direct(body, max(deadline - time.monotonic(), 0))
    except TimeoutError:
        raise RequestTimeoutError("the upload was not received within the read time limit") from None
    except ClientDisconnect:
        raise BadRequestError("the client went away during the upload", "client-disconnected") from None


def declared_length(request: Request, limit: int) -> int | None:
    """The body's ``Content-Length`` (None when absent), refused above ``limit`` before any byte is read."""
    length = request.headers.get("content-length")
    if length is None:
        return None
    if not length.isdigit():
        raise BadRequestError(f"Content-Length {length!r} is not a number")
    if int(length) > limit:
        raise PayloadTooLargeError(f"the request body ({length} bytes) is larger than the {limit} byte limit")
    return int(length)


async def receive_upload(request: Request, place: SpoolPlace, max_bytes: int, read_timeout: float) -> Upload:
    """Spool the request's file (see :class:`Upload`); on any error nothing is left behind."""
    deadline = time.monotonic() + read_timeout
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        length = declared_length(request, max_bytes + MULTIPART_OVERHEAD)
        return await _receive_multipart(request, content_type, place, max_bytes, length, deadline)
    if media_type and not (media_type.startswith(RAW_TYPE_PREFIXES) or media_type in RAW_TYPES):
        raise UnsupportedMediaTypeError(
            f"Content-Type {media_type!r} is not a media type: send the file as multipart/form-data "
            "(field 'file'), or as the raw body with its media type (image/*, video/*, audio/*, "
            "application/octet-stream)"
        )
    length = declared_length(request, max_bytes)
    upload = new_upload(place, request.query_params.get("name", DEFAULT_NAME), length)
    direct: DirectBody | None = request.scope.get("extensions", {}).get(DIRECT_BODY)
    try:
        if direct is not None and upload.in_memory and direct.length == length:
            await _read_direct(upload, direct, deadline)
        else:  # no server support, a chunked body, or one too large for memory
            await _stream_body(request, deadline, lambda chunk: upload.write(chunk, max_bytes))
        upload.finish()
    except BaseException:
        upload.discard()
        raise
    return upload


class _FormReader:
    """python-multipart callbacks: the ``file`` part goes to disk, ``declared`` to a small buffer."""

    def __init__(self, place: SpoolPlace, max_bytes: int, length: int | None) -> None:
        self.place = place
        self.max_bytes = max_bytes
        self.length = length  # the whole body's, an upper bound of the file's
        self.upload: Upload | None = None
        self.file_complete = False
        self.fields: dict[str, bytearray] = {}
        self._headers: dict[bytes, bytes] = {}
        self._header_name = b""
        self._header_value = b""
        self._target: str | None = None  # "file", a field name, or None to skip the part

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self._headers = {}
        self._header_name = self._header_value = b""
        self._target = None

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if name == "file":
            if self.upload is not None:
                raise BadRequestError("send one file per request", "too-many-files")
            if filename is None:
                raise BadRequestError("the 'file' part must be a file (it has no filename)", "missing-file")
            if not filename:  # what a browser sends for a file input with nothing chosen
                raise BadRequestError("no file was chosen", "missing-file")
            name = filename.decode("utf-8", "replace")
            self.upload = new_upload(self.place, name, self.length)
            self._target = "file"
        elif name == "declared":
            self.fields[name] = bytearray()
            self._target = name

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._target == "file":
            assert self.upload is not None  # made by headers_finished when it chose the "file" target
            self.upload.write(memoryview(data)[start:end], self.max_bytes)  # no copy of the file's bytes
        elif self._target is not None:
            buf = self.fields[self._target]
            buf += data[start:end]
            if len(buf) > MAX_FIELD_BYTES:
                raise BadRequestError(f"the '{self._target}' field is too long")

    def part_end(self) -> None:
        if self._target == "file":
            self.file_complete = True
        self._target = None


async def _receive_multipart(
    request: Request,
    content_type: str,
    place: SpoolPlace,
    max_bytes: int,
    length: int | None,
    deadline: float,
) -> Upload:
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise BadRequestError("multipart/form-data without a boundary parameter")
    form = _FormReader(place, max_bytes, length)
    parser = MultipartParser(boundary, form.callbacks())
    try:
        try:
            await _stream_body(request, deadline, parser.write)
            parser.finalize()
        except MultipartParseError as exc:
            raise BadRequestError(f"malformed multipart body: {exc}", "bad-multipart") from None
        if form.upload is None:
            raise BadRequestError("the form has no 'file' field", "missing-file")
        if not form.file_complete:
            raise BadRequestError("the multipart body ended inside the 'file' part", "incomplete-body")
        form.upload.finish()
    except BaseException:
        if form.upload is not None:
            form.upload.discard()
        raise
    upload = form.upload
    if "declared" in form.fields:
        upload.declared = form.fields["declared"].decode("utf-8", "replace")  # parsed by Declared.parse
    return upload
