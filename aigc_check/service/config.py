"""Every limit and option of the service in one place.

The CLI fills a :class:`ServeConfig` from flags, each with an ``AIGC_SERVE_*``
environment variable (see ``ENV_VARS``), so an operator can configure a
container without a command line.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field

from ..checker import CheckOptions
from ..errors import UsageError

ENV_PREFIX = "AIGC_SERVE_"
_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
MIN_HEADER_BYTES = 1024  # below this a browser's ordinary request would not fit
# Schemes a by-reference ``uri`` may not use: they name this host's files, which go by ``path`` and
# ``--allow-root`` (resolved, symlinks followed, opened without following a last symlink).
LOCAL_SCHEMES = ("file", "local")


def parse_size(text: str) -> int:
    """``"3145728"``, ``"3M"``, ``"512KiB"``, ``"1g"`` -> bytes (units are binary)."""
    m = _SIZE.match(str(text))
    if not m:
        raise UsageError(f"not a size: {text!r} (bytes, or a number with K, M or G)")
    return int(m.group(1)) * _UNITS[(m.group(2) or "")[:1].lower()]


def format_size(size: int) -> str:
    """``parse_size``'s inverse for whole units: 104857600 -> ``"100M"``."""
    for unit, factor in (("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def _allowed_root(root: str) -> str:
    if not os.path.isabs(root):
        raise UsageError(f"--allow-root {root!r} must be an absolute path")
    resolved = os.path.realpath(root)
    if not os.path.isdir(resolved):
        raise UsageError(f"--allow-root {root!r} is not a folder")
    return resolved


def _allowed_prefix(prefix: str) -> str:
    scheme, sep, rest = prefix.partition("://")
    if not sep or not scheme or not rest.split("/", 1)[0]:
        raise UsageError(f"--allow-uri-prefix {prefix!r} must be scheme://bucket[/key prefix]")
    if scheme.lower() in LOCAL_SCHEMES:
        raise UsageError(f"--allow-uri-prefix {prefix!r}: local files are allowed with --allow-root, not as URIs")
    return prefix


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2  # checker processes
    queue: int = 32  # requests admitted beyond the busy workers; more get 503
    max_bytes: int = 100 * 1024**2  # upload size limit (413 above it)
    timeout: float = 10.0  # seconds one check may run before its worker is killed (504)
    read_timeout: float = 30.0  # seconds a client has to send its whole upload (408)
    tmp_dir: str | None = None  # parent of the private upload folder (default: the system's)
    access_log: bool = False  # one line per request on stderr
    # Transport limits (enforced below the app, in service/transport.py):
    max_header_bytes: int = 16 * 1024  # request line + header fields; more gets 431 and the connection closed
    header_timeout: float = 10.0  # seconds from a request's first byte (or the connection's start) to its headers' end
    max_connections: int = 1024  # open connections; one more is answered 503 at once and closed
    keep_alive_timeout: float = 5.0  # seconds an idle keep-alive connection stays open between requests
    # Uploads up to this size are spooled in memory (a memfd), larger ones to an unlinked file in tmp_dir.
    memory_spool_bytes: int = 16 * 1024**2
    # Check by reference (JSON body): folders whose files may be named, object URI prefixes; none by default.
    allow_roots: tuple[str, ...] = ()
    allow_uri_prefixes: tuple[str, ...] = ()
    check_options: CheckOptions = field(default_factory=CheckOptions)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise UsageError("--workers must be at least 1")
        if self.queue < 0:
            raise UsageError("--queue must be 0 or more")
        if self.max_bytes < 1:
            raise UsageError("--max-bytes must be at least 1 byte")
        if self.timeout <= 0 or self.read_timeout <= 0:
            raise UsageError("--timeout and --read-timeout must be positive")
        if self.max_header_bytes < MIN_HEADER_BYTES:
            raise UsageError(f"--max-header-bytes must be at least {format_size(MIN_HEADER_BYTES)}")
        if self.header_timeout <= 0 or self.keep_alive_timeout <= 0:
            raise UsageError("--header-timeout and --keep-alive-timeout must be positive")
        if self.max_connections < 1:
            raise UsageError("--max-connections must be at least 1")
        if self.tmp_dir is not None and not os.path.isdir(self.tmp_dir):
            raise UsageError(f"--tmp-dir {self.tmp_dir!r} is not a folder")
        if self.memory_spool_bytes < 0:
            raise UsageError("--memory-spool must be 0 or more bytes")
        # Roots are compared after resolution, so they are resolved here once (a symlinked root is
        # the folder it points to).
        object.__setattr__(self, "allow_roots", tuple(_allowed_root(r) for r in self.allow_roots))
        object.__setattr__(self, "allow_uri_prefixes", tuple(_allowed_prefix(p) for p in self.allow_uri_prefixes))
        if self.allow_uri_prefixes and importlib.util.find_spec("fsspec") is None:
            raise UsageError("--allow-uri-prefix needs fsspec (and the store's driver): pip install fsspec s3fs")

    @property
    def by_reference(self) -> bool:
        """Whether any path or URI may be checked by reference."""
        return bool(self.allow_roots or self.allow_uri_prefixes)

    @property
    def capacity(self) -> int:
        """Requests in flight at once (uploading, waiting or being checked)."""
        return self.workers + self.queue
