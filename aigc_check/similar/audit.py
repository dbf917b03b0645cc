"""The scan's near-duplicate pass (``scan --similar``), run once every file is checked.

Two streaming passes over ``results.jsonl``.  The first keeps only what clustering needs (each
file's reliable hashes and a few fields: O(files) small values, never the results themselves); the
clusters and inheritances are then found in memory; the second pass rewrites each line with its
``cluster`` and, for an unlabelled copy of confirmed AI content, its inherited status
(``inherit.py``), into a temporary file that replaces ``results.jsonl`` whole.  ``clusters.jsonl``
lists the clusters; the known-content index is written when asked for.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..json_lines import json_line
from ..model import Similarity, Status
from ..policy import Policy
from .cluster import FileHashes, Link, cluster_id, components, links
from .index import pack
from .inherit import Original, inherit_dict, is_confirmed, may_inherit
from .known import KnownEntry, KnownIndex, reliable_hashes, write_index

CLUSTERS_JSONL = "clusters.jsonl"
IMPLICIT = "implicit-label"


@dataclass(frozen=True)
class FileFacts:
    path: str
    account: str | None
    post_id: str | None
    status: str
    generator: str | None
    confirmed: bool  # its own metadata confirms AI
    labelled: bool  # it carries an AI label of its own (an implicit label)
    inheritable: bool


@dataclass
class AuditOutcome:
    files: int = 0
    hashed: int = 0
    unreliable: int = 0
    hash_errors: int = 0
    clusters: int = 0
    clustered_files: int = 0
    inherited: int = 0
    inherited_from_index: int = 0
    index_entries: int | None = None
    # cluster id -> the accounts of its members (for the account signals)
    cluster_accounts: dict[str, set[str]] = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "files": self.files,
            "hashed": self.hashed,
            "unreliable": self.unreliable,
            "hash_errors": self.hash_errors,
            "clusters": self.clusters,
            "clustered_files": self.clustered_files,
            "inherited": self.inherited,
            "inherited_from_index": self.inherited_from_index,
            "index_entries": self.index_entries,
            "clusters_jsonl": CLUSTERS_JSONL,
        }


def similarity_of(result: dict) -> Similarity | None:
    raw = result.get("similarity")
    if not isinstance(raw, dict):
        return None
    return Similarity(
        raw["algorithm"],
        raw.get("hash"),
        raw.get("quality"),
        bool(raw.get("reliable")),
        tuple(raw.get("frame_hashes") or ()),
        tuple(raw.get("frame_seconds") or ()),
        tuple(raw.get("frame_qualities") or ()),
        raw.get("error"),
        tuple(raw.get("crop_hashes") or ()),
        raw.get("cut_at_s"),
    )


def _lines(path: str) -> Iterator[dict]:
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def run_audit(
    results_path: str,
    out_dir: str,
    policy: Policy,
    known: KnownIndex | None = None,
    index_out: str | None = None,
    on_result: Callable[[dict], None] | None = None,
) -> AuditOutcome:
    """Cluster, inherit, rewrite ``results_path``; call ``on_result`` with every final result."""
    outcome = AuditOutcome()
    ai_statuses = policy.ai_statuses
    facts: list[FileFacts] = []
    hashed: list[FileHashes] = []
    hashed_file: list[int] = []  # hashed[k] is facts[hashed_file[k]]
    similarities: dict[int, Similarity] = {}  # only for files that may inherit from the known index
    for number, r in enumerate(_lines(results_path)):
        facts.append(file_facts(r, ai_statuses))
        inheritable = facts[-1].inheritable
        sim = similarity_of(r)
        if sim is None:
            continue
        if sim.error:
            outcome.hash_errors += 1
            continue
        hashes = reliable_hashes(sim)
        if not hashes:
            outcome.unreliable += 1
            continue
        outcome.hashed += 1
        hashed.append(FileHashes(r["path"], tuple(hashes), sim.algorithm == "pdq-frames", pack(sim.crop_hashes)))
        hashed_file.append(number)
        if inheritable and known is not None:
            similarities[number] = sim
    outcome.files = len(facts)

    found: list[Link] = [Link(hashed_file[x.a], hashed_file[x.b], x.distance) for x in links(hashed)]
    groups, cluster_of, outcome.cluster_accounts = assign_clusters(facts, found)
    outcome.clusters, outcome.clustered_files = len(groups), len(cluster_of)

    originals = inheritances(facts, found)
    if known is not None:
        for number, sim in similarities.items():
            if number not in originals:
                match = known.lookup(sim)
                if match is not None:
                    originals[number] = match
                    outcome.inherited_from_index += 1
    outcome.inherited = len(originals)

    write_clusters_jsonl(os.path.join(out_dir, CLUSTERS_JSONL), groups, facts, cluster_of, originals, found)
    entries: list[KnownEntry] = list(known.entries) if known is not None else []
    tmp = results_path + ".similar.tmp"
    with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as out:
        for number, r in enumerate(_lines(results_path)):
            r.pop("cluster", None)
            if number in cluster_of:
                r["cluster"] = cluster_of[number]
            if number in originals:
                inherit_dict(r, policy, originals[number])
            if index_out and facts[number].confirmed:
                sim = similarity_of(r)
                if sim is not None:
                    entries.extend(
                        KnownEntry(h, r["path"], r["status"], r.get("generator"), r.get("account"))
                        for h in reliable_hashes(sim)
                    )
                    entries.extend(
                        KnownEntry(h, r["path"], r["status"], r.get("generator"), r.get("account"), crop=True)
                        for h in sim.crop_hashes
                    )
            out.write(json_line(r) + "\n")  # as the scan wrote it (json_lines)
            if on_result is not None:
                on_result(r)
    os.replace(tmp, results_path)
    if index_out:
        outcome.index_entries = write_index(index_out, entries)
    return outcome


# The steps below are shared with the Spark scan (``spark/similar.py``), which gathers the facts of
# the clustered files only and numbers them its own way: nothing here depends on file order.


def file_facts(r: dict, ai_statuses: frozenset[Status]) -> FileFacts:
    """What clustering and inheritance need of a result (its JSON dict)."""
    evidence = r.get("evidence") or []
    confirmed = is_confirmed(r["status"], r["certainty"], evidence, ai_statuses)
    return FileFacts(
        r["path"],
        r.get("account"),
        r.get("post_id"),
        r["status"],
        r.get("generator"),
        confirmed,
        confirmed and any(e.get("kind") == IMPLICIT for e in evidence),
        may_inherit(r["status"], r["verdict"]),
    )


def assign_clusters(
    facts: list[FileFacts], found: list[Link]
) -> tuple[list[list[int]], dict[int, str], dict[str, set[str]]]:
    """The clusters (groups of file numbers), each clustered file's cluster id, each cluster's accounts."""
    cluster_of: dict[int, str] = {}
    accounts: dict[str, set[str]] = {}
    groups = components(len(facts), found)
    for members in groups:
        cid = cluster_id([facts[m].path for m in members])
        for m in members:
            cluster_of[m] = cid
        accounts[cid] = {a for m in members if (a := facts[m].account) is not None}
    return groups, cluster_of, accounts


def inheritances(facts: list[FileFacts], found: list[Link]) -> dict[int, Original]:
    """For each file that may inherit, its nearest directly matched confirmed original."""
    best: dict[int, tuple[int, str, int]] = {}
    for link in found:
        for copy, original in ((link.a, link.b), (link.b, link.a)):
            if facts[copy].inheritable and facts[original].confirmed:
                key = (link.distance, facts[original].path, original)
                if copy not in best or key < best[copy]:
                    best[copy] = key
    return {
        copy: Original(facts[o].path, Status(facts[o].status), facts[o].generator, d)
        for copy, (d, _, o) in best.items()
    }


def write_clusters_jsonl(
    path: str,
    groups: list[list[int]],
    facts: list[FileFacts],
    cluster_of: dict[int, str],
    originals: dict[int, Original],
    found: list[Link],
) -> None:
    closest: dict[int, int] = defaultdict(lambda: 10**9)
    for link in found:
        closest[link.a] = min(closest[link.a], link.distance)
        closest[link.b] = min(closest[link.b], link.distance)
    records: list[dict[str, Any]] = []
    for members in groups:
        # The originals first (labelled, then confirmed AI), then the copies, each in path order.
        members = sorted(members, key=lambda m: (not facts[m].labelled, not facts[m].confirmed, facts[m].path))
        accounts = sorted({a for m in members if (a := facts[m].account) is not None})
        records.append(
            {
                "id": cluster_of[members[0]],
                "size": len(members),
                "accounts": len(accounts),
                "account_names": accounts[:100],
                "ai": sum(1 for m in members if facts[m].confirmed),
                "labelled": [facts[m].path for m in members if facts[m].labelled],
                "inherited": sum(1 for m in members if m in originals),
                "members": [
                    {
                        "path": facts[m].path,
                        "account": facts[m].account,
                        "post_id": facts[m].post_id,
                        "status": facts[m].status,
                        "confirmed_ai": facts[m].confirmed,
                        "labelled": facts[m].labelled,
                        "inherited_from": originals[m].path if m in originals else None,
                        "closest_distance": closest[m],
                    }
                    for m in members
                ],
            }
        )
    records.sort(key=lambda c: (-int(c["size"]), str(c["id"])))
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
