"""The engine-free core: judge a batch of files, one ``Checker`` per process.

``check_batch`` is what every engine calls (the local process pool here, Spark's
``mapInArrow`` in ``aigc_check.spark``): items in, one dict per item out, no
I/O beyond reading the files (local paths, or remote URIs through an
``ObjectReader``).  Each dict is either ``CheckResult.to_dict()`` plus
``account`` and ``post_id``, or, for a file that sniffing found not to be
media, a skip record ``{"path", "skipped": "not-media"|"empty", "account",
"post_id"}`` (tell them apart by the ``skipped`` key).  A file that cannot be
judged (missing object, invalid declaration, a checker bug) is an
``unreadable`` result naming why, never an exception: one bad row must not fail
a batch, a Spark task or a scan.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from .. import formats
from ..checker import Checker, CheckOptions
from ..deadline import limit_memory, own_alarm_signal
from ..errors import DeclarationError
from ..model import CheckResult, Declared
from ..source import ByteSource
from .objects import LOCAL_ONLY, ObjectReader, Opened

# Enough for every header test (SVG looks at 4 KiB), small enough to cost one read.
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class ScanItem:
    path: str
    declared: Declared = Declared.NONE
    account: str | None = None
    post_id: str | None = None
    # False for files the user named or declared: those are judged even if they do not look like media.
    sniff: bool = True
    # Why the item's declaration could not be parsed (its row is reported ``invalid-declared``).
    declared_error: str | None = None

    @classmethod
    def coerce(cls, item: ScanItem | Mapping, default: Declared = Declared.NONE) -> ScanItem:
        """An item from a mapping (a Spark row, an API caller's dict); its ``declared`` is parsed by
        ``Declared.parse`` (absent or empty: ``default``), and one that does not parse is kept as the
        row's error, never raised."""
        if isinstance(item, ScanItem):
            return item
        declared, error = Declared.NONE, None
        try:
            declared = Declared.parse(item.get("declared"), default)
        except DeclarationError as exc:
            error = str(exc)
        return cls(
            item["path"], declared, item.get("account"), item.get("post_id"), bool(item.get("sniff", True)), error
        )


# One Checker per process and per options, made on first use, or a forked scan worker's parent's
# (``adopt_checker``: a Checker holds nothing tied to its process; the C2PA context it uses is made
# per process, ``readers/c2pa._context``).
_checkers: dict[CheckOptions, Checker] = {}


def checker_for(options: CheckOptions) -> Checker:
    checker = _checkers.get(options)
    if checker is None:
        checker = _checkers[options] = Checker(options)
    return checker


def adopt_checker(options: CheckOptions, checker: Checker) -> None:
    """Make ``checker`` this process's for ``options``: a forked scan worker's, its parent's (see
    ``Scan._pool``)."""
    _checkers[options] = checker


def sniff(target: str | BinaryIO) -> str | None:
    """Why the file (a path, or an open file left rewound) is skipped ("empty", "not-media"), or None to judge it.

    A file that cannot be opened is judged, so that the error is reported.
    """
    try:
        if isinstance(target, str):
            with open(target, "rb") as f:
                head = f.read(SNIFF_BYTES)
        else:
            head = target.read(SNIFF_BYTES)
            target.seek(0)
    except OSError:
        return None
    return sniff_head(head)


def sniff_head(head: bytes) -> str | None:
    """``sniff`` of the file's first ``SNIFF_BYTES`` bytes (or all of them, if fewer)."""
    if not head:
        return "empty"
    return None if formats.identify(head[:SNIFF_BYTES]) else "not-media"


def check_batch(
    items: Iterable[ScanItem | Mapping],
    options: CheckOptions,
    objects: ObjectReader = LOCAL_ONLY,
    declared: Declared = Declared.NONE,
) -> list[dict]:
    """One dict per item, in order; never raises for a bad file.

    ``item.path`` is a local path or a URI; remote URIs are read by ranges through ``objects``.
    ``declared`` applies to mapping items that declare nothing.
    """
    checker = checker_for(options)
    batch = [ScanItem.coerce(raw, declared) for raw in items]
    return [
        _check_item(checker, item, opened) for item, opened in zip(batch, objects.open_all(item.path for item in batch))
    ]


def _check_item(checker: Checker, item: ScanItem, opened: Opened) -> dict:
    extra = {"account": item.account, "post_id": item.post_id}
    try:
        if item.declared_error is not None:
            result = checker.unreadable_result(item.path, Declared.NONE, "invalid-declared", item.declared_error)
        elif isinstance(opened, OSError):
            result = checker.open_failed(item.path, item.declared, opened)
        elif isinstance(opened, Exception):  # an object store's own error: no strerror to show
            result = checker.unreadable_result(item.path, item.declared, "io-error", f"cannot open: {opened}")
        elif isinstance(opened, str) and item.sniff:
            skipped = _sniffed_check(checker, item, opened)
            if isinstance(skipped, str):
                return {"path": item.path, "skipped": skipped, **extra}
            result = skipped
        else:
            reason = sniff(opened) if item.sniff else None
            if reason:
                return {"path": item.path, "skipped": reason, **extra}
            result = checker.check(opened, item.declared, name=item.path)
    except Exception as exc:  # a checker bug must not lose the batch: report this file, go on with the rest
        result = checker.unreadable_result(item.path, item.declared, "internal-error", f"{type(exc).__name__}: {exc}")
    finally:
        if not isinstance(opened, (str, Exception)):
            opened.close()  # the checker closed it already unless it was skipped or failed early
    out = result.to_dict()  # a new dict: the two keys go at its end, as the contract lists them
    out.update(extra)
    return out


def _sniffed_check(checker: Checker, item: ScanItem, path: str) -> CheckResult | str:
    """A local file the walk found: why it is skipped, or its result.  It is opened once, and its
    head, which the check reads anyway, is what the sniff looks at (``sniff`` would open it and
    read its start a second time)."""
    try:
        src = ByteSource.open(path, item.path)
    except OSError:
        return checker.check(path, item.declared, name=item.path)  # judged: the error is reported
    if not src.head:
        # Empty by its size: ask the file itself, as sniff does (a /proc file has size 0 and content).
        src.close()
        reason = sniff(path)
        return reason if reason else checker.check(path, item.declared, name=item.path)
    reason = sniff_head(src.head)
    if reason:
        src.close()
        return reason
    try:
        return checker.check(src, item.declared, name=item.path)  # closes src
    except BaseException:
        src.close()  # a checker bug (the caller reports it): the file is not left open
        raise


def init_worker(options: CheckOptions) -> None:
    """Pool initializer: the parent handles Ctrl-C and stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the parent's SIGTERM handler (which only sets a stop flag): restore the
    # default, so the parent can end a worker stuck on a file.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    limit_memory(options.memory_limit_mb)
    own_alarm_signal()  # a worker's signals are its own: each check only arms and disarms the timer
    checker_for(options)
