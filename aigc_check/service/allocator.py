"""Keep the event loop's large buffers in the heap, so receiving an upload does not page-fault.

Uvicorn hands each read of a request body (up to 256 KB from uvloop) to the app as new ``bytes``,
via a growing ``bytearray``; at glibc's default thresholds each of these buffers is a fresh
``mmap`` that is faulted in page by page and unmapped when freed, and the heap's top is trimmed back
to the kernel after every request.  A profile of a 3 MB upload (``perf``, bench/bench_serve.py's
load) had a quarter of the event loop's time in page faults under ``memcpy``; with the thresholds
raised the same buffers are reused from the heap and the body was received 3-8x faster (the
README's Service section has the figures).

There is no library for this: ``mallopt(3)`` is glibc's own interface, called through ctypes.  The
cost is that the event loop keeps up to its peak heap (bounded by the requests in flight times a
body read) instead of returning it after each request.  On a C library without ``mallopt``
(musl, macOS) nothing is changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 16 * 1024**2  # allocations below this come from the heap (glibc caps it at 32 MiB)
TRIM_THRESHOLD = 256 * 1024**2  # free memory at the heap's top kept for reuse, up to this


def keep_large_buffers_in_heap() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; whether it took effect."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
