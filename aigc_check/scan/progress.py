"""Progress on standard error: a redrawn bar on a terminal, a plain line every few seconds otherwise.

The walk is lazy, so the total is not known up front: a background thread
counts the files (a second, cheap walk that only counts) and the ETA appears
once that count is complete.

The bar is rich's (``rich.progress``): it fits the terminal's width as the window changes, keeps
the notes printed above it, and draws no colour when ``NO_COLOR`` is set.  It is redrawn only when
``update`` is called (no refresh thread), at most five times a second.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TextIO

MODES = ("auto", "bar", "lines", "none")


class FileCounter(threading.Thread):
    """Counts what a walk will find, beside the scan; ``total`` is None until it is done."""

    def __init__(self, events: Callable[[], Iterable]) -> None:
        super().__init__(name="aigc-check-count", daemon=True)
        self._events = events
        self._halt = threading.Event()
        self.seen = 0
        self.total: int | None = None

    def run(self) -> None:
        try:
            for _ in self._events():
                if self._halt.is_set():
                    return
                self.seen += 1
        except Exception:  # counting is a nicety: without it there is simply no ETA
            return
        self.total = self.seen

    def stop(self) -> None:
        """The scan is over (or interrupted): stop walking, so the thread does not outlive it long."""
        self._halt.set()


class Progress:
    def __init__(self, mode: str = "auto", stream: TextIO | None = None, interval: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if getattr(self.stream, "isatty", lambda: False)() else "lines"
        self.mode = mode
        self.interval = interval if mode == "lines" else 0.2
        self.started = time.monotonic()
        self._last = self.started if self.mode == "lines" else 0.0  # a quiet log: first line after one interval
        self.counter: FileCounter | None = None
        self._bar: RichBar | None = None

    def update(
        self, done_now: int, done_before: int, violations: int, unreadable: int, skipped: int, force: bool = False
    ) -> None:
        """``done_now``: files handled by this run; ``done_before``: files met that earlier runs finished."""
        if self.mode == "none":
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done_now / elapsed
        done = done_now + done_before
        total = self.counter.total if self.counter else None
        if total is not None:
            left = max(total - done, 0)
            eta = _duration(left / rate) if rate > 0 else "?"
            where = f"{done:,}/{total:,} files ({100 * done / total if total else 100:.0f}%)"
        else:
            eta = "counting"
            where = f"{done:,} files"
        stats = (
            f"{rate:,.0f} files/s  violations {violations:,}  unreadable {unreadable:,}  skipped {skipped:,}  ETA {eta}"
        )
        if self.mode == "bar":
            if self._bar is None:
                self._bar = RichBar(self.stream)
            self._bar.show(done, total, stats)
            return
        text = f"{where}  {stats}"
        self.stream.write(f"aigc-check scan: {text}\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        """A line of its own (above the bar, which stays at the bottom)."""
        if self.mode == "none":
            return
        if self._bar is not None:
            self._bar.note(f"aigc-check scan: {message}")
            return
        self.stream.write(f"aigc-check scan: {message}\n")
        self.stream.flush()

    def close(self, message: str) -> None:
        if self._bar is not None:
            self._bar.stop()  # the bar's last state stays on screen; the closing line goes below it
            self._bar = None
        self.note(message)


class RichBar:
    """rich's progress bar on ``stream``: the files done, of the total once it is counted (a
    pulsing bar until then), the rate, the tallies and the time left."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            console=Console(file=stream),
            auto_refresh=False,
        )
        self._task = self._progress.add_task("scan", total=None, stats="")
        self._progress.start()

    def show(self, done: int, total: int | None, stats: str) -> None:
        self._progress.update(self._task, completed=done, total=total, stats=stats)
        self._progress.refresh()

    def note(self, line: str) -> None:
        self._progress.console.print(line, markup=False, highlight=False)

    def stop(self) -> None:
        self._progress.refresh()
        self._progress.stop()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
