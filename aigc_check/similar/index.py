"""All pairs of hashes within the PDQ match distance, without comparing all pairs: faiss's binary
multi-index hashing.

The 256 bits are cut into 16 substrings of 16 bits, each a hash table (``IndexBinaryMultiHash``);
a query probes each table at its own substring and at the 16 substrings one bit away
(``nflip = 1``).  Two hashes within distance 31 differ by at most one bit in at least one of the 16
substrings (otherwise they would differ by at least 2 x 16 = 32), so every pair within the match
distance is found (pigeonhole: the search is exact, not approximate); only the candidates that share
a probed substring are compared.  Below ``FLAT_BELOW`` hashes a flat index (all pairs, in faiss's
SIMD popcount) is faster than building the tables and gives the same pairs.  ``bench/similar.py``
measures both at 100,000 and 1,000,000 hashes.
"""

from __future__ import annotations

from collections.abc import Iterator

import faiss
import numpy as np

from . import HASH_BITS, HASH_BYTES, MATCH_DISTANCE

SUBSTRINGS = 16
SUBSTRING_BITS = HASH_BITS // SUBSTRINGS
FLAT_BELOW = 20_000
QUERY_BATCH = 16_384  # queries per range search: bounds the result arrays faiss returns at once


def hashes_array(hex_hashes: list[str]) -> np.ndarray:
    """Hex hashes as an (n, 32) uint8 array, the layout faiss's binary indexes take."""
    if not hex_hashes:
        return np.zeros((0, HASH_BYTES), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hex_hashes)), dtype=np.uint8).reshape(-1, HASH_BYTES)


class HashIndex:
    """The hashes added, searchable for every stored hash within ``radius`` of a query."""

    def __init__(self, hashes: np.ndarray, radius: int = MATCH_DISTANCE) -> None:
        self.radius = radius
        self.size = len(hashes)
        if self.size < FLAT_BELOW or radius >= 2 * SUBSTRINGS:
            self.index: faiss.IndexBinary = faiss.IndexBinaryFlat(HASH_BITS)
        else:
            mih = faiss.IndexBinaryMultiHash(HASH_BITS, SUBSTRINGS, SUBSTRING_BITS)
            mih.nflip = 1  # exact up to distance 2 * SUBSTRINGS - 1 = 31 (see the module's note)
            self.index = mih
        if self.size:
            self.index.add(np.ascontiguousarray(hashes, dtype=np.uint8))

    def search(self, queries: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per batch of queries, three equal arrays: query number, stored number and distance, for
        every stored hash within the radius of a query."""
        if not self.size or not len(queries):
            return
        for start in range(0, len(queries), QUERY_BATCH):
            batch = np.ascontiguousarray(queries[start : start + QUERY_BATCH], dtype=np.uint8)
            # faiss's binary range search keeps distances strictly below the radius it is given.
            lims, distances, labels = self.index.range_search(batch, self.radius + 1)
            query = np.repeat(np.arange(start, start + len(batch), dtype=np.int64), np.diff(lims).astype(np.int64))
            yield query, labels.astype(np.int64), distances.astype(np.int64)

    def self_pairs(self, hashes: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Every pair ``i < j`` of the hashes this index holds within the radius, as arrays (i, j, distance)."""
        for i, j, d in self.search(hashes):
            keep = i < j
            yield i[keep], j[keep], d[keep]


def distance(a: str, b: str) -> int:
    """Hamming distance of two hex hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
