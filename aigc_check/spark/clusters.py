"""Near-duplicate clusters on Spark: a banding self-join over the ``similarity`` column of a result
table (``scan --engine spark --similar`` writes it), giving the same clusters as the local scan.

The same multi-index hashing as ``similar/index.py``, as a join: every whole-picture hash is stored
under its 16 band values (band number, 16-bit value); it probes with those and, exact, with the 16
one-bit neighbours of each; an image's crop-variant hashes are stored under their own band values and
probe with those only (banded, as locally), meeting the whole hashes within the match distance and
the other files' variants within ``VARIANT_DISTANCE``.  Probe and stored rows meet in a shuffle join
on (band, value), the candidates are compared by popcount, and the pairs of files are judged by the local rule
(``similar/cluster.py``: the least distance, and for a video half of its frames matched).  Only the
links, few beside the rows, come to the driver, where the clusters and their ids are made by the
same code as the local scan's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..similar import MATCH_DISTANCE, MIN_QUALITY, VARIANT_DISTANCE
from ..similar.cluster import VIDEO_MATCH_SHARE, Link, cluster_id, components
from ..similar.index import BANDS

if TYPE_CHECKING:  # the spark extra: imported where it is used
    from pyspark.sql import DataFrame

WHOLE, CROP = 0, 1


def _nodes(row: Any) -> Iterator[tuple]:
    """(path, node, hash, kind, video, frames) for each reliable hash of a result row."""
    sim = row["similarity"]
    if sim is None:
        return
    sim = sim.asDict() if hasattr(sim, "asDict") else sim
    if sim.get("algorithm") == "pdq-frames":
        whole = [h for h, q in zip(sim.get("frame_hashes") or [], sim.get("frame_qualities") or []) if q >= MIN_QUALITY]
    else:
        whole = [sim["hash"]] if sim.get("reliable") and sim.get("hash") else []
    if not whole:
        return
    video = sim.get("algorithm") == "pdq-frames"
    for k, h in enumerate(whole):
        yield (row["path"], k, h, WHOLE, video, len(whole))
    if not video:
        for k, h in enumerate(sim.get("crop_hashes") or []):
            yield (row["path"], -1 - k, h, CROP, video, len(whole))


def _keys(node: tuple, exact: bool) -> Iterator[tuple]:
    """(band, value, probe?, node...) rows: a whole hash is stored under its band values and probes
    with them (and their one-bit neighbours when exact); a crop variant likewise, never with flips."""
    path, k, h, kind, video, frames = node
    for b in range(BANDS):
        value = int(h[4 * b : 4 * b + 4], 16)
        yield (b, value, False, path, k, h, kind, video, frames)
        yield (b, value, True, path, k, h, kind, video, frames)
        if exact and kind == WHOLE:
            for bit in range(16):
                yield (b, value ^ (1 << bit), True, path, k, h, kind, video, frames)


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def near_duplicate_links(results: DataFrame, radius: int = MATCH_DISTANCE, exact: bool = True) -> list[tuple]:
    """``(path_a, path_b, distance)``, ``path_a < path_b``, for every pair of near-duplicate files."""
    from pyspark.sql import functions as F

    spark = results.sparkSession
    key_schema = (
        "band int, value int, probe boolean, path string, node int, hash string, kind int, video boolean, frames int"
    )
    keys = spark.createDataFrame(
        results.select("path", "similarity").rdd.flatMap(_nodes).flatMap(lambda n: _keys(n, exact)), key_schema
    )
    stored = keys.where("NOT probe").drop("probe")
    probes = keys.where("probe").drop("probe")
    s = stored.alias("s")
    p = probes.alias("p")
    # Whole to whole, variant to whole, variant to variant; a whole probe never meets a stored variant
    # (its one-bit probes would find pairs the local variant-to-whole search, banded, does not).
    allowed = f"p.path <> s.path AND NOT (p.kind = {WHOLE} AND s.kind = {CROP})"
    joined = p.join(s, ["band", "value"]).where(allowed).select(
        "p.path", "p.node", "p.hash", "p.kind", "p.video", "p.frames",
        "s.path", "s.node", "s.hash", "s.kind", "s.video", "s.frames",
    )  # fmt: skip

    def within(rows: Iterable[Any]) -> Iterator[tuple]:
        seen: set[tuple] = set()
        for r in rows:
            p_path, p_node, p_hash, p_kind, p_video, p_frames, s_path, s_node, s_hash, s_kind, s_video, s_frames = r
            d = _distance(p_hash, s_hash)
            if d > (VARIANT_DISTANCE if p_kind == CROP and s_kind == CROP else radius):
                continue
            # One orientation per pair of files: (a, b) with a < b, each side's matched node.
            if p_path < s_path:
                out = (p_path, s_path, d, p_node, s_node, p_video, s_video, p_frames, s_frames)
            else:
                out = (s_path, p_path, d, s_node, p_node, s_video, p_video, s_frames, p_frames)
            if out not in seen:
                seen.add(out)
                yield out

    pairs = joined.rdd.mapPartitions(within)
    schema = (
        "a string, b string, d int, a_node int, b_node int, "
        "a_video boolean, b_video boolean, a_frames int, b_frames int"
    )
    pairs_df = spark.createDataFrame(pairs, schema)

    # Crop matches (negative node numbers) never count as a video frame matched, as locally.
    grouped = pairs_df.groupBy("a", "b").agg(
        F.min("d").alias("d"),
        F.countDistinct(F.when(F.col("a_node") >= 0, F.col("a_node"))).alias("a_matched"),
        F.countDistinct(F.when(F.col("b_node") >= 0, F.col("b_node"))).alias("b_matched"),
        F.first("a_video").alias("a_video"),
        F.first("b_video").alias("b_video"),
        F.first("a_frames").alias("a_frames"),
        F.first("b_frames").alias("b_frames"),
    )
    out = []
    for r in grouped.collect():
        if r["a_video"] and r["a_matched"] < VIDEO_MATCH_SHARE * r["a_frames"]:
            continue
        if r["b_video"] and r["b_matched"] < VIDEO_MATCH_SHARE * r["b_frames"]:
            continue
        out.append((r["a"], r["b"], int(r["d"])))
    return sorted(out)


def clusters(results: DataFrame, radius: int = MATCH_DISTANCE, exact: bool = True) -> dict[str, list[str]]:
    """Cluster id -> sorted member paths: the local scan's ``clusters.jsonl`` ids and member sets."""
    found = near_duplicate_links(results, radius, exact)
    paths = sorted({p for a, b, _ in found for p in (a, b)})
    number = {p: i for i, p in enumerate(paths)}
    groups = components(len(paths), [Link(number[a], number[b], d) for a, b, d in found])
    out = {}
    for members in groups:
        names = sorted(paths[m] for m in members)
        out[cluster_id(names)] = names
    return out


def write_clusters(results: DataFrame, path: str, radius: int = MATCH_DISTANCE, exact: bool = True) -> int:
    """Write ``{"id", "size", "members"}`` lines (largest first) to the local file ``path``, whole
    (a temporary file, then renamed); return the number of clusters."""
    import json
    import os

    found = clusters(results, radius, exact)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
        for cid, members in sorted(found.items(), key=lambda item: (-len(item[1]), item[0])):
            f.write(json.dumps({"id": cid, "size": len(members), "members": members}, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return len(found)
