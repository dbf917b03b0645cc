"""Check by reference: ``POST /v1/check`` with a JSON body naming a file on this host or an object.

    {"path": "/srv/uploads/a.jpg", "declared": "none", "name": "a.jpg"}
    {"uri": "s3://bucket/key.jpg", "declared": "ai"}

The bytes are not shipped: the checker worker opens the file itself (or the object by ranged
reads), so only what the operator allows may be named:

- a ``path`` must be absolute and, once resolved (every symlink followed, ``..`` removed), lie in
  one of the ``--allow-root`` folders; the worker resolves and opens it (``allowed_path.py``, which
  says how), so the event loop never waits on the file system.
- a ``uri`` must start with one of the ``--allow-uri-prefix`` prefixes at a ``/`` boundary, have
  no ``.`` or ``..`` segments, query or fragment, and not name a local file (``file:``).

Anything else is 403 ``path-not-allowed``, with one message whether or not the file exists.  A
file inside a root that cannot be opened (missing, denied, not a regular file) is a result with
the verdict ``unreadable``, as a missing file is for ``check``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.requests import ClientDisconnect, Request

from .config import LOCAL_SCHEMES
from .direct_body import EXTENSION as DIRECT_BODY
from .direct_body import DirectBody
from .errors import BadRequestError, PathNotAllowedError, PayloadTooLargeError, RequestTimeoutError

MAX_REFERENCE_BYTES = 64 * 1024  # a JSON reference is a few hundred bytes; this bounds a hostile one
MAX_NAME_CHARS = 4096  # a path or URI longer than this is not one anybody stores
FIELDS = ("path", "uri", "declared", "name")


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
    direct: DirectBody | None = request.scope.get("extensions", {}).get(DIRECT_BODY)
    if direct is not None and direct.length <= MAX_REFERENCE_BYTES:
        # A body of known length (the usual case): read directly, with the read's own deadline, which
        # is not even armed when the few hundred bytes came with the headers (anyio's cancel scope
        # was a tenth of the loop's time for a reference, by cProfile).
        body = bytearray(direct.length)
        try:
            await direct.read_into(memoryview(body), None if direct.arrived else read_timeout)
        except TimeoutError:
            raise RequestTimeoutError("the request body was not received within the read time limit") from None
        except ClientDisconnect:
            raise BadRequestError("the client went away during the request", "client-disconnected") from None
        return parse_reference(bytes(body))
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


def _uri_not_allowed(uri: str) -> PathNotAllowedError:
    return PathNotAllowedError(f"{uri!r} is not under any URI prefix this service may read (--allow-uri-prefix)")


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
