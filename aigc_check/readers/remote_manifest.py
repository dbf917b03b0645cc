"""Remote C2PA manifest stores (XMP ``dcterms:provenance`` pointing at an http(s) URL), fetched
only when the user allowed network access.

c2pa-rs can fetch them itself (``verify.remote_manifest_fetch``), but with neither a size cap nor a
total deadline the caller can set; so the library's own fetch stays off and the bytes fetched here
(``net.fetch``: a total deadline, a byte cap) are handed to ``c2pa.Reader`` as its manifest data.

One cache per checker (a scan's workers each keep one for the whole scan): a manifest many files
point to, or a server that failed, is asked once.  Failures are remembered too, so a thousand files
pointing to a dead host cost one timeout, not a thousand; entries expire after
``REMOTE_CACHE_SECONDS`` so a long-running service asks again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from ..limits import REMOTE_CACHE_BYTES, REMOTE_CACHE_ENTRIES, REMOTE_CACHE_SECONDS
from ..net import FetchError, FetchLimits, fetch


@dataclass(frozen=True)
class _Entry:
    at: float
    body: bytes | None
    error: FetchError | None


class RemoteManifestCache:
    def __init__(self, entries: int = REMOTE_CACHE_ENTRIES, seconds: float = REMOTE_CACHE_SECONDS) -> None:
        self.entries, self.seconds = entries, seconds
        self._cache: OrderedDict[tuple[str, FetchLimits], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._bytes = 0
        self.fetches = 0  # how many times the network was asked (the tests read it)

    def get(self, url: str, limits: FetchLimits) -> bytes:
        """The manifest bytes at ``url``, or the :class:`FetchError` (fresh or remembered)."""
        key = (url, limits)
        now = time.monotonic()
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None and now - entry.at < self.seconds:
                self._cache.move_to_end(key)
            else:
                entry = None
        if entry is None:
            self.fetches += 1
            try:
                entry = _Entry(now, fetch(url, limits), None)
            except FetchError as exc:
                entry = _Entry(now, None, exc)
            with self._lock:
                old = self._cache.pop(key, None)
                self._bytes -= len(old.body or b"") if old else 0
                self._cache[key] = entry
                self._bytes += len(entry.body or b"")
                while len(self._cache) > self.entries or (self._bytes > REMOTE_CACHE_BYTES and len(self._cache) > 1):
                    _, dropped = self._cache.popitem(last=False)
                    self._bytes -= len(dropped.body or b"")
        if entry.error is not None:
            raise entry.error
        assert entry.body is not None
        return entry.body
