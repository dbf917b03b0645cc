"""All pairs of hashes within the PDQ match distance, without comparing all pairs: multi-index hashing.

The 256 bits are cut into 16 bands of 16 bits.  Two hashes within distance 31 differ by at most one
bit in at least one band (otherwise they would differ by at least 2 x 16 = 32 bits), so probing
every band at its own value and at the 16 values one bit away finds every such pair (pigeonhole:
exact, not approximate; Norouzi et al., "Fast exact search in Hamming space with multi-index
hashing").  Only the candidates sharing a probed band value are compared, by popcount.

Why by hand, over faiss's ``IndexBinaryMultiHash`` (the same scheme): with ``nflip = 1`` faiss's
range search was slower than its own flat all-pairs search at 110,000 hashes on this machine
(``bench/bench_similar.py cluster``), while this numpy version, bucketing each 16-bit band with a
counting sort and probing all queries of a band at once, is several times faster than either.

The cost of the exact probe grows as n^2 / 65536 candidates per band for unrelated hashes; above
``EXACT_BELOW`` hashes the search probes each band at its own value only ("banded"): every pair
within 15 bits is still found, and pairs 16-31 bits apart are found unless all 16 bands differ,
which ``bench/bench_similar.py cluster`` measures (the README has the recall by distance).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from . import HASH_BYTES, MATCH_DISTANCE

BANDS = 16
BAND_VALUES = 1 << 16
EXACT_BELOW = 300_000  # hashes: the exact (one-bit probe) search below, the banded one from here on
CANDIDATES_PER_STEP = 1 << 22  # candidate pairs compared at once: bounds the arrays made per step
FLIPS = tuple(np.uint16(1 << bit) for bit in range(16))

Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]


def hashes_array(hex_hashes: list[str]) -> np.ndarray:
    """Hex hashes as an (n, 32) uint8 array."""
    return packed_array(pack(hex_hashes))


def pack(hex_hashes: Sequence[str]) -> bytes:
    """Hex hashes as one run of 32-byte hashes: what a scan holds for every image until it clusters
    (45 crop variants each) takes a third of the memory of the hex text."""
    return bytes.fromhex("".join(hex_hashes))


def packed_array(packed: bytes) -> np.ndarray:
    """Packed hashes (``pack``) as an (n, 32) uint8 array."""
    return np.frombuffer(packed, dtype=np.uint8).reshape(-1, HASH_BYTES).copy()


def distance(a: str, b: str) -> int:
    """Hamming distance of two hex hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


class _Band:
    """One band of the stored hashes, bucketed: the hashes whose band value is v are
    ``order[starts[v]:starts[v + 1]]``."""

    def __init__(self, values: np.ndarray) -> None:
        self.order = np.argsort(values, kind="stable").astype(np.int64)
        self.sorted = values[self.order]
        self.starts = np.zeros(BAND_VALUES + 1, dtype=np.int64)
        np.cumsum(np.bincount(values, minlength=BAND_VALUES), out=self.starts[1:])

    def bounds(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = keys.astype(np.int64)
        return self.starts[k], self.starts[k + 1]


class HashIndex:
    """The hashes given, searchable for every stored hash within ``radius`` of a query."""

    def __init__(self, hashes: np.ndarray, radius: int = MATCH_DISTANCE, exact: bool | None = None) -> None:
        self.hashes = np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, HASH_BYTES)
        self.size = len(self.hashes)
        self.radius = radius
        self.exact = self.size < EXACT_BELOW if exact is None else exact
        if radius >= 2 * BANDS and self.exact:
            raise ValueError(f"the exact search covers distances up to {2 * BANDS - 1}")
        self._words = self.hashes.view(np.uint64)
        self._bands = self.hashes.view(np.uint16)
        self._bucketed: list[_Band] | None = None

    @property
    def mode(self) -> str:
        return "exact" if self.exact else "banded"

    def _band(self, b: int) -> _Band:
        # Kept for searches (an index read once, queried per file); a self-join makes each once.
        if self._bucketed is None:
            self._bucketed = [_Band(self._bands[:, i].copy()) for i in range(BANDS)]
        return self._bucketed[b]

    def _probes(self, exact: bool | None = None) -> tuple[np.uint16 | None, ...]:
        return (None, *FLIPS) if (self.exact if exact is None else exact) else (None,)

    def self_pairs(self) -> Iterator[Pairs]:
        """Pairs ``(i, j, distance)``, ``i < j``, of the stored hashes within the radius, as arrays.
        A pair may come more than once (from several bands); callers keep the first or the least."""
        n = self.size
        for b in range(BANDS):
            band = _Band(self._bands[:, b].copy())
            for flip in self._probes():
                if flip is None:  # the same bucket: each hash with the ones after it there
                    lo = np.arange(1, n + 1, dtype=np.int64)
                    hi = band.bounds(band.sorted)[1]
                else:
                    lo, hi = band.bounds(band.sorted ^ flip)
                for pi, pj in _candidates(lo, hi):
                    a, c = band.order[pi], band.order[pj]
                    if flip is None:
                        a, c = np.minimum(a, c), np.maximum(a, c)
                    else:  # found from both ends: keep one
                        keep = a < c
                        a, c = a[keep], c[keep]
                    yield self._within(a, c, self._words)

    def search(self, queries: np.ndarray, exact: bool | None = None) -> Iterator[Pairs]:
        """``(query_number, stored_number, distance)`` arrays for every stored hash within the radius of
        a query (a pair may come more than once); ``exact=False`` probes banded whatever the size."""
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, HASH_BYTES)
        if not self.size or not len(queries):
            return
        q_words, q_bands = queries.view(np.uint64), queries.view(np.uint16)
        for b in range(BANDS):
            band = self._band(b)
            values = q_bands[:, b]
            for flip in self._probes(exact):
                lo, hi = band.bounds(values if flip is None else values ^ flip)
                for qi, pj in _candidates(lo, hi):
                    stored = band.order[pj]
                    d = np.bitwise_count(q_words[qi] ^ self._words[stored]).sum(axis=1)
                    ok = d <= self.radius
                    yield qi[ok], stored[ok], d[ok]

    def _within(self, a: np.ndarray, c: np.ndarray, words: np.ndarray) -> Pairs:
        d = np.bitwise_count(words[a] ^ words[c]).sum(axis=1)
        ok = d <= self.radius
        return a[ok], c[ok], d[ok]


def _candidates(lo: np.ndarray, hi: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """For each row r, the positions ``lo[r] .. hi[r] - 1``, as (row, position) arrays, in steps of
    at most ``CANDIDATES_PER_STEP`` pairs (rows are numbered from 0)."""
    counts = np.maximum(hi - lo, 0)
    total = np.cumsum(counts)
    rows = len(counts)
    start = 0
    while start < rows:
        done = int(total[start - 1]) if start else 0
        end = min(rows, max(start + 1, int(np.searchsorted(total, done + CANDIDATES_PER_STEP, "right"))))
        step = counts[start:end]
        size = int(step.sum())
        if size:
            row = np.repeat(np.arange(start, end, dtype=np.int64), step)
            first = np.repeat(lo[start:end], step)
            within = np.arange(size, dtype=np.int64) - np.repeat(np.cumsum(step) - step, step)
            yield row, first + within
        start = end
