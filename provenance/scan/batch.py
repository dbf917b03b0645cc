"""The engine-free core: judge a batch of files, one ``Checker`` per process.

``check_batch`` is what every engine calls (the local process pool here, a
Spark ``mapPartitions`` later): items in, one dict per item out, no I/O beyond
reading the files.  Each dict is either ``CheckResult.to_dict()`` plus
``account`` and ``post_id``, or, for a file that sniffing found not to be
media, a skip record ``{"path", "skipped": "not-media"|"empty", "account",
"post_id"}`` (tell them apart by the ``skipped`` key).
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Union

from .. import formats
from ..checker import CheckOptions, Checker
from ..deadline import limit_memory

# Enough for every header test (SVG looks at 4 KiB), small enough to cost one read.
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class ScanItem:
    path: str
    declared: str = "none"
    account: Optional[str] = None
    post_id: Optional[str] = None
    # False for files the user named or declared: those are judged even if they do not look like media.
    sniff: bool = True

    @classmethod
    def coerce(cls, item: Union["ScanItem", Mapping]) -> "ScanItem":
        if isinstance(item, ScanItem):
            return item
        return cls(item["path"], item.get("declared") or "none", item.get("account"), item.get("post_id"),
                   bool(item.get("sniff", True)))


# One Checker per process and per options, made on first use: after a fork, never before it,
# so the C2PA context belongs to the process that uses it.
_checkers: dict[CheckOptions, Checker] = {}


def checker_for(options: CheckOptions) -> Checker:
    checker = _checkers.get(options)
    if checker is None:
        checker = _checkers[options] = Checker(options)
    return checker


def sniff(path: str) -> Optional[str]:
    """Why the file is skipped ("empty", "not-media"), or None to judge it.

    A file that cannot be opened is judged, so that the error is reported.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError:
        return None
    if not head:
        return "empty"
    return None if formats.identify(head) else "not-media"


def check_batch(items: Iterable[Union[ScanItem, Mapping]], options: CheckOptions) -> list[dict]:
    """One dict per item, in order; never raises for a bad file."""
    checker = checker_for(options)
    out = []
    for raw in items:
        item = ScanItem.coerce(raw)
        extra = {"account": item.account, "post_id": item.post_id}
        reason = sniff(item.path) if item.sniff else None
        if reason:
            out.append({"path": item.path, "skipped": reason, **extra})
            continue
        result = checker.check(item.path, item.declared).to_dict()
        result.update(extra)
        out.append(result)
    return out


def init_worker(options: CheckOptions) -> None:
    """Pool initializer: the parent handles Ctrl-C and stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_memory(options.memory_limit_mb)
    checker_for(options)
