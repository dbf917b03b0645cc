"""A ``mark`` run over several files (the command's and the scan's): everything that can be wrong
with the request is found before the first file is read, then each file is marked and written on
its own, one failure never stopping the rest."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

from ..checker import Checker
from ..model import Declared
from ..options import CheckOptions
from ..scan.declarations import DeclarationIndex
from .core import MarkAction, MarkResult, Propagation, c2pa_resigner, mark_bytes
from .output import Target, plan, read_input, write_atomically


@dataclass(frozen=True)
class MarkRequest:
    """What the ``mark`` command was asked for, as its options name it (validated by ``MarkRun.prepare``)."""

    files: tuple[str, ...]
    propagator: str
    propagate_id: str = "{post_id}"
    declared: Declared = Declared.NONE
    declarations: str | None = None  # sidecar CSV or JSONL: path, declared, optional post_id
    out: str | None = None
    out_dir: str | None = None
    in_place: bool = False
    overwrite: bool = False
    c2pa_cert: str | None = None  # PEM chain and key to re-sign C2PA files, both or neither
    c2pa_key: str | None = None
    c2pa_alg: str = "es256"


class MarkRun:
    def __init__(
        self,
        targets: list[Target],
        propagation: Propagation,
        declared: Declared,
        index: DeclarationIndex | None,
        checker: Checker,
        overwrite: bool,
        warnings: list[str],
        folder: str | None,
    ) -> None:
        self.targets, self.propagation, self.declared = targets, propagation, declared
        self.index, self.checker, self.overwrite = index, checker, overwrite
        self.warnings = warnings
        self._folder = folder

    @classmethod
    def prepare(cls, request: MarkRequest, options: CheckOptions) -> MarkRun:
        """Validate everything (raising ``UsageError`` subclasses, exit 2) before any file is read."""
        from ..errors import UsageError

        if bool(request.c2pa_cert) != bool(request.c2pa_key):
            raise UsageError("--c2pa-cert and --c2pa-key go together")
        cert = key = None
        if request.c2pa_cert and request.c2pa_key:
            c2pa_resigner()  # a clear usage error now where re-signing is not built in
            with open(request.c2pa_cert, "rb") as f:
                cert = f.read()
            with open(request.c2pa_key, "rb") as f:
                key = f.read()
        propagation = Propagation(request.propagator, request.propagate_id, cert, key, request.c2pa_alg)
        warnings = propagation.warnings()
        pid = request.propagate_id
        if "{post_id}" in pid and not request.declarations and pid.replace("{post_id}", "") == "":
            raise UsageError("give --propagate-id (the platform's content number), or --declarations with post_id")
        targets = plan(list(request.files), request.out, request.out_dir, request.in_place, request.overwrite)
        checker = Checker(options)
        index = folder = None
        if request.declarations:
            folder = tempfile.mkdtemp(prefix="aigc-mark-")
            try:
                index = DeclarationIndex(request.declarations, os.path.join(folder, "declarations.sqlite"))
            except BaseException:
                os.rmdir(folder)
                raise
        return cls(targets, propagation, request.declared, index, checker, request.overwrite, warnings, folder)

    def __enter__(self) -> MarkRun:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.index is not None:
            self.index.close()
        if self._folder is not None and os.path.isdir(self._folder):
            os.rmdir(self._folder)

    def results(self) -> Iterator[MarkResult]:
        for target in self.targets:
            yield self.one(target)

    def one(self, target: Target) -> MarkResult:
        declared, post_id = self.declared, None
        if self.index is not None:
            row = self.index.lookup(target.source, None)
            if row is not None:
                declared = row.declared or self.declared
                post_id = row.post_id
        try:
            data = read_input(target.source)
        except OSError as exc:
            result = self.checker.check(target.source, declared)
            return MarkResult(target.source, MarkAction.ERROR, result, reason="unreadable", notes=[str(exc)])
        outcome = mark_bytes(self.checker, data, self.propagation, declared, target.source, post_id)
        if outcome.data is None:
            return outcome
        if target.in_place and outcome.data == data:
            outcome.out = target.out
            return outcome
        try:
            write_atomically(target.out, outcome.data, replace=self.overwrite or target.in_place,
                             mode_from=target.source if target.in_place else None)  # fmt: skip
        except OSError as exc:
            outcome.action, outcome.reason = MarkAction.ERROR, "write-failed"
            outcome.notes.append(f"{target.out} could not be written: {exc}")
            return outcome
        outcome.out = target.out
        return outcome
