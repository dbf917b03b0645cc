"""``scan --mark-into DIR``: after a scan, marked copies of the files its results say need a label.

The pass reads the scan's ``results.jsonl`` (so the scan itself, and its process pool, are not
touched), takes the records whose ``label`` is set, and marks each file again from its bytes (the
file may have changed since it was checked, and ``mark`` decides from its own check) into ``DIR``
at its path below the scanned folder, with the record's declaration and ``post_id`` (the
PropagateID's ``{post_id}``).  Each file's ``aigc-check-mark/1`` record goes to ``mark.jsonl`` in
the scan's output folder, one flushed line at a time; a pass run again (``scan --resume
--mark-into``) skips the files already recorded.  The counts go into ``summary.json`` as ``mark``.
``DIR`` is the pass's own folder: an output left by a pass that was killed before it recorded the
file is replaced.  The files are marked by ``--jobs`` processes (forkserver, each with its own
``Checker`` and the scan's memory cap), at most twice as many files in flight as processes.

With ``--similar`` the scan may have given an unlabelled copy of this audit's own AI content its
original's status (label inheritance); ``mark``'s own check of the copy would not know the original.
So the pass's checkers read a known-content index: ``--similar-index`` (written by the scan, this
audit's confirmed AI files included), or without one, an index in memory of this audit's confirmed
AI files (``_audit_known``), and the copy is marked at the tier of the inherited label.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, as_completed, wait
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..checker import Checker
from ..model import result_path
from ..options import CheckOptions
from ..scan.outputs import SUMMARY_JSON, open_text, read_results, write_json_atomic
from .core import MarkAction, MarkResult, Propagation, mark_bytes
from .output import read_input, write_atomically

if TYPE_CHECKING:
    from ..similar.known import KnownEntry

MARK_JSONL = "mark.jsonl"


def _done(path: str) -> set[str]:
    if not os.path.exists(path):
        return set()
    done = set()
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            try:
                done.add(json.loads(line)["path"])
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by a kill: that file is marked again
    return done


def _destination(path: str, roots: tuple[str, ...], into: str) -> str:
    real = os.path.abspath(path)
    for root in roots:
        base = os.path.abspath(root)
        if os.path.isdir(base) and os.path.commonpath([base, real]) == base:
            return os.path.join(into, os.path.relpath(real, base))
    return os.path.join(into, os.path.basename(real))


def mark_scan_results(
    out_dir: str,
    roots: tuple[str, ...],
    into: str,
    propagation: Propagation,
    options: CheckOptions,
    resume: bool,
    jobs: int = 1,
) -> dict:
    """Run the pass (``jobs`` processes; 1: in this one); return (and add to summary.json) the
    counts by action."""
    log = os.path.join(out_dir, MARK_JSONL)
    done = _done(log) if resume else set()
    counts: Counter[str] = Counter()
    known = _audit_known(out_dir, options)
    with open_text(log, "a" if resume else "w") as f:
        for record in _mark_all(_tasks(out_dir, roots, into, done), propagation, options, jobs, known):
            counts[record["action"]] += 1
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
    summary_path = os.path.join(out_dir, SUMMARY_JSON)
    totals = dict(counts)
    if resume and done:
        totals["resumed"] = len(done)
    section = {"into": into, "propagator": propagation.propagator, "records": MARK_JSONL, "files": totals}
    if os.path.exists(summary_path):
        with open(summary_path, encoding="utf-8") as s:
            summary = json.load(s)
        summary["mark"] = section
        write_json_atomic(summary_path, summary)
    return section


@dataclass(frozen=True)
class Task:
    path: str
    declared: str
    post_id: str | None
    target: str
    clash: str | None = None  # the input already written to ``target`` in this pass


def _tasks(out_dir: str, roots: tuple[str, ...], into: str, done: set[str]) -> Iterator[Task]:
    """One task per result record with a label, not yet done; outputs claimed in record order."""
    claimed: dict[str, str] = {}
    for record in read_results(os.path.join(out_dir, "results.jsonl")):
        if not record.get("label") or record.get("skipped") or record["path"] in done:
            continue
        path = result_path(record)
        target = _destination(path, roots, into)
        key = os.path.normcase(os.path.abspath(target))
        yield Task(path, record.get("declared") or "none", record.get("post_id"), target, claimed.get(key))
        claimed.setdefault(key, path)


def _audit_known(out_dir: str, options: CheckOptions) -> tuple[str, list[KnownEntry]] | None:
    """With ``--similar`` and no ``--similar-index``: this audit's confirmed AI files as known-content
    entries (where they are, and the entries), read from results.jsonl; else None."""
    if not options.similar or options.similar_index:
        return None
    from ..policy import load_policy
    from ..similar.audit import similarity_of
    from ..similar.inherit import is_confirmed
    from ..similar.known import KnownEntry, reliable_hashes

    ai_statuses = load_policy(options.policy).ai_statuses
    results = os.path.join(out_dir, "results.jsonl")
    entries: list[KnownEntry] = []
    for r in read_results(results):
        evidence = r.get("evidence") or []
        if r.get("skipped") or not is_confirmed(r.get("status", ""), r.get("certainty", ""), evidence, ai_statuses):
            continue
        sim = similarity_of(r)
        if sim is None:
            continue
        account = r.get("account")
        entries += [KnownEntry(h, r["path"], r["status"], r.get("generator"), account) for h in reliable_hashes(sim)]
        entries += [KnownEntry(h, r["path"], r["status"], r.get("generator"), account, True) for h in sim.crop_hashes]
    return (f"of this scan's confirmed AI files, {results}", entries) if entries else None


_worker: tuple[Checker, Propagation] | None = None  # a pass worker's checker and values


def _init_worker(
    options: CheckOptions, propagation: Propagation, known: tuple[str, list[KnownEntry]] | None = None
) -> None:
    global _worker
    from ..deadline import limit_memory

    limit_memory(options.memory_limit_mb)
    checker = Checker(options)
    if known is not None:
        from ..similar.known import KnownIndex

        checker.known = KnownIndex(known[1], known[0])
    _worker = (checker, propagation)


def _mark_one(task: Task) -> dict:
    assert _worker is not None
    checker, propagation = _worker
    try:
        data = read_input(task.path)
    except OSError as exc:
        result = checker.check(task.path, task.declared)
        return MarkResult(task.path, MarkAction.ERROR, result, reason="unreadable", notes=[str(exc)]).to_dict()
    outcome = mark_bytes(checker, data, propagation, task.declared, task.path, task.post_id)
    if task.clash is not None:
        outcome.action, outcome.reason, outcome.data = MarkAction.ERROR, "output-clash", None
        outcome.notes.append(f"{task.target} is already the output of {task.clash}")
    if outcome.data is not None:
        try:
            write_atomically(task.target, outcome.data, replace=True)
            outcome.out = task.target
        except OSError as exc:
            outcome.action, outcome.reason = MarkAction.ERROR, "write-failed"
            outcome.notes.append(f"{task.target} could not be written: {exc}")
    return outcome.to_dict()


def _mark_all(
    tasks: Iterator[Task],
    propagation: Propagation,
    options: CheckOptions,
    jobs: int,
    known: tuple[str, list[KnownEntry]] | None = None,
) -> Iterator[dict]:
    """The records, as the tasks finish; at most ``2 * jobs`` tasks in flight (memory stays flat)."""
    if jobs <= 1:
        _init_worker(replace(options, memory_limit_mb=None), propagation, known)  # the cap is the workers', not ours
        yield from map(_mark_one, tasks)
        return
    with ProcessPoolExecutor(
        jobs, mp_context=multiprocessing.get_context("forkserver"), initializer=_init_worker,
        initargs=(options, propagation, known),
    ) as pool:  # fmt: skip
        pending: set[Future[dict]] = set()
        for task in tasks:
            pending.add(pool.submit(_mark_one, task))
            if len(pending) >= 2 * jobs:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in finished)
        for future in as_completed(pending):
            yield future.result()
