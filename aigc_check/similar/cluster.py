"""Near-duplicate clusters of files, from their reliable hashes.

A file is one hash (an image) or several (a video's frames).  Two files are near-duplicates when a
hash of one is within the match distance of a hash of the other; for a video that is not enough:
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

from . import MATCH_DISTANCE
from .index import HashIndex, hashes_array

VIDEO_MATCH_SHARE = 0.5


@dataclass(frozen=True)
class FileHashes:
    path: str
    hashes: tuple[str, ...]  # reliable hashes only: an image's one, or a video's frames
    video: bool = False
    crops: tuple[str, ...] = ()  # an image's centre-crop hashes (``Similarity.crop_hashes``)


@dataclass(frozen=True)
class Link:
    a: int  # file numbers, a < b
    b: int
    distance: int  # the smallest distance between a hash of one and a hash of the other


def links(files: Sequence[FileHashes], radius: int = MATCH_DISTANCE) -> list[Link]:
    """Every pair of near-duplicate files."""
    owners: list[int] = []
    flat: list[str] = []
    crop: list[bool] = []
    for number, f in enumerate(files):
        for hashes, centre in ((f.hashes, False), (f.crops, True)):
            for h in hashes:
                owners.append(number)
                flat.append(h)
                crop.append(centre)
    if not flat:
        return []
    array = hashes_array(flat)
    owner = np.asarray(owners, dtype=np.int64)
    is_crop = np.asarray(crop, dtype=bool)
    best: dict[tuple[int, int], int] = {}
    matched: dict[tuple[int, int], tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    index = HashIndex(array, radius)
    any_video = any(f.video for f in files)
    for i, j, d in index.self_pairs(array):
        fa, fb = owner[i], owner[j]
        # Two hashes of one file say nothing; two centre crops are never compared (only crop to whole).
        keep = (fa != fb) & ~(is_crop[i] & is_crop[j])
        for x, y, fx, fy, dist in zip(i[keep], j[keep], fa[keep], fb[keep], d[keep]):
            a, b, ha, hb = (int(fx), int(fy), int(x), int(y)) if fx < fy else (int(fy), int(fx), int(y), int(x))
            key = (a, b)
            if dist < best.get(key, radius + 1):
                best[key] = int(dist)
            if any_video:
                matched[key][0].add(ha)
                matched[key][1].add(hb)
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
