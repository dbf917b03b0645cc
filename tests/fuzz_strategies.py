"""The structure-breaking mutations the hypothesis fuzz tests draw (the operators of
``fuzz/targets.py`` and ``bench/hostile_report.py``): size fields set to extremes, cuts, repeated
regions, splices from other seeds, bit flips, deletions."""

from __future__ import annotations

import hashlib
import sys

from conftest import ROOT
from hypothesis import strategies as st

sys.path.insert(0, str(ROOT / "fuzz"))
from targets import SIZE_EXTREMES

KINDS = ["size", "cut", "repeat", "splice", "flip", "delete"]


class Sample(bytes):
    """Bytes whose repr is short: hypothesis prints a failing example, which may be megabytes."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes, sha256 {hashlib.sha256(self).hexdigest()[:16]}>"


def damaged(
    seeds: list[bytes],
    steps: tuple[int, int] = (0, 6),
    repeat_bytes: int = 256,
    repeat_times: int = 50,
    splice_bytes: int = 512,
) -> st.SearchStrategy[Sample]:
    """One of ``seeds`` with ``steps`` (low, high) mutations, each of one of ``KINDS``."""

    @st.composite
    def build(draw: st.DrawFn) -> Sample:
        data = bytearray(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(*steps))):
            if not data:
                break
            at = draw(st.integers(0, len(data) - 1))
            kind = draw(st.sampled_from(KINDS))
            if kind == "size":
                data[at : at + 4] = draw(st.sampled_from(SIZE_EXTREMES))
            elif kind == "cut":
                del data[at:]
            elif kind == "repeat":
                n = draw(st.integers(1, repeat_bytes))
                data[at:at] = data[at : at + n] * draw(st.integers(2, repeat_times))
            elif kind == "splice":
                other = draw(st.sampled_from(seeds))
                if other:
                    start = draw(st.integers(0, len(other) - 1))
                    data[at:at] = other[start : start + draw(st.integers(1, splice_bytes))]
            elif kind == "flip":
                data[at] ^= 1 << draw(st.integers(0, 7))
            else:
                del data[at : at + draw(st.integers(1, 64))]
        return Sample(data)

    return build()
