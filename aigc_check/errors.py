"""Typed errors, all under one root so callers can catch ``AigcCheckError``.

Errors are for the caller's mistakes (bad policy file, bad option).  Problems
with a *media file* are never raised to the caller: they become entries in the
result's ``errors`` list, so one bad file cannot stop a batch.
"""


class AigcCheckError(Exception):
    """Root of every error this library raises."""


class UsageError(AigcCheckError):
    """The caller asked for something impossible (unknown declaration, bad option)."""


class DeclarationError(UsageError):
    """A declaration that is not ``ai``, ``not-ai`` or ``none`` (see ``Declared.parse``)."""


class PolicyError(AigcCheckError):
    """A policy file is missing, unparseable or inconsistent."""


class TrustAnchorError(AigcCheckError):
    """A trust-anchor file could not be read or holds no PEM certificate."""


class DataFileError(AigcCheckError):
    """A shipped or user-supplied data file (generator fingerprints) is invalid."""


class MediaError(AigcCheckError):
    """Raised inside readers for a malformed file; caught by the pipeline.

    ``code`` is a stable machine-readable string that ends up in the report.
    """

    code = "malformed"

    def __init__(self, message: str, location: str = "") -> None:
        super().__init__(message)
        self.location = location


class TruncatedError(MediaError):
    code = "truncated"


class LimitExceededError(MediaError):
    """A structural bound (nesting, count, size) was hit: the file may be hostile."""

    code = "limit-exceeded"


class UnsupportedFormatError(MediaError):
    code = "unsupported-format"
