"""The known-content index (``--similar-index FILE``): hashes of content whose AI status is confirmed.

``scan --similar --similar-index FILE`` writes it (adding to the entries already there); ``check``,
``serve`` and ``mark`` read it, so that a stripped re-upload of known AI content is caught at the door.

The file is JSON lines, written whole to a temporary file and renamed (a reader never sees half of
one): a header ``{"schema": "aigc-check-similar-index/2", "match_distance": 31, "variant_distance":
24, "min_quality": 50, "entries": N}``, then one line per hash ``{"hash", "path", "status",
"generator", "account", "crop"}`` (a video has a line for each reliable frame, an image one for
each crop variant, ``crop: true``).  A bad line stops the load with its line number: a half-read
index would let known content through.

Version 1 files (written before the crop variants were edge- and corner-anchored) are still read:
their crop hashes are centre crops at another scale, matched only against a query's whole-picture
hash as they always were; written back, such an entry keeps ``"whole_only": true``.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from ..json_lines import object_lines
from ..model import Similarity, Status
from . import MATCH_DISTANCE, MIN_QUALITY, VARIANT_DISTANCE, SimilarIndexError
from .index import HashIndex, hashes_array
from .inherit import Original

SCHEMA = "aigc-check-similar-index/2"
SCHEMA_V1 = "aigc-check-similar-index/1"  # read: its crop hashes are matched against whole hashes only
HEX_HASH = re.compile(r"^[0-9a-f]{64}$")
MAX_LINE = 64 * 1024


@dataclass(frozen=True)
class KnownEntry:
    hash: str
    path: str
    status: str
    generator: str | None = None
    account: str | None = None
    crop: bool = False  # a crop-variant hash: matched with a query's whole hash, or its variants (stricter)
    whole_only: bool = False  # a version 1 centre crop: matched with a query's whole hash only


class KnownIndex:
    def __init__(self, entries: list[KnownEntry], where: str = "") -> None:
        self.entries = entries
        self.where = where
        self._index = HashIndex(hashes_array([e.hash for e in entries]))

    @classmethod
    def load(cls, path: str) -> KnownIndex:
        try:
            with open(path, encoding="utf-8") as f:
                return cls(list(_entries(f, path)), path)
        except OSError as exc:
            raise SimilarIndexError(f"cannot read the similar index {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise SimilarIndexError(f"{path} is not a similar index (not UTF-8 text: {exc})") from exc

    def lookup(self, similarity: Similarity | None) -> Original | None:
        """The nearest known file this one is a near-duplicate of (for a video, the known file that at
        least half of its reliable frames match), or None."""
        if similarity is None or not similarity.reliable:
            return None
        hashes = reliable_hashes(similarity)
        whole = len(hashes)  # queries past these are the query's centre crops
        best: dict[str, int] = {}
        frames: dict[str, set[int]] = defaultdict(set)
        entry_of: dict[str, KnownEntry] = {}
        # The stored variants are matched by the whole hash, exactly; the query's variants banded (as
        # in a scan), with the whole hashes stored and, within VARIANT_DISTANCE, the stored variants.
        found = [
            *self._index.search(hashes_array(hashes)),
            *(
                (q + whole, s, d)
                for q, s, d in self._index.search(hashes_array(list(similarity.crop_hashes)), exact=False)
            ),
        ]
        for query, stored, distance in found:
            for q, s, d in zip(query.tolist(), stored.tolist(), distance.tolist()):
                entry = self.entries[s]
                if q >= whole and entry.crop and (entry.whole_only or d > VARIANT_DISTANCE):
                    continue  # variant to variant only within the stricter distance
                frames[entry.path].add(q)
                if d < best.get(entry.path, MATCH_DISTANCE + 1):
                    best[entry.path], entry_of[entry.path] = d, entry
        video = similarity.algorithm == "pdq-frames"
        candidates = [p for p in best if not video or len(frames[p]) >= 0.5 * len(hashes)]
        if not candidates:
            return None
        path = min(candidates, key=lambda p: (best[p], p))
        entry = entry_of[path]
        where = f"the known-content index {self.where}"
        return Original(entry.path, Status(entry.status), entry.generator, best[path], where)


def reliable_hashes(similarity: Similarity) -> list[str]:
    """The hashes of a result that are good enough to match on."""
    if similarity.algorithm == "pdq-frames":
        return [h for h, q in zip(similarity.frame_hashes, similarity.frame_qualities) if q >= MIN_QUALITY]
    return [similarity.hash] if similarity.reliable and similarity.hash else []


def _entries(lines: Iterable[str], where: str) -> Iterable[KnownEntry]:
    statuses = {s.value for s in Status}
    header_seen = False
    version1 = False
    for number, row in object_lines(lines, where, SimilarIndexError, MAX_LINE):
        if not header_seen:
            if row.get("schema") not in (SCHEMA, SCHEMA_V1):
                raise SimilarIndexError(f"{where} line {number}: not a similar index (needs schema {SCHEMA!r} first)")
            header_seen, version1 = True, row["schema"] == SCHEMA_V1
            continue
        h, path, status = row.get("hash"), row.get("path"), row.get("status")
        if not isinstance(h, str) or not HEX_HASH.match(h):
            raise SimilarIndexError(f"{where} line {number}: hash must be 64 lower-case hex digits")
        if not isinstance(path, str) or status not in statuses:
            raise SimilarIndexError(
                f"{where} line {number}: needs a path and a status (one of {', '.join(sorted(statuses))})"
            )
        generator, account, crop = row.get("generator"), row.get("account"), row.get("crop", False)
        if not isinstance(generator, (str, type(None))) or not isinstance(account, (str, type(None))):
            raise SimilarIndexError(f"{where} line {number}: generator and account must be text or null")
        whole_only = row.get("whole_only", False)
        if not isinstance(crop, bool) or not isinstance(whole_only, bool):
            raise SimilarIndexError(f"{where} line {number}: crop and whole_only must be true or false")
        yield KnownEntry(h, path, status, generator, account, crop, crop and (whole_only or version1))
    if not header_seen:
        raise SimilarIndexError(f"{where} is empty: not a similar index")


def write_index(path: str, entries: Iterable[KnownEntry]) -> int:
    """Write the index whole (temporary file, then rename); return the number of entries."""
    unique = list(dict.fromkeys(entries))
    tmp = path + ".tmp"
    try:
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
            header = {
                "schema": SCHEMA,
                "match_distance": MATCH_DISTANCE,
                "variant_distance": VARIANT_DISTANCE,
                "min_quality": MIN_QUALITY,
                "entries": len(unique),
            }
            f.write(json.dumps(header) + "\n")
            for e in unique:
                row = asdict(e)
                if not e.whole_only:
                    del row["whole_only"]  # the version 1 key only where it applies
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise SimilarIndexError(f"cannot write the similar index {path}: {exc.strerror or exc}") from exc
    return len(unique)
