"""A ``mark`` run over several files (the command's and the scan's): everything that can be wrong
with the request is found before the first file is read, then each file is marked and written on
its own, one failure never stopping the rest."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from types import TracebackType

from ..checker import Checker
from ..model import Declared
from ..options import CheckOptions
from ..scan.declarations import DeclarationIndex
from .core import MarkAction, MarkResult, Propagation, c2pa_resigner, mark_bytes
from .output import Target, plan, read_input, write_atomically


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
    def prepare(
        cls,
        files: list[str],
        out: str | None,
        out_dir: str | None,
        in_place: bool,
        overwrite: bool,
        propagator: str,
        propagate_id: str,
        declared: Declared,
        declarations: str | None,
        c2pa_cert: str | None,
        c2pa_key: str | None,
        c2pa_alg: str,
        options: CheckOptions,
    ) -> MarkRun:
        """Validate everything (raising ``UsageError`` subclasses, exit 2) before any file is read."""
        from ..errors import UsageError

        if bool(c2pa_cert) != bool(c2pa_key):
            raise UsageError("--c2pa-cert and --c2pa-key go together")
        cert = key = None
        if c2pa_cert and c2pa_key:
            c2pa_resigner()  # a clear usage error now where re-signing is not built in
            with open(c2pa_cert, "rb") as f:
                cert = f.read()
            with open(c2pa_key, "rb") as f:
                key = f.read()
        propagation = Propagation(propagator, propagate_id, cert, key, c2pa_alg)
        warnings = propagation.warnings()
        if "{post_id}" in propagate_id and not declarations and propagate_id.replace("{post_id}", "") == "":
            raise UsageError("give --propagate-id (the platform's content number), or --declarations with post_id")
        targets = plan(files, out, out_dir, in_place, overwrite)
        checker = Checker(options)
        index = folder = None
        if declarations:
            folder = tempfile.mkdtemp(prefix="aigc-mark-")
            try:
                index = DeclarationIndex(declarations, os.path.join(folder, "declarations.sqlite"))
            except BaseException:
                os.rmdir(folder)
                raise
        return cls(targets, propagation, declared, index, checker, overwrite, warnings, folder)

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
