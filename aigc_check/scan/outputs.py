"""Streamed outputs: ``results.jsonl``, ``results.csv``, ``summary.json`` and the tallies behind them.

Every line is written whole, and each chunk's lines are flushed together, so an
interrupted scan leaves files that load; a scan killed outright may leave one
partial last line, which ``--resume`` cuts off.  Undecodable bytes in file names (lone
surrogates after ``os.fsdecode``) are written as ``\\udcXX`` escapes, which in
JSON decode back to the very same name.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Literal, TextIO

from .. import contract
from ..errors import AigcCheckError
from ..json_lines import json_line
from ..model import VIOLATIONS, Status, Verdict, printable

if TYPE_CHECKING:
    from ..signatures.fingerprints import FingerprintTable

RESULTS_JSONL = "results.jsonl"
RESULTS_CSV = "results.csv"
SUMMARY_JSON = "summary.json"
REPORT_HTML = "report.html"
REPORT_TMP = REPORT_HTML + ".tmp"  # html_report writes here, then renames
MISSING_JSONL = "missing-files.jsonl"
ACCOUNTS_CSV = "accounts.csv"
ISSUES_TMP = ".issues.jsonl"  # digests of the files the HTML report lists, kept on disk until it is written
REPORT_ROWS_TMP = ".report-rows.tmp"  # the HTML report's rows, written as the results come (report_rows.RowsFile)

# Categorical tallies keep at most this many distinct values (generator names come from manifests
# and could be unique per file); the rest are counted under "(other)".
MAX_DISTINCT = 500

# A walker that fails before it can refine its format leaves the handler's family name
# (``mpeg-audio`` for a broken ID3-tagged MP3, ``matroska`` for a cut Matroska file); good files of
# the same family carry the refined id.  The summary counts both under the refined id most files
# of the family get, so one format is one key.  (An ``aac`` or ``webm`` file is refined too, and
# keeps its own id.)
CANONICAL_FORMATS = {"mpeg-audio": "mp3", "matroska": "mkv"}
NOT_NAMED = "(not named)"  # an AI file whose data names no generator
NAME_ONLY = "(name only)"  # an AI file that names a generator no fingerprint id stands for


def canonical_format(fmt: str | None) -> str | None:
    """The one id a format is counted under (``CANONICAL_FORMATS``)."""
    return CANONICAL_FORMATS.get(fmt, fmt) if fmt else fmt


def generator_key(name: str | None, table: FingerprintTable | None) -> tuple[str, str | None]:
    """(the key a generator is counted under, the raw name when it maps to no id): a fingerprint id
    (an alias such as ``豆包`` counted as ``doubao``), ``NOT_NAMED``, or ``NAME_ONLY`` with the name
    a manifest or label gave (``Test Diffusion``), which is counted apart from the ids."""
    if not name:
        return NOT_NAMED, None
    gid = table.canonical(name) if table is not None else name
    return (gid, None) if gid else (NAME_ONLY, name)


class ScanError(AigcCheckError):
    """The scan cannot start or continue (output folder, resume file)."""


def jsonl_line(result: dict) -> str:
    """A line of ``results.jsonl`` or the issue list (``json_lines``: orjson's compact text)."""
    return json_line(result)


def csv_cell(value: object) -> str:
    # Control characters (a terminal escape in a file name), line breaks and bidirectional controls
    # (U+202E, which would show ``invoice\u202egpj.exe`` as ``invoiceexe.jpg``) are written as \xNN or
    # \uNNNN, never raw: one row is one line, and a cell displays as what it holds.  Every character
    # ``printable`` escapes is one ``str.isprintable`` rejects (controls, format characters, line
    # and paragraph separators, surrogates), so a cell that passes that test is left as it is.
    text = "" if value is None else str(value)
    if not text.isprintable():
        text = printable(text)
    # A cell starting with = + - @ is run as a formula by spreadsheet programs (CSV injection);
    # account names and file names come from users.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def csv_row(r: dict) -> list[str]:
    """A result dict (plus ``account`` and ``post_id``) as a ``results.csv`` row (see ``contract.csv_values``)."""
    row = []
    for value in contract.csv_values(r):
        # csv_cell, inline for the common cells (a scan writes a row per file): an empty cell, or
        # printable text that does not start like a formula.
        if value is None:
            row.append("")
            continue
        text = value if type(value) is str else str(value)
        if text.isprintable() and text[:1] not in _FORMULA_STARTS:
            row.append(text)
        else:
            row.append(csv_cell(text))
    return row


_FORMULA_STARTS = ("=", "+", "-", "@")


def csv_lines(rows: Iterable[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def is_issue(r: dict) -> bool:
    """Listed in the HTML report: a violation, an unreadable file, or an integrity error (tampering)."""
    return r["verdict"] != Verdict.COMPLIANT or any(f["severity"] == "error" for f in r.get("findings") or [])


def digest(r: dict) -> dict:
    """The few fields the tallies and the HTML report need, small enough to pass between processes."""
    deciding = [e for e in r.get("evidence") or [] if e["strength"] != "weak" and e["indicates"] != "info"]
    return {
        "path": r["path"],
        "path_b64": r.get("path_b64"),
        "format": r.get("format"),
        "media_type": r.get("media_type"),
        "verdict": r["verdict"],
        "status": r["status"],
        "declared": r["declared"],
        "generator": r.get("generator"),
        "label": r.get("label"),
        "action": r.get("action"),
        "account": r.get("account"),
        "post_id": r.get("post_id"),
        "findings": [[f["code"], f["severity"]] for f in r.get("findings") or []],
        "errors": [f"{e['code']}: {e['message']}" for e in r.get("errors") or []],
        "evidence": [f"{e['explanation']} (at {e['location']})" for e in deciding[:3]],
        "bytes": r.get("bytes_read") or 0,
        "issue": is_issue(r),
    }


class CappedCounter(Counter[str]):
    limit = MAX_DISTINCT

    def bump(self, key: str | None) -> None:
        key = "(none)" if key is None else key
        if key in self or len(self) < self.limit:
            self[key] += 1
        else:
            self["(other)"] += 1

    def merge(self, counts: Counter[str]) -> None:
        """Add a chunk's counts (an ``UncappedCounter``, in the order its values were met): the
        very counts bumping each file's values here would give, since a value is let in or sent
        to "(other)" by whether it is here, or there is room, when it is first met."""
        for key, n in counts.items():
            if key in self or len(self) < self.limit:
                self[key] += n
            else:
                self["(other)"] += n


class UncappedCounter(CappedCounter):
    """A chunk's counts, made in a scan's worker: no cap, so that ``CappedCounter.merge`` applies
    the cap as the run's counter meets each value."""

    limit = sys.maxsize


@dataclass
class AccountStats:
    posts: int = 0
    ai: int = 0
    unlabelled: int = 0
    mislabelled: int = 0
    unreadable: int = 0


@dataclass
class Tally:
    """Running counts for the summary, the progress line and the report: O(distinct values), not O(files)."""

    # The statuses the policy counts as AI (``Policy.ai_statuses``): AI shares and generator tallies.
    ai_statuses: frozenset[Status] = frozenset()
    # The fingerprint table the generator names are canonicalised by (None: counted as reported).
    fingerprints: FingerprintTable | None = None
    checked: int = 0
    bytes_read: int = 0
    verdicts: CappedCounter = field(default_factory=CappedCounter)
    statuses: CappedCounter = field(default_factory=CappedCounter)
    formats: CappedCounter = field(default_factory=CappedCounter)
    generators: CappedCounter = field(default_factory=CappedCounter)
    generator_names: CappedCounter = field(default_factory=CappedCounter)  # the names counted as NAME_ONLY
    declared: CappedCounter = field(default_factory=CappedCounter)
    findings: CappedCounter = field(default_factory=CappedCounter)
    errors: CappedCounter = field(default_factory=CappedCounter)
    skipped: CappedCounter = field(default_factory=CappedCounter)
    walk_problems: CappedCounter = field(default_factory=CappedCounter)
    walk_problem_examples: list[dict[str, str]] = field(default_factory=list)
    # One entry per account named in the sidecar: accounts are far fewer than files.
    accounts: dict[str, AccountStats] = field(default_factory=dict)

    @classmethod
    def for_chunk(cls, ai_statuses: frozenset[Status], fingerprints: FingerprintTable | None) -> Tally:
        """The counts of one chunk of files, made by the worker that checked them and added to the
        run's by ``merge``: the parent then handles a few counters a chunk, not a digest a file."""
        tally = cls(ai_statuses, fingerprints)
        for name in COUNTERS:
            setattr(tally, name, UncappedCounter())
        return tally

    def merge(self, chunk: Tally) -> None:
        """Add a chunk's counts (``for_chunk``), as adding each of its files would."""
        self.checked += chunk.checked
        self.bytes_read += chunk.bytes_read
        for name in COUNTERS:
            getattr(self, name).merge(getattr(chunk, name))
        for account, counts in chunk.accounts.items():
            stats = self.accounts.setdefault(account, AccountStats())
            for f in ACCOUNT_COUNTS:
                setattr(stats, f, getattr(stats, f) + getattr(counts, f))

    @property
    def violations(self) -> int:
        return sum(self.verdicts[v] for v in VIOLATIONS)

    def add(self, d: dict) -> None:
        self.checked += 1
        self.bytes_read += d["bytes"]
        self.verdicts.bump(d["verdict"])
        self.statuses.bump(d["status"])
        self.formats.bump(canonical_format(d["format"]))
        self.declared.bump(d["declared"])
        is_ai = d["status"] in self.ai_statuses
        if is_ai:
            key, name_only = generator_key(d["generator"], self.fingerprints)
            self.generators.bump(key)
            if name_only is not None:
                self.generator_names.bump(name_only)
        for code in {code for code, _ in d["findings"]}:
            self.findings.bump(code)
        for message in d["errors"]:
            self.errors.bump(message.split(":", 1)[0])
        if d["account"] is not None:
            stats = self.accounts.setdefault(d["account"], AccountStats())
            stats.posts += 1
            stats.ai += is_ai
            stats.unlabelled += d["verdict"] == Verdict.UNLABELLED_AI
            stats.mislabelled += d["verdict"] == Verdict.MISLABELLED
            stats.unreadable += d["verdict"] == Verdict.UNREADABLE

    def skip(self, reason: str) -> None:
        self.skipped.bump(reason)

    def walk_problem(self, code: str, path: str, message: str) -> None:
        self.walk_problems.bump(code)
        if len(self.walk_problem_examples) < 100:
            self.walk_problem_examples.append({"code": code, "path": path, "message": message})


# The tallies a chunk's worker counts (``Tally.for_chunk``); the walk's problems are the parent's.
COUNTERS = (
    "verdicts",
    "statuses",
    "formats",
    "generators",
    "generator_names",
    "declared",
    "findings",
    "errors",
    "skipped",
)
ACCOUNT_COUNTS = tuple(f.name for f in fields(AccountStats))


class DoneSet:
    """Paths already in results.jsonl, as sorted 64-bit hashes: 8 bytes a file, so resuming
    a scan of millions of files does not hold millions of path strings."""

    def __init__(self, paths: Iterable[str] = ()) -> None:
        hashes = array("Q", sorted(self._hash(p) for p in paths))
        self._hashes = hashes

    @staticmethod
    def _hash(path: str) -> int:
        import hashlib  # here: a scan that resumes nothing never hashes, and OpenSSL's import is a few ms

        raw = path.encode("utf-8", "surrogateescape")
        return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little")

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, path: str) -> bool:
        if not self._hashes:  # a scan that resumes nothing: no hash to take a file
            return False
        h = self._hash(path)
        i = bisect_left(self._hashes, h)
        return i < len(self._hashes) and self._hashes[i] == h


def open_text(path: str, mode: Literal["w", "a"]) -> TextIO:
    # backslashreplace: see the module docstring (lone surrogates become \udcXX, valid JSON escapes)
    return open(path, mode, encoding="utf-8", errors="backslashreplace", newline="")


def repair_results(path: str) -> int:
    """Cut a partial last line left by a killed scan; return how many bytes were cut."""
    with open(path, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        # Walk back to the last newline in blocks, so a huge file is not read whole.
        position, block = size, 65536
        while position > 0:
            start = max(0, position - block)
            f.seek(start)
            chunk = f.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            position = start
        else:
            keep = 0
        f.truncate(keep)
        return size - keep


def read_results(path: str) -> Iterator[dict]:
    """The result objects of an existing results.jsonl (call ``repair_results`` first)."""
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError as exc:
                raise ScanError(
                    f"{path} line {number} is not a JSON object ({exc}): cannot resume from it; "
                    f"start again without --resume"
                ) from exc


class ResultWriter:
    """Appends to results.jsonl and results.csv (and the report's issue list) in whole lines.

    Resuming (``append``), results.csv is rebuilt from the JSONL into a temporary file that
    ``reloaded`` puts in place: a resume stopped while it reloads leaves the old CSV as it was."""

    def __init__(self, out_dir: str, append: bool) -> None:
        mode: Literal["w", "a"] = "a" if append else "w"
        self.csv_path = os.path.join(out_dir, RESULTS_CSV)
        self.csv_tmp: str | None = self.csv_path + ".tmp" if append else None
        self.jsonl = open_text(os.path.join(out_dir, RESULTS_JSONL), mode)
        self.csv = open_text(self.csv_tmp or self.csv_path, "w")  # rebuilt from the JSONL on resume
        self.csv.write(csv_lines([list(contract.csv_columns())]))
        self.issues = open_text(os.path.join(out_dir, ISSUES_TMP), "w")  # rebuilt too

    def write(self, json_lines: str, csv_text: str, issue_lines: str) -> None:
        # Each argument holds whole lines; a signal cannot split them (the handler only sets a flag).
        if json_lines:
            self.jsonl.write(json_lines)
        if csv_text:
            self.csv.write(csv_text)
        if issue_lines:
            self.issues.write(issue_lines)

    def reloaded(self) -> None:
        """The earlier results are all in the new CSV: it replaces the old one."""
        if self.csv_tmp:
            self.csv.flush()
            os.replace(self.csv_tmp, self.csv_path)
            self.csv_tmp = None

    def flush(self) -> None:
        for f in (self.jsonl, self.csv, self.issues):
            f.flush()

    def close(self) -> None:
        """Close the files; a CSV whose rebuild did not finish is thrown away."""
        for f in (self.jsonl, self.csv, self.issues):
            f.close()
        if self.csv_tmp:
            os.remove(self.csv_tmp)
            self.csv_tmp = None


def earlier_runs(out_dir: str) -> list[dict]:
    """The runs an earlier ``summary.json`` in ``out_dir`` describes, oldest first (``runs``; a summary
    written before runs were kept describes one run).  Nothing when there is none or it cannot be
    read: the totals then cover the runs that can be told, and the results are unaffected."""
    try:
        with open(os.path.join(out_dir, SUMMARY_JSON), encoding="utf-8") as f:
            old = json.load(f)
    except (OSError, ValueError):
        return []
    if not isinstance(old, dict):
        return []
    runs = old.get("runs")
    if isinstance(runs, list) and all(isinstance(r, dict) for r in runs):
        return runs
    files = old.get("files")
    files = files if isinstance(files, dict) else {}
    if not old.get("started"):
        return []
    return [
        {
            "started": old.get("started"),
            "ended": old.get("updated"),
            "elapsed_s": files.get("elapsed_s"),
            "checked": files.get("this_run"),
            "interrupted": bool(old.get("interrupted")),
        }
    ]


def write_json_atomic(path: str, data: dict) -> None:
    """Replace ``path`` in one step, so a reader (or a kill) never sees half a summary."""
    tmp = path + ".tmp"
    with open_text(tmp, "w") as f:
        # One write: ``json.dump`` writes each token on its own, a few thousand calls a summary.
        f.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    os.replace(tmp, path)
