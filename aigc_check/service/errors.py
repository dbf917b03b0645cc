"""Typed errors of the service; each carries the HTTP status and a stable machine code.

Every error answer, over HTTP or on a ``--stdin-jsonl`` line, has one shape:
``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

from typing import Any

from ..errors import AigcCheckError, UsageError


class ServeDependencyError(UsageError):
    """``serve`` was asked for but its optional dependencies are not installed."""


class ServiceError(AigcCheckError):
    """A request the service could not answer with a verdict."""

    status = 500
    code = "internal-error"
    retry_after: int | None = None  # seconds, sent as Retry-After when set

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def body(self) -> dict[str, Any]:
        return error_body(self.code, str(self))


class BadRequestError(ServiceError):
    status = 400
    code = "bad-request"

    def __init__(self, message: str, code: str = "bad-request") -> None:
        super().__init__(message)
        self.code = code


class PathNotAllowedError(ServiceError):
    """A by-reference path or URI outside every ``--allow-root`` and ``--allow-uri-prefix`` (or none given)."""

    status = 403
    code = "path-not-allowed"


class PayloadTooLargeError(ServiceError):
    status = 413
    code = "too-large"


class UnsupportedMediaTypeError(ServiceError):
    status = 415
    code = "unsupported-content-type"


class RequestTimeoutError(ServiceError):
    """The client did not send its upload within the read time limit."""

    status = 408
    code = "upload-timeout"


class HeaderTimeoutError(ServiceError):
    """The request's headers did not arrive within the header time limit (answered by the transport)."""

    status = 408
    code = "header-timeout"


class HeadersTooLargeError(ServiceError):
    """The request line and header fields are larger than the header size limit (answered by the transport)."""

    status = 431
    code = "headers-too-large"


class TooManyConnectionsError(ServiceError):
    """A connection beyond the connection limit (answered by the transport as soon as it is accepted)."""

    status = 503
    code = "too-many-connections"
    retry_after = 1


class CheckTimeoutError(ServiceError):
    """The check ran past the per-request time limit; its worker was replaced."""

    status = 504
    code = "check-timeout"


class OverloadedError(ServiceError):
    status = 503
    code = "overloaded"
    retry_after = 1


class WorkerCrashedError(ServiceError):
    """The checker process died during the check (a native library crash)."""

    status = 500
    code = "checker-crashed"


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
