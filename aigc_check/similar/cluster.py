"""Near-duplicate clusters of files, from their reliable hashes.

A file is one hash (an image) or several (a video's frames), and an image also carries the hashes of
its crop variants (``hashing.CROP_MARGINS``).  Two files are near-duplicates when a hash of one is
within the match distance of a hash of the other (whole to whole, or a crop variant of one to the
whole of the other), or a crop variant of one is within ``VARIANT_DISTANCE`` of a crop variant of
the other (the copy cut by a few percent from some sides: see ``hashing._crop_hashes``); for a video
that is not enough:
at least ``VIDEO_MATCH_SHARE`` of its hashed frames must have a match in the other file (vPDQ's
rule, so a video that merely opens on a common title card joins nothing).  A cluster is a connected
group of near-duplicates (single linkage: a chain of copies of copies is one cluster).

Cluster ids are made from the smallest member path, so the same files give the same ids whichever
engine or order found them (the local scan, Spark).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import HASH_BYTES, MATCH_DISTANCE, VARIANT_DISTANCE
from .index import HashIndex, hashes_array, packed_array

VIDEO_MATCH_SHARE = 0.5


@dataclass(frozen=True)
class FileHashes:
    path: str
    hashes: tuple[str, ...]  # reliable hashes only: an image's one, or a video's frames
    video: bool = False
    # An image's crop-variant hashes (``Similarity.crop_hashes``), packed (``index.pack``): a scan
    # holds them for every image until it clusters, and as hex text they were 3.5 times the size.
    crops: bytes = b""


@dataclass(frozen=True)
class Link:
    a: int  # file numbers, a < b
    b: int
    distance: int  # the smallest distance between a hash of one and a hash of the other


def links(
    files: Sequence[FileHashes], radius: int = MATCH_DISTANCE, variant_radius: int = VARIANT_DISTANCE
) -> list[Link]:
    """Every pair of near-duplicate files.

    One index holds the whole-picture hashes (an image's one, a video's frames); it is searched with
    each of them (whole to whole, each pair once) and with the images' crop variants (variant to
    whole, banded).  A second index holds the crop variants and is joined with itself, banded (variant
    to variant, within ``variant_radius``): banded finds every pair within 15 bits and most up to 31,
    and a copy has several variant pairs close to its original's, so one of them is found."""
    owners: list[int] = []
    flat: list[str] = []
    crop_owners: list[int] = []
    crop_runs: list[bytes] = []
    for number, f in enumerate(files):
        owners.extend([number] * len(f.hashes))
        flat.extend(f.hashes)
        crop_owners.extend([number] * (len(f.crops) // HASH_BYTES))
        crop_runs.append(f.crops)
    if not flat:
        return []
    array = hashes_array(flat)
    owner = np.asarray(owners, dtype=np.int64)
    crop_owner = np.asarray(crop_owners, dtype=np.int64)
    best: dict[tuple[int, int], int] = {}
    any_video = any(f.video for f in files)
    matched: dict[tuple[int, int], tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    index = HashIndex(array, radius)

    def record(fa: np.ndarray, fb: np.ndarray, ha: np.ndarray, hb: np.ndarray, d: np.ndarray) -> None:
        keep = fa != fb  # two hashes of one file say nothing
        for fx, fy, hx, hy, dist in zip(fa[keep], fb[keep], ha[keep], hb[keep], d[keep]):
            a, b, x, y = (int(fx), int(fy), int(hx), int(hy)) if fx < fy else (int(fy), int(fx), int(hy), int(hx))
            if dist < best.get((a, b), radius + 1):
                best[(a, b)] = int(dist)
            if any_video:
                matched[(a, b)][0].add(x)
                matched[(a, b)][1].add(y)

    for i, j, d in index.self_pairs():
        record(owner[i], owner[j], i, j, d)
    if crop_owners:
        # A crop variant's "hash number" is -1 - its place: it never counts as a video frame matched.
        # Banded: dozens of variant queries per image would make the exact probe cost as many
        # self-joins, and a variant meets its match within a few bits (or, between steps, not at all).
        crops = packed_array(b"".join(crop_runs))
        for q, j, d in index.search(crops, exact=False):
            record(crop_owner[q], owner[j], -1 - q, j, d)
        for i, j, d in HashIndex(crops, variant_radius, exact=False).self_pairs():
            record(crop_owner[i], crop_owner[j], -1 - i, -1 - j, d)
    out = []
    for (a, b), dist in best.items():
        pair = matched[(a, b)] if any_video else (set(), set())
        if any_video and not (_share_ok(files[a], len(pair[0])) and _share_ok(files[b], len(pair[1]))):
            continue
        out.append(Link(a, b, dist))
    out.sort(key=lambda link: (link.a, link.b))
    return out


def _share_ok(f: FileHashes, frames_matched: int) -> bool:
    return not f.video or frames_matched >= VIDEO_MATCH_SHARE * len(f.hashes)


def components(count: int, found: Sequence[Link]) -> list[list[int]]:
    """Connected groups of two or more files (union-find with path halving), each sorted."""
    parent = list(range(count))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in found:
        ra, rb = root(link.a), root(link.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = defaultdict(list)
    for link in found:
        for x in (link.a, link.b):
            groups[root(x)].append(x)
    return [sorted(set(g)) for g in groups.values()]


def cluster_id(member_paths: Sequence[str]) -> str:
    """A cluster's id: stable for the same member set's smallest path, whatever the order found."""
    return "c" + hashlib.sha1(min(member_paths).encode("utf-8", "surrogateescape")).hexdigest()[:12]
