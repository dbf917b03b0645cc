"""``scan --mark-into DIR``: after a scan, marked copies of the files its results say need a label.

The pass reads the scan's ``results.jsonl`` (so the scan itself, and its process pool, are not
touched), takes the records whose ``label`` is set, and marks each file again from its bytes (the
file may have changed since it was checked, and ``mark`` decides from its own check) into ``DIR``
at its path below the scanned folder, with the record's declaration and ``post_id`` (the
PropagateID's ``{post_id}``).  Each file's ``aigc-check-mark/1`` record goes to ``mark.jsonl`` in
the scan's output folder, one flushed line at a time; a pass run again (``scan --resume
--mark-into``) skips the files already recorded.  The counts go into ``summary.json`` as ``mark``.
``DIR`` is the pass's own folder: an output left by a pass that was killed before it recorded the
file is replaced.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator

from ..checker import Checker
from ..model import result_path
from ..options import CheckOptions
from ..scan.outputs import SUMMARY_JSON, open_text, read_results, write_json_atomic
from .core import MarkAction, MarkResult, Propagation, mark_bytes
from .output import read_input, write_atomically

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
    out_dir: str, roots: tuple[str, ...], into: str, propagation: Propagation, options: CheckOptions, resume: bool
) -> dict:
    """Run the pass; return (and add to summary.json) the counts by action."""
    log = os.path.join(out_dir, MARK_JSONL)
    done = _done(log) if resume else set()
    counts: Counter[str] = Counter()
    checker = Checker(options)
    claimed: dict[str, str] = {}
    with open_text(log, "a" if resume else "w") as f:
        for outcome in _mark_all(out_dir, roots, into, propagation, checker, done, claimed):
            counts[outcome.action.value] += 1
            f.write(json.dumps(outcome.to_dict(), ensure_ascii=False) + "\n")
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


def _mark_all(
    out_dir: str,
    roots: tuple[str, ...],
    into: str,
    propagation: Propagation,
    checker: Checker,
    done: set[str],
    claimed: dict[str, str],
) -> Iterator[MarkResult]:
    for record in read_results(os.path.join(out_dir, "results.jsonl")):
        if not record.get("label") or record.get("skipped"):
            continue
        path = result_path(record)
        if record["path"] in done:
            continue
        target = _destination(path, roots, into)
        declared = record.get("declared") or "none"
        try:
            data = read_input(path)
        except OSError as exc:
            yield MarkResult(
                path, MarkAction.ERROR, checker.check(path, declared), reason="unreadable", notes=[str(exc)]
            )
            continue
        outcome = mark_bytes(checker, data, propagation, declared, path, record.get("post_id"))
        key = os.path.normcase(os.path.abspath(target))
        if key in claimed:
            outcome.action, outcome.reason, outcome.data = MarkAction.ERROR, "output-clash", None
            outcome.notes.append(f"{target} is already the output of {claimed[key]}")
        if outcome.data is not None:
            try:
                write_atomically(target, outcome.data, replace=True)
                outcome.out = target
                claimed[key] = path
            except OSError as exc:
                outcome.action, outcome.reason = MarkAction.ERROR, "write-failed"
                outcome.notes.append(f"{target} could not be written: {exc}")
        yield outcome
