"""The ``--similar`` stage of a check: after the metadata verdict, hash the picture, and with a
known-content index, let an unlabelled copy of known AI content inherit its status.

The hash has its own time limit (the check's, once more) so that a picture slow to decode costs its
hash, never the metadata verdict already made; a decoder that runs out of memory likewise.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from ..deadline import TimeLimitError, time_limit
from ..model import CheckResult, Similarity
from ..source import ByteSource
from .hashing import BUDGET_SHARE, hash_file
from .inherit import inherit_result, may_inherit

if TYPE_CHECKING:
    from ..checker import Checker


def add_similarity(checker: Checker, src: ByteSource, result: CheckResult) -> None:
    algorithm = "pdq-frames" if (result.media_type or "").startswith("video/") else "pdq"
    try:
        with time_limit(checker.options.time_limit):
            # Buffered: Pillow and libav read in small pieces, each a call through the counting stream.
            limit = checker.options.time_limit
            budget = limit * BUDGET_SHARE if limit else None
            result.similarity = hash_file(io.BufferedReader(src.stream()), result.format, result.media_type, budget)
    except TimeLimitError:
        result.similarity = Similarity(
            algorithm, error=f"time-limit: decoding for the hash took longer than {checker.options.time_limit:g} s"
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
