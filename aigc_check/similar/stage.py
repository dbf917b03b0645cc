"""The ``--similar`` stage of a check: after the metadata verdict, hash the picture, and with a
known-content index, let an unlabelled copy of known AI content inherit its status.

The hash is made within the check's own time limit: what the metadata stages left of ``--time-limit``
(counted from the check's start) is all the decoding may take.  The limit is a ``SIGALRM`` that
Python acts on between native calls, so the decoder call under way when it passes finishes first
(``similar/hashing.py`` hands Pillow's decoder 4 KiB of compressed data a call, so that is
milliseconds even for a picture that compresses a thousandfold).  A decode past it costs the hash
(``similarity.error`` ``time-limit``), never the metadata verdict already made, which is kept: the
verdict is what the file's metadata says whether or not it was hashed, so turning ``--similar`` on
never makes a file ``unreadable``.  A decoder that runs out of memory likewise costs only the hash.
"""

from __future__ import annotations

import io
import time
from typing import TYPE_CHECKING

from ..deadline import TimeLimitError, time_limit
from ..model import CheckResult, Similarity
from ..source import ByteSource
from .hashing import BUDGET_SHARE, hash_file
from .inherit import inherit_result, may_inherit

if TYPE_CHECKING:
    from ..checker import Checker


def add_similarity(checker: Checker, src: ByteSource, result: CheckResult, started: float | None = None) -> None:
    """Hash the picture of ``src`` into ``result.similarity``; ``started``: when the check began
    (``time.perf_counter()``), from which the time limit is counted (None: from now)."""
    algorithm = "pdq-frames" if (result.media_type or "").startswith("video/") else "pdq"
    limit = checker.options.time_limit
    left = limit - (time.perf_counter() - started) if limit and started is not None else limit
    try:
        if left is not None and left <= 0:
            raise TimeLimitError("no time left")  # the metadata stages used the whole limit
        with time_limit(left):
            # Buffered: Pillow and libav read in small pieces, each a call through the counting stream.
            budget = left * BUDGET_SHARE if left else None
            result.similarity = hash_file(io.BufferedReader(src.stream()), result.format, result.media_type, budget)
    except TimeLimitError:
        result.similarity = Similarity(
            algorithm, error=f"time-limit: the check and the decoding for its hash took longer than {limit:g} s"
        )
    except MemoryError:
        result.similarity = Similarity(algorithm, error="memory-limit: decoding for the hash needed too much memory")
    except OSError as exc:  # the file went away or a remote read failed between the check and the hash
        result.similarity = Similarity(algorithm, error=f"io-error: {exc.strerror or exc}")
    if checker.known is None or not may_inherit(result.status.value, result.verdict.value):
        return
    original = checker.known.lookup(result.similarity)
    if original is not None:
        inherit_result(result, checker.policy, original)
