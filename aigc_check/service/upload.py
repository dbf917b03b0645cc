"""Stream one upload to a private temp file, enforcing size and time limits as bytes arrive.

Two request shapes:

- raw body: the media bytes, ``Content-Type`` a media type (``image/*``, ``video/*``,
  ``audio/*``, ``application/octet-stream`` or none); ``declared`` and ``name`` as query
  parameters;
- ``multipart/form-data``: a ``file`` part and an optional ``declared`` part.

The size limit is checked against ``Content-Length`` before any byte is read
and again while streaming, so a missing or lying header changes nothing.  At
most one chunk is held in memory; the caller deletes the file (``Upload.discard``).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from .errors import BadRequestError, PayloadTooLargeError, RequestTimeoutError, UnsupportedMediaTypeError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks  # defined for type checkers only

RAW_TYPE_PREFIXES = ("image/", "video/", "audio/")
RAW_TYPES = ("application/octet-stream",)
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and small fields around the file
MAX_FIELD_BYTES = 1024  # a text field (``declared``) longer than this is a bad request
MAX_NAME_CHARS = 255
DEFAULT_NAME = "upload"


@dataclass
class Upload:
    path: str  # the spooled file, private to this request
    name: str  # the client's file name, for display only (never a path on this host)
    declared: str | None = None  # from the form, if it had a ``declared`` part
    size: int = 0
    _fd: int | None = field(default=None, repr=False)

    def write(self, data: bytes | memoryview, limit: int) -> None:
        self.size += len(data)
        if self.size > limit:
            raise PayloadTooLargeError(f"the upload is larger than the {limit} byte limit")
        fd = self._fd
        if fd is None:
            raise ValueError(f"write to the closed upload {self.path}")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def discard(self) -> None:
        self.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def new_upload(spool_dir: str, name: str) -> Upload:
    fd, path = tempfile.mkstemp(dir=spool_dir, prefix="upload-")
    return Upload(path=path, name=display_name(name), _fd=fd)


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


def _check_declared_length(request: Request, limit: int) -> None:
    length = request.headers.get("content-length")
    if length is None:
        return
    if not length.isdigit():
        raise BadRequestError(f"Content-Length {length!r} is not a number")
    if int(length) > limit:
        raise PayloadTooLargeError(f"the request body ({length} bytes) is larger than the {limit} byte limit")


async def receive_upload(request: Request, spool_dir: str, max_bytes: int, read_timeout: float) -> Upload:
    """Spool the request's file to ``spool_dir``; on any error nothing is left behind."""
    deadline = time.monotonic() + read_timeout
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        _check_declared_length(request, max_bytes + MULTIPART_OVERHEAD)
        return await _receive_multipart(request, content_type, spool_dir, max_bytes, deadline)
    if media_type and not (media_type.startswith(RAW_TYPE_PREFIXES) or media_type in RAW_TYPES):
        raise UnsupportedMediaTypeError(
            f"Content-Type {media_type!r} is not a media type: send the file as multipart/form-data "
            "(field 'file'), or as the raw body with its media type (image/*, video/*, audio/*, "
            "application/octet-stream)"
        )
    _check_declared_length(request, max_bytes)
    upload = new_upload(spool_dir, request.query_params.get("name", DEFAULT_NAME))
    try:
        await _stream_body(request, deadline, lambda chunk: upload.write(chunk, max_bytes))
        upload.close()
    except BaseException:
        upload.discard()
        raise
    return upload


class _FormReader:
    """python-multipart callbacks: the ``file`` part goes to disk, ``declared`` to a small buffer."""

    def __init__(self, spool_dir: str, max_bytes: int) -> None:
        self.spool_dir = spool_dir
        self.max_bytes = max_bytes
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
            self.upload = new_upload(self.spool_dir, filename.decode("utf-8", "replace"))
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
    request: Request, content_type: str, spool_dir: str, max_bytes: int, deadline: float
) -> Upload:
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise BadRequestError("multipart/form-data without a boundary parameter")
    form = _FormReader(spool_dir, max_bytes)
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
        form.upload.close()
    except BaseException:
        if form.upload is not None:
            form.upload.discard()
        raise
    upload = form.upload
    if "declared" in form.fields:
        upload.declared = form.fields["declared"].decode("utf-8", "replace")  # parsed by Declared.parse
    return upload
