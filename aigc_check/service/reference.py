"""Check by reference: ``POST /v1/check`` with a JSON body naming a file on this host or an object.

    {"path": "/srv/uploads/a.jpg", "declared": "none", "name": "a.jpg"}
    {"uri": "s3://bucket/key.jpg", "declared": "ai"}

The bytes are not shipped: the service opens the file itself (or the worker opens the object by
ranged reads), so only what the operator allows may be named:

- a ``path`` must be absolute and, once resolved (every symlink followed, ``..`` removed), lie in
  one of the ``--allow-root`` folders (themselves resolved at start).  It is then opened without
  following a symlink in its last component (``O_NOFOLLOW``) and without blocking (a FIFO cannot
  stall the event loop), and the descriptor's own path (``/proc/self/fd``; where there is none,
  the device and inode of the resolved path) is checked against the roots again: a folder swapped
  for a symlink between the resolution and the open is caught, not followed.  The worker checks
  that descriptor, never a path it would resolve again.
- a ``uri`` must start with one of the ``--allow-uri-prefix`` prefixes at a ``/`` boundary, have
  no ``.`` or ``..`` segments, query or fragment, and not name a local file (``file:``).

Anything else is 403 ``path-not-allowed``, with one message whether or not the file exists.  A
file inside a root that cannot be opened (missing, denied, not a regular file) is a result with
the verdict ``unreadable``, as a missing file is for ``check``.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.requests import ClientDisconnect, Request

from .config import LOCAL_SCHEMES
from .errors import BadRequestError, PathNotAllowedError, PayloadTooLargeError, RequestTimeoutError

MAX_REFERENCE_BYTES = 64 * 1024  # a JSON reference is a few hundred bytes; this bounds a hostile one
MAX_NAME_CHARS = 4096  # a path or URI longer than this is not one anybody stores
FIELDS = ("path", "uri", "declared", "name")
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOCTTY", 0)
)
_PROC_FD = "/proc/self/fd"


@dataclass(frozen=True)
class Reference:
    """A parsed by-reference request: exactly one of ``path`` and ``uri``."""

    path: str | None
    uri: str | None
    declared: str | None  # parsed by Declared.parse at the route, as every declaration is
    name: str | None  # shown as the result's ``path``; the path or URI when absent

    @property
    def display(self) -> str:
        return self.name or self.path or self.uri or ""


def parse_reference(body: bytes) -> Reference:
    """The request a JSON body names; ``BadRequestError`` (``bad-json``, ``bad-reference``) otherwise."""
    try:
        data: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequestError(f"the body is not JSON: {exc}", "bad-json") from None
    if not isinstance(data, dict):
        raise BadRequestError('the body must be a JSON object: {"path": ...} or {"uri": ...}', "bad-reference")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise BadRequestError(f"unknown fields {unknown}: a reference has {', '.join(FIELDS)}", "bad-reference")
    values: dict[str, str | None] = {}
    for key in FIELDS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise BadRequestError(f"{key!r} must be a string", "bad-reference")
        if value is not None and (not value or len(value) > MAX_NAME_CHARS or "\0" in value):
            raise BadRequestError(f"{key!r} must be 1 to {MAX_NAME_CHARS} characters, without NUL", "bad-reference")
        values[key] = value
    if (values["path"] is None) == (values["uri"] is None):
        raise BadRequestError('name exactly one of "path" and "uri"', "bad-reference")
    if values["path"] is not None and not os.path.isabs(values["path"]):
        raise BadRequestError(f"'path' must be absolute: {values['path']!r}", "bad-reference")
    return Reference(values["path"], values["uri"], values["declared"], values["name"])


async def receive_reference(request: Request, read_timeout: float) -> Reference:
    """Read and parse the JSON body (at most ``MAX_REFERENCE_BYTES``, within ``read_timeout``)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_REFERENCE_BYTES:
        raise PayloadTooLargeError(f"a JSON reference is at most {MAX_REFERENCE_BYTES} bytes")
    body = bytearray()
    try:
        with anyio.fail_after(read_timeout):
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_REFERENCE_BYTES:
                    raise PayloadTooLargeError(f"a JSON reference is at most {MAX_REFERENCE_BYTES} bytes")
    except TimeoutError:
        raise RequestTimeoutError("the request body was not received within the read time limit") from None
    except ClientDisconnect:
        raise BadRequestError("the client went away during the request", "client-disconnected") from None
    return parse_reference(bytes(body))


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _not_allowed(path: str) -> PathNotAllowedError:
    return PathNotAllowedError(f"{path!r} is not under any folder this service may read (--allow-root)")


def _uri_not_allowed(uri: str) -> PathNotAllowedError:
    return PathNotAllowedError(f"{uri!r} is not under any URI prefix this service may read (--allow-uri-prefix)")


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
        raise PathNotAllowedError("checking by path is off: the service was started without --allow-root")
    resolved = os.path.realpath(path)
    if not _under(resolved, roots):
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


async def open_allowed_off_loop(path: str, roots: tuple[str, ...]) -> OpenedFile:
    """:func:`open_allowed` in a worker thread: resolving and opening touch the file system (every
    component's ``lstat``, the ``open``, ``/proc``), which on a slow or hung network root would stall
    the event loop and every connection on it.  A request cancelled meanwhile still waits for the
    thread (a descriptor is never left to it) and closes what it opened."""
    results: list[OpenedFile] = []

    def resolve_and_open() -> OpenedFile:
        opened = open_allowed(path, roots)
        results.append(opened)
        return opened

    try:
        return await anyio.to_thread.run_sync(resolve_and_open)
    except BaseException:
        for opened in results:
            opened.close()
        raise


def _opened_under(fd: int, resolved: str, roots: tuple[str, ...]) -> bool:
    """Whether the file behind ``fd`` is the one the resolution allowed (the TOCTOU check)."""
    if sys.platform.startswith("linux") and os.path.isdir(_PROC_FD):
        try:
            actual = os.readlink(f"{_PROC_FD}/{fd}")  # the kernel's own path of the opened file
        except OSError:
            return False
        return _under(actual, roots)
    try:  # no /proc: the opened file must still be the one at the resolved path
        here, there = os.fstat(fd), os.stat(resolved, follow_symlinks=False)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino) and _under(os.path.realpath(resolved), roots)


def check_uri(uri: str, prefixes: tuple[str, ...]) -> None:
    """Refuse (``PathNotAllowedError``) a URI outside every prefix, or one that could step out of its prefix."""
    if not prefixes:
        raise PathNotAllowedError("checking by URI is off: the service was started without --allow-uri-prefix")
    scheme, sep, rest = uri.partition("://")
    if not sep or not scheme or scheme.lower() in LOCAL_SCHEMES:
        raise BadRequestError(
            f"'uri' must name an object (scheme://bucket/key), not a local file: {uri!r} (use 'path')",
            "bad-reference",
        )
    if "?" in rest or "#" in rest or any(seg in (".", "..") for seg in rest.split("/")):
        raise _uri_not_allowed(uri)
    for prefix in prefixes:
        boundary = prefix if prefix.endswith("/") else prefix + "/"
        if uri == prefix or uri.startswith(boundary):
            return
    raise _uri_not_allowed(uri)
