"""Near-duplicates (``--similar``): perceptual hashes, clusters, label inheritance, the known-content index.

Everything here needs the ``similar`` extra (``pip install 'aigc-check[similar]'``: pdqhash and numpy
for the hashes and the cluster index, PyAV for video frames).  Nothing imports these modules
unless ``--similar`` (or ``--similar-index``) was asked for, so a check without it loads none of
them and costs nothing more.
"""

from __future__ import annotations

import importlib.util
import os

# numpy's OpenBLAS starts a pool of native threads when it loads, and nothing here uses BLAS (the
# index is elementwise).  Those threads would make the scan start its workers from a fork server
# (``scan/pool.worker_context``: forking a process with native threads can deadlock) instead of
# by a fast fork.  Set before any module of this package imports numpy; a caller's setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from ..errors import UsageError

# PDQ's documented figures (ThreatExchange, pdq/README and python/pdq_utils): two hashes of the same
# picture are within Hamming distance 31 of 256 bits; a hash of quality below 50 (flat or nearly
# featureless pictures) matches unrelated pictures and is not used to match.
MATCH_DISTANCE = 31
MIN_QUALITY = 50
# A crop variant matched with another picture's crop variant (``hashing._crop_hashes``).  It may be
# set stricter than the documented distance, since each pair of pictures has two thousand variant
# pairs to come close by chance; measured, they do not come closer than whole hashes do (the
# closest unrelated variants on the near-duplicate set and the corpus are 72 bits apart, as the
# closest whole hashes), while a copy cut by uneven amounts from every side meets its original's
# variants at 24-31 bits.  ``bench/bench_similar.py quality`` measures both sides of this choice.
VARIANT_DISTANCE = 31
HASH_BITS = 256
HASH_BYTES = HASH_BITS // 8


class SimilarUnavailableError(UsageError):
    """``--similar`` was asked for but the ``similar`` extra is not installed."""


class SimilarIndexError(UsageError):
    """A ``--similar-index`` file is unreadable or malformed (the message names the line)."""


def require(*modules: str) -> None:
    """Fail before any file is read when a module the ``similar`` extra brings is missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise SimilarUnavailableError(
            f"--similar needs {', '.join(missing)}: install the extra with pip install 'aigc-check[similar]'"
        )
