"""The local scan: lazy walk -> bounded process pool running ``check_batch`` -> streamed outputs.

At most ``2 * jobs`` chunks are in flight, so the walk never runs far ahead
of the workers and memory stays flat whatever the file count.  Workers turn
their results into finished output lines (JSON, CSV, the report's rows but for
the indices of their shared strings) and their chunk's counts; the parent only
appends lines, adds counts and interns the rows' strings, so that it takes as
little as it can of the cores the workers need.

Interrupts.  The parent owns shutdown: workers ignore SIGINT (they start with it
held, see ``signals_held``, and ignore it before they let it in), so Ctrl-C in
a terminal or ``timeout -s INT`` reaching the whole process group stops only the
parent's loop.  There, Ctrl-C (or SIGTERM) only sets a flag: the loop stops
submitting, records what the workers finish within ``GRACE_S``, and writes the
summary (``"interrupted": true``) and the report.  A second signal skips the rest
of the grace period and the report; no signal ever raises while lines are being
written, and each chunk's lines are flushed whole, so ``results.jsonl`` only
ever ends on a whole line and ``--resume`` finishes the rest.  A signal during
start-up (the output folder, the sidecar index, reloading the results to
resume) abandons it, leaves the output folder as it was, and raises
``KeyboardInterrupt`` out of ``run``.

A worker that dies (a native crash on a hostile file) is replaced; its chunk is
retried file by file and the file that kills a worker again is reported as
unreadable.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timezone
from types import FrameType
from typing import TYPE_CHECKING

from ..checker import Checker
from ..limits import DEFAULT_TIME_LIMIT
from ..model import Verdict, result_path
from .accounts import ACCOUNT_COLUMNS, RepeatOffenderRules, account_rows
from .batch import ScanItem
from .config import ScanConfig
from .declarations import DeclarationIndex
from .outputs import (
    ACCOUNTS_CSV,
    ISSUES_TMP,
    MISSING_JSONL,
    REPORT_HTML,
    REPORT_ROWS_TMP,
    REPORT_TMP,
    RESULTS_CSV,
    RESULTS_JSONL,
    SUMMARY_JSON,
    DoneSet,
    ResultWriter,
    ScanError,
    Tally,
    csv_cell,
    csv_lines,
    csv_row,
    digest,
    earlier_runs,
    jsonl_line,
    open_text,
    read_results,
    repair_results,
    write_json_atomic,
)
from .pool import (
    ChunkOutput,
    WorkerReport,
    scan_chunk,
    signals_held,
    start_worker,
    stop_pool,
    widen_result_pipe,
    worker_context,
)
from .progress import FileCounter, Progress
from .walk import FoundFile, WalkEvent, WalkProblem, read_path_list, walk_targets

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    from ..similar.known import KnownIndex
    from .report_rows import RowsFile, ThumbnailSlots
    from .similar_pass import SimilarPassOutput

SUMMARY_EVERY_S = 2.0
DECLARATIONS_DB = ".declarations.sqlite"  # the sidecar's index, in the output folder while the scan runs
GRACE_S = 3.0  # how long an interrupted scan waits for files the workers are already checking
# Thumbnails the workers may make beyond the report's budget, together (``WorkerRows``): the
# parent takes the first image violations in the order it records them, a chunk at a time, and a
# chunk with images checked later may be recorded before one checked earlier; what the workers did
# not make, the parent makes itself.  At most this many are made for nothing.
THUMBNAIL_MARGIN = 32

# What a stop signal does, by the phase of the run (``Scan._on_signal``).
STARTING = "starting"  # nothing written yet: the first signal raises KeyboardInterrupt at once
RUNNING = "running"  # writing results: a signal only sets a flag, which the loop reads
REPORTING = "reporting"  # writing report.html: a second signal abandons it (it is written to a temporary file)
# A chunk that outlives twice its files' time limits plus this margin is stuck in native code (the
# per-file timer only interrupts Python): its worker is replaced and its files retried alone.
STALL_MARGIN_S = 30.0

# The chunks in flight: future -> (its items, whether it ran alone, when it was submitted).
Pending = dict[Future[ChunkOutput], tuple[list[ScanItem], bool, float]]


@dataclass
class ScanSummary:
    tally: Tally
    interrupted: bool
    out_dir: str
    data: dict

    @property
    def verdicts(self) -> set[str]:
        return {v for v, n in self.tally.verdicts.items() if n}


class Scan:
    def __init__(self, config: ScanConfig) -> None:
        if not config.paths and not config.from_list:
            raise ScanError("nothing to scan: name folders or files, or --from-list")
        self.config = config
        self.checker = Checker(config.options)  # fails now on a bad policy or trust file
        self.rules = RepeatOffenderRules.from_policy(self.checker.policy)
        self.out = config.out_dir
        self.tally = Tally(ai_statuses=self.checker.policy.ai_statuses, fingerprints=self.checker.fingerprints)
        self.earlier_runs: list[dict] = []  # what the summary of the run this one resumes said (run totals)
        self.done_before = 0
        self.done_now = 0
        self.found_done = 0  # files the walk met that an earlier run had finished (for the progress total)
        self.stop_signal: int | None = None  # the first SIGINT or SIGTERM received
        self.signals = 0  # how many were received: a second one hurries the stop
        self.phase = STARTING
        self.walk_cut = False  # the walk was stopped before its end
        self.declaration_rows: int | None = None
        self.started_at = datetime.now(timezone.utc)
        self.progress = Progress(config.progress, interval=config.progress_interval)
        self.similar: SimilarPassOutput | None = None  # the near-duplicate pass's outcome (--similar)
        # report.html's rows, written as the results come (None: no report, or --similar, whose pass
        # rewrites the issue list the report is then made from).
        self.rows: RowsFile | None = None
        # The thumbnails the workers may still make, shared by them (``_worker_report``).
        self._thumbnail_slots: ThumbnailSlots | None = None
        self.known_index: KnownIndex | None = None
        if config.similar_index and os.path.exists(config.similar_index):
            # Read now, before any file: a malformed index must stop the scan at its start, not its end.
            from ..similar.known import KnownIndex

            self.known_index = KnownIndex.load(config.similar_index)

    # --- setup -------------------------------------------------------------------------------

    def _prepare_out_dir(self) -> bool:
        """Create the output folder; return True when an earlier run's results are continued."""
        try:
            os.makedirs(self.out, exist_ok=True)
        except OSError as exc:
            raise ScanError(f"cannot create the output folder {self.out}: {exc.strerror or exc}") from exc
        results = os.path.join(self.out, RESULTS_JSONL)
        exists = os.path.exists(results)
        if exists and not (self.config.resume or self.config.overwrite):
            raise ScanError(
                f"{self.out} already holds {RESULTS_JSONL}: continue it with --resume, or replace it with --overwrite"
            )
        return exists and self.config.resume

    @property
    def hurried(self) -> bool:
        """A second stop signal came: skip the grace period and the report."""
        return self.signals > 1

    def _reload(self, writer: ResultWriter) -> DoneSet | None:
        """Rebuild tallies, CSV and issue list from an interrupted run's results.jsonl; None when a
        stop signal came first (the new CSV is then thrown away, the old one is left as it was)."""
        path = os.path.join(self.out, RESULTS_JSONL)
        cut = repair_results(path)
        if cut:
            self.progress.close(f"resume: cut a partial last line ({cut} bytes) from {RESULTS_JSONL}")
        paths = []
        for result in read_results(path):
            if self.stop_signal is not None:
                return None
            if result.get("policy") != self.checker.policy.id:
                raise ScanError(
                    f"{path} was made with policy {result.get('policy')!r}, not "
                    f"{self.checker.policy.id!r}: resume with the same options"
                )
            d = digest(result)
            self.tally.add(d)
            writer.write("", csv_lines([csv_row(result)]), jsonl_line(d) + "\n" if d["issue"] else "")
            if self.rows is not None and d["issue"]:
                self.rows.add(d)
            paths.append(result_path(result))
        self.done_before = len(paths)
        writer.reloaded()
        return DoneSet(paths)

    def _targets(self) -> Iterator[WalkEvent]:
        listed: Iterable[str] = read_path_list(self.config.from_list) if self.config.from_list else ()
        yield from walk_targets(self.config.paths, explicit_files=True)
        # Paths in a list are usually the output of find: sniff them like walked files.
        yield from walk_targets(listed, explicit_files=False)

    # --- the walk, as work items ---------------------------------------------------------------

    def _items(self, declarations: DeclarationIndex | None, done: DoneSet, writer: ResultWriter) -> Iterator[ScanItem]:
        for event in self._targets():
            if self.stop_signal is not None:  # a resume may walk a long way over finished files
                self.walk_cut = True
                return
            if isinstance(event, WalkProblem):
                self._walk_problem(event, done, writer)
                continue
            decl = declarations.lookup(event.path, event.root) if declarations else None
            if event.path in done:
                self.found_done += 1
                continue
            yield ScanItem(
                event.path,
                (decl.declared if decl else None) or self.config.declared,
                decl.account if decl else None,
                decl.post_id if decl else None,
                sniff=not (event.explicit or decl is not None),
            )

    def _walk_problem(self, problem: WalkProblem, done: DoneSet, writer: ResultWriter) -> None:
        self.tally.walk_problem(problem.code, problem.path, problem.message)
        if problem.code == "io-error" and problem.path not in done:
            # A folder that cannot be listed hides files: it must not pass silently, so it is a result.
            result = self.checker.unreadable_result(
                problem.path, self.config.declared, "io-error", problem.message
            ).to_dict()
            result.update(account=None, post_id=None)
            self._record_own(result, writer)

    def _record(self, chunk_output: ChunkOutput, writer: ResultWriter, own_issues: Iterable[dict] = ()) -> None:
        """Append a chunk's lines and add its counts; ``own_issues``: the digests of the issues of
        results the parent made itself, whose report rows it makes too."""
        json_text, csv_text, issue_text, counts, rows = chunk_output
        writer.write(json_text, csv_text, issue_text)
        writer.flush()  # whole lines reach the file together: it never ends mid-line but for a kill
        self.tally.merge(counts)
        if self.rows is not None:
            if rows is not None:
                self.rows.add_rendered(rows)
            for d in own_issues:
                self.rows.add(d)
        self.done_now += counts.checked + sum(counts.skipped.values())

    def _record_own(self, result: dict, writer: ResultWriter) -> None:
        """Record a result the parent made (a folder it cannot list, a file that killed or stalled
        its worker): always an issue, written to the issue list as it is."""
        d = digest(result)
        counts = Tally.for_chunk(self.tally.ai_statuses, self.tally.fingerprints)
        counts.add(d)
        self._record(
            (jsonl_line(result) + "\n", csv_lines([csv_row(result)]), jsonl_line(d) + "\n", counts, None),
            writer,
            [d] if d["issue"] else [],
        )

    # --- the pool loop --------------------------------------------------------------------------

    def _pool(self, jobs: int) -> ProcessPoolExecutor:
        context = worker_context()
        # A forked worker takes this process's checker as it finds it in its memory, rather than
        # building its own (loading the policy and compiling the fingerprint table, ~50 ms a
        # worker, at the start of every scan): with fork, initargs are inherited, not pickled.  A
        # Checker holds nothing tied to its process (the C2PA context is made per process,
        # ``readers/c2pa._context``).  Not with --similar, whose index may hold native threads' state.
        inherited = self.checker if context.get_start_method() == "fork" and not self.checker.options.similar else None
        with signals_held():  # the resource tracker a fork server needs may start here
            pool = ProcessPoolExecutor(
                jobs,
                mp_context=context,
                initializer=start_worker,
                initargs=(self.config.options, self._worker_report(context), inherited),
            )
        widen_result_pipe(pool)
        return pool

    def _worker_report(self, context: BaseContext) -> WorkerReport | None:
        """The workers' share of report.html: all the rows, and the thumbnails out of one count of
        slots, made with the first pool and kept by the pools that replace it (``WorkerRows``)."""
        if self.rows is None:
            return None
        if self.config.thumbnails <= 0:
            return WorkerReport(None)
        if self._thumbnail_slots is None:
            self._thumbnail_slots = context.Value("i", self.config.thumbnails + THUMBNAIL_MARGIN)
        return WorkerReport(self._thumbnail_slots)

    def _run_pool(self, items: Iterator[ScanItem], writer: ResultWriter) -> bool:
        """Check every item; return True when all were (False: a stop signal left some to a resume)."""
        jobs = self.config.worker_count()
        size = max(1, self.config.chunk_size)
        # What this process holds by now (the modules, the checker and its tables) lives as long as
        # the scan: out of the collector's sight, a forked worker's full collections do not walk it
        # (~20 ms a worker), nor write to its pages, which then stay shared.  Given back after.
        gc.freeze()
        pool = self._pool(jobs)
        pending: Pending = {}
        retry: list[ScanItem] = []  # files of chunks lost with a dead worker, retried one at a time
        exhausted = False
        left = False  # files were left unchecked (a stop signal)
        last_summary = time.monotonic()
        try:
            while True:
                # After a worker died, files are retried alone, so the one that kills a worker is known.
                limit = 1 if retry else 2 * jobs
                while self.stop_signal is None and len(pending) < limit and (retry or not exhausted):
                    chunk = [retry.pop()] if retry else _take(items, size)
                    if not chunk:
                        exhausted = True
                        break
                    if self.stop_signal is not None:  # came while the walk filled the chunk: left to a resume
                        left = True
                        break
                    alone = len(chunk) == 1 and not pending
                    try:
                        with signals_held():  # submit starts the workers (forks, or asks the fork server)
                            future = pool.submit(scan_chunk, chunk, self.config.options)
                        pending[future] = (chunk, alone, time.monotonic())
                    except BrokenProcessPool:  # a worker died before its future said so
                        retry.extend(chunk)
                        pool = self._restart(pool, pending, retry)
                        break
                if not pending:
                    if retry and self.stop_signal is None:
                        continue
                    left |= bool(retry) or not exhausted or self.walk_cut
                    break
                if self.stop_signal is not None:
                    left = True
                    break
                finished, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                broken = False
                for future in finished:
                    chunk, alone, _ = pending.pop(future)
                    broken |= self._collect(future, chunk, alone, retry, writer)
                broken |= self._stalled(pending, writer)
                if broken:
                    pool = self._restart(pool, pending, retry)
                now = time.monotonic()
                self._show_progress()
                if now - last_summary >= SUMMARY_EVERY_S:
                    write_json_atomic(
                        os.path.join(self.out, SUMMARY_JSON), self._summary_data(False, None, self.config.html)
                    )
                    last_summary = now
            if pending:
                self._finish_in_flight(pending, writer)
            return not left
        finally:
            if pending or self.stop_signal is not None:
                stop_pool(pool)
            else:
                pool.shutdown(wait=True)
            gc.unfreeze()

    def _finish_in_flight(self, pending: Pending, writer: ResultWriter) -> None:
        """Interrupted: record the chunks the workers finish within the grace period, or until a
        second signal; the rest are left to a resume (their workers are stopped)."""
        for future in pending:
            future.cancel()  # the chunks no worker has taken yet
        if not self.hurried:
            self.progress.note(
                f"stopping: keeping the files being checked (at most {GRACE_S:g} s); Ctrl-C again to stop now"
            )
        deadline = time.monotonic() + GRACE_S
        while pending and not self.hurried:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            finished, _ = wait(pending, timeout=min(remaining, 0.1), return_when=FIRST_COMPLETED)
            for future in finished:
                chunk, _, _ = pending.pop(future)
                if not future.cancelled():
                    self._collect(future, chunk, False, [], writer)  # a dead worker's chunk is simply left

    def _stalled(self, pending: Pending, writer: ResultWriter) -> bool:
        """True when a chunk is overdue (stuck in native code): the pool is then restarted.

        A file checked alone that stalls is reported (``time-limit``) and not retried again."""
        limit = self.config.options.time_limit or DEFAULT_TIME_LIMIT
        now = time.monotonic()
        for future, (chunk, alone, submitted) in list(pending.items()):
            if now - submitted > 2 * len(chunk) * limit + STALL_MARGIN_S:
                if alone:
                    pending.pop(future)
                    self._unreadable(
                        chunk[0],
                        "time-limit",
                        f"the check did not end within {limit:g} s (stuck "
                        "outside Python, e.g. in the C2PA library); its process was replaced",
                        writer,
                    )
                return True
        return False

    def _restart(self, pool: ProcessPoolExecutor, pending: Pending, retry: list[ScanItem]) -> ProcessPoolExecutor:
        """A new pool after a worker died or stalled; the chunks lost with it are retried file by file."""
        for chunk, _, _ in pending.values():
            retry.extend(chunk)
        pending.clear()
        stop_pool(pool)
        return self._pool(self.config.worker_count())

    def _collect(
        self,
        future: Future[ChunkOutput],
        chunk: list[ScanItem],
        alone: bool,
        retry: list[ScanItem],
        writer: ResultWriter,
    ) -> bool:
        """Record a finished chunk; return True when a worker died (the pool is then broken)."""
        try:
            output = future.result()
        except BrokenProcessPool:
            if alone:  # nothing else was running: this file killed the worker
                self._worker_died(chunk[0], writer)
            else:
                retry.extend(chunk)
            return True
        except Exception as exc:  # a bug in the core: report the files, keep scanning
            for item in chunk:
                self._unreadable(item, "internal-error", f"{type(exc).__name__}: {exc}", writer)
            return False
        self._record(output, writer)
        return False

    def _worker_died(self, item: ScanItem, writer: ResultWriter) -> None:
        self._unreadable(
            item,
            "worker-crashed",
            "the checking process died on this file (native crash or "
            "out of memory); it was retried alone and died again",
            writer,
        )

    def _unreadable(self, item: ScanItem, code: str, message: str, writer: ResultWriter) -> None:
        result = self.checker.unreadable_result(item.path, item.declared, code, message).to_dict()
        result.update(account=item.account, post_id=item.post_id)
        self._record_own(result, writer)

    def _show_progress(self, force: bool = False) -> None:
        t = self.tally
        self.progress.update(
            self.done_now,
            self.found_done,
            t.violations,
            t.verdicts[Verdict.UNREADABLE],
            sum(t.skipped.values()),
            force=force,
        )

    # --- the whole run --------------------------------------------------------------------------

    def run(self, exiting: bool = False) -> ScanSummary:
        """Scan; return the summary (``interrupted`` after a stop signal).  Interrupted during
        start-up, before any result is written, it leaves the output folder as it was (a new scan
        gets a summary saying so) and raises ``KeyboardInterrupt``.  The signal handlers it installs
        are removed at the end, unless ``exiting`` (see ``run_scan``)."""
        restore = self._install_signal_handlers()
        declarations: DeclarationIndex | None = None
        writer: ResultWriter | None = None
        try:
            try:
                resuming = self._prepare_out_dir()
                self.earlier_runs = earlier_runs(self.out) if resuming else []
                if self.config.declarations:
                    declarations = DeclarationIndex(self.config.declarations, os.path.join(self.out, DECLARATIONS_DB))
                    self.declaration_rows = declarations.rows
                self.phase = RUNNING  # from here on a signal only sets the flag
                writer = ResultWriter(self.out, append=resuming)
                self.rows = self._rows_file()
                done = self._reload(writer) if resuming else DoneSet()
                if done is None:
                    raise KeyboardInterrupt
            except KeyboardInterrupt:
                self.phase = RUNNING
                self._interrupted_starting(writer)
                raise
            if self.config.from_list != "-" and self.progress.mode != "none":
                self.progress.counter = FileCounter(self._count_targets)
                self.progress.counter.start()
            # A signal that comes once every file is checked does not make the scan interrupted.
            completed = self.stop_signal is None and self._run_pool(self._items(declarations, done, writer), writer)
            writer.flush()
            if completed and self.checker.options.similar:
                self._similar_pass(writer, declarations)
            return self._finish(writer, declarations, interrupted=not completed)
        finally:
            self.phase = RUNNING
            if self.progress.counter:
                self.progress.counter.stop()
            if writer:
                writer.close()
            _remove(os.path.join(self.out, ISSUES_TMP))  # the report holds it now; a resume rebuilds it
            if self.rows is not None:
                self.rows.close()  # removes its file, likewise
            if declarations:
                declarations.close()
            elif self.config.declarations:  # a signal may come before the index can clean up after itself
                _remove(os.path.join(self.out, DECLARATIONS_DB))
            if not exiting:
                restore()

    def _rows_file(self) -> RowsFile | None:
        """Where report.html's rows go as the results come; imported here, before the workers
        start, so that they inherit the module."""
        if not self.config.html or self.checker.options.similar:
            return None
        from .report_rows import RowsFile

        return RowsFile(
            os.path.join(self.out, REPORT_ROWS_TMP),
            self.checker.policy,
            self.checker.fingerprints,
            self.config.thumbnails,
        )

    def _similar_pass(self, writer: ResultWriter, declarations: DeclarationIndex | None) -> None:
        """Clusters, inheritance and account signals over the finished results (``scan/similar_pass.py``)."""
        from .similar_pass import similar_pass

        writer.close()  # the pass rewrites results.jsonl, results.csv and the issue list whole
        self.progress.close("near-duplicates: clustering the hashes")
        self.similar = similar_pass(
            self.out, self.checker.policy, self.tally, self.config.similar_index, self.known_index, declarations
        )
        self.tally = self.similar.tally

    def _interrupted_starting(self, writer: ResultWriter | None) -> None:
        """Stopped before the pool ran: throw away what start-up wrote; a new scan (no results.jsonl
        yet) gets a summary that says it was interrupted, an earlier run's files stay as they were."""
        if writer:
            writer.close()  # a CSV half rebuilt is thrown away
        if os.path.isdir(self.out) and not os.path.exists(os.path.join(self.out, RESULTS_JSONL)):
            write_json_atomic(os.path.join(self.out, SUMMARY_JSON), self._summary_data(True, None))

    def _finish(self, writer: ResultWriter, declarations: DeclarationIndex | None, interrupted: bool) -> ScanSummary:
        missing = self._write_missing(declarations) if declarations and not interrupted else None
        report = self.config.html and not self.hurried
        data = self._summary_data(interrupted, missing, report)
        write_json_atomic(os.path.join(self.out, SUMMARY_JSON), data)
        if self.tally.accounts:
            self._write_accounts_csv(self._account_rows())
        if report and not self._write_report(data, missing):
            interrupted, report = True, False  # a second signal stopped the report: not finished
            data = self._summary_data(interrupted, missing, report)
            write_json_atomic(os.path.join(self.out, SUMMARY_JSON), data)
        if self.config.html and not report:
            _remove(os.path.join(self.out, REPORT_HTML))  # an earlier run's: it no longer matches the results
        self._show_progress(force=True)
        self.progress.close(self._closing_line(interrupted, report))
        return ScanSummary(self.tally, interrupted, self.out, data)

    def _write_report(self, data: dict, missing: int | None) -> bool:
        """Write report.html; False when a second stop signal abandoned it."""
        from .html_report import write_report

        try:
            self.phase = REPORTING
            if self.hurried:  # the second signal came before this phase began
                return False
            write_report(
                self.out,
                data,
                self._account_rows(),
                os.path.join(self.out, ISSUES_TMP),
                os.path.join(self.out, MISSING_JSONL) if missing else None,
                self.config.thumbnails,
                policy=self.checker.policy,
                fingerprints=self.checker.fingerprints,
                rows=self.rows,
            )
            return True
        except _Hurry:
            self.phase = RUNNING  # a third signal must not raise again here
            _remove(os.path.join(self.out, REPORT_TMP))
            return False
        finally:
            self.phase = RUNNING

    def _count_targets(self) -> Iterator[FoundFile]:
        return (e for e in self._targets() if isinstance(e, FoundFile))

    def _write_missing(self, declarations: DeclarationIndex) -> int:
        count = 0
        with open(os.path.join(self.out, MISSING_JSONL), "w", encoding="utf-8", errors="backslashreplace") as f:
            for row in declarations.missing():
                f.write(jsonl_line(row.to_dict()) + "\n")  # as every other JSON-lines file of the scan
                count += 1
        return count

    def _account_rows(self) -> list:
        rows = account_rows(self.tally.accounts, self.rules)
        if self.similar is not None:
            language = self.checker.policy.advice_language
            for row in rows:
                row.update(self.similar.signals.row(row["account"], row["action"], language))
            from .account_signals import rank_accounts

            rank_accounts(rows, self.checker.policy.data["measure_order"])
        return rows

    def _write_accounts_csv(self, rows: list) -> None:
        columns = list(ACCOUNT_COLUMNS)
        if self.similar is not None:
            from .account_signals import SIGNAL_COLUMNS

            columns += SIGNAL_COLUMNS
        with open_text(os.path.join(self.out, ACCOUNTS_CSV), "w") as f:
            f.write(csv_lines([columns] + [[csv_cell(r[c]) for c in columns] for r in rows]))

    def _accounts_basis(self) -> dict:
        """The policy's ``accounts.basis`` for summary.json, and by language as ``accounts_text``."""
        section = self.checker.policy.data.get("accounts", {})
        texts = section.get("basis_text")
        return {"accounts": section.get("basis"), **({"accounts_text": dict(texts)} if texts else {})}

    def _summary_data(self, interrupted: bool, missing: int | None, report: bool = False) -> dict:
        t = self.tally
        now = datetime.now(timezone.utc)
        elapsed = (now - self.started_at).total_seconds()
        accounts = self._account_rows()
        this_run = {
            "started": self.started_at.isoformat(timespec="seconds"),
            "ended": now.isoformat(timespec="seconds"),
            "elapsed_s": round(elapsed, 3),
            "checked": self.done_now,
            "interrupted": interrupted,
        }
        runs = [*self.earlier_runs, this_run]
        fingerprints = self.checker.fingerprints
        return {
            "schema": "aigc-check-scan/1",
            "started": self.started_at.isoformat(timespec="seconds"),
            "updated": now.isoformat(timespec="seconds"),
            # Across --resume: the first run's start, the time of all runs, one entry a run.
            "first_started": runs[0]["started"] or this_run["started"],
            "runs": runs,
            "complete": not interrupted,
            "interrupted": interrupted,
            "policy": {
                "id": self.checker.policy.id,
                "name": self.checker.policy.name,
                "repeat_offenders": self.rules.basis if self.rules else None,
                # The same in each of the policy's languages, where the policy gives them (added fields:
                # the two above stay the one text they were).
                **({"repeat_offenders_text": self.rules.basis_text} if self.rules and self.rules.basis_text else {}),
                **(self._accounts_basis() if self.similar else {}),
            },
            "scanned": {
                "paths": [os.fsdecode(p) for p in self.config.paths],
                "from_list": self.config.from_list,
                "declarations": self.config.declarations,
                "declared_default": self.config.declared,
                "jobs": self.config.worker_count(),
            },
            "files": {
                "checked": t.checked,
                "skipped": dict(t.skipped),
                "resumed": self.done_before,
                "this_run": self.done_now,
                "elapsed_s": round(elapsed, 3),
                "elapsed_total_s": round(sum(r.get("elapsed_s") or 0 for r in runs), 3),
                "per_second": round(self.done_now / elapsed, 1) if elapsed > 0 else None,
                "bytes_read": t.bytes_read,
            },
            "violations": t.violations,
            "verdicts": dict(t.verdicts),
            "statuses": dict(t.statuses),
            "formats": dict(t.formats),
            "generators": dict(t.generators),
            "generator_names": dict(t.generator_names),
            "generator_display": {g: fingerprints.display_name(g) for g in t.generators if g in fingerprints.ids},
            "declared": dict(t.declared),
            "findings": dict(t.findings),
            "errors": dict(t.errors),
            "walk_problems": {"counts": dict(t.walk_problems), "examples": t.walk_problem_examples},
            "declarations": (
                {"rows": self.declaration_rows, "missing_files": missing, "missing_list": MISSING_JSONL}
                if self.config.declarations
                else None
            ),
            "accounts": {"count": len(accounts), "top": accounts[:100]},
            **({"similar": self.similar.outcome.summary()} if self.similar is not None else {}),
            "outputs": {
                "results_jsonl": RESULTS_JSONL,
                "results_csv": RESULTS_CSV,
                "report_html": REPORT_HTML if report else None,
            },
        }

    def _closing_line(self, interrupted: bool, report: bool) -> str:
        t = self.tally
        word = "interrupted" if interrupted else "done"
        return (
            f"{word}: {t.checked:,} files checked, {sum(t.skipped.values()):,} skipped, {t.violations:,} "
            f"violations, {t.verdicts[Verdict.UNREADABLE]:,} unreadable; results in {self.out}"
            + ("" if report or not self.config.html else f" (no {REPORT_HTML})")
            + ("; continue with --resume" if interrupted else "")
        )

    def _install_signal_handlers(self) -> Callable[[], object]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None  # run from a thread (a service): its owner handles signals
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        return lambda: [signal.signal(s, h) for s, h in previous.items()]

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        """SIGINT or SIGTERM.  It never raises while results are written (``RUNNING``), so no line is
        cut; further signals after the second only count (the stop they asked for is bounded)."""
        self.signals += 1
        if self.stop_signal is None:
            self.stop_signal = signum
        if self.phase == STARTING and self.signals == 1:
            raise KeyboardInterrupt
        if self.phase == REPORTING and self.hurried:
            raise _Hurry


class _Hurry(BaseException):
    """Raised by the signal handler into the report writer: a second stop signal."""


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _take(items: Iterator[ScanItem], n: int) -> list[ScanItem]:
    chunk: list[ScanItem] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= n:
            break
    return chunk


def run_scan(config: ScanConfig, exiting: bool = False) -> ScanSummary:
    """Run a local scan (see ``Scan.run``).  ``exiting``: the caller ends the process right after
    (the command line), so the scan's signal handlers stay: a Ctrl-C pressed again while the
    process exits is counted, never raised."""
    return Scan(config).run(exiting)
