"""``aigc-check compare``: what a pipeline (a re-save, a transcode, a platform's ``mark``) did to a
file's provenance marks.

Both sides are checked by one ``Checker`` and the two results compared (``diff.py``): the GB 45438
label element by element, the C2PA manifest (present, valid, the same active manifest, or a new one
whose parent ingredient is the original's), the IPTC source type and the generator traces; then one
verdict per pair (``model.PairVerdict``).  Two folders are compared file by file, matched by
relative path.  A side that cannot be read is a pair error, never an exception.

    from aigc_check import compare
    result = compare("original.jpg", "delivered.jpg")
    result.verdict, result.accepted, result.to_dict()
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ..checker import Checker, Target
from ..errors import UsageError
from ..options import DEFAULT_OPTIONS, CheckOptions
from ..scan.walk import FoundFile, WalkProblem, walk_targets
from .diff import compare_results
from .model import INCOMPLETE, PROBLEMS, PairComparison, PairError, PairVerdict

__all__ = ["INCOMPLETE", "PROBLEMS", "Comparer", "PairComparison", "PairVerdict", "compare", "compare_trees"]


class Comparer:
    """Compares pairs with one checker (its policy words the labels, its trust anchors judge C2PA)."""

    def __init__(self, options: CheckOptions = DEFAULT_OPTIONS, checker: Checker | None = None) -> None:
        self.checker = checker or Checker(options)

    def pair(
        self, original: Target, delivered: Target, relative: str | None = None, names: tuple[str, str] | None = None
    ) -> PairComparison:
        o_name, d_name = names or (None, None)
        if isinstance(original, (bytes, bytearray, memoryview)) and o_name is None:
            o_name = "<original>"
        if isinstance(delivered, (bytes, bytearray, memoryview)) and d_name is None:
            d_name = "<delivered>"
        before = self.checker.check(original, name=o_name)
        after = self.checker.check(delivered, name=d_name)
        result = compare_results(before, after, self.checker.policy)
        result.relative = relative
        return result

    def trees(self, original_root: str, delivered_root: str) -> Iterator[PairComparison]:
        """Every file of both trees, in relative-path order: pairs compared, files on one side reported."""
        for root in (original_root, delivered_root):
            if not os.path.isdir(root):
                raise UsageError(f"{root} is not a folder (compare two files, or two folders)")
        before, before_problems = _listing(original_root)
        after, after_problems = _listing(delivered_root)
        for rel, problem in sorted(before_problems.items()):
            yield _tree_error(rel, "original", problem, os.path.join(original_root, rel), None)
        for rel, problem in sorted(after_problems.items()):
            yield _tree_error(rel, "delivered", problem, None, os.path.join(delivered_root, rel))
        for rel in sorted(set(before) | set(after)):
            if rel not in after:
                yield PairComparison(
                    before[rel],
                    None,
                    PairVerdict.MISSING_DELIVERED,
                    False,
                    relative=rel,
                    details=["the delivered tree has no file at this path"],
                )
            elif rel not in before:
                yield PairComparison(
                    None,
                    after[rel],
                    PairVerdict.EXTRA_DELIVERED,
                    True,
                    relative=rel,
                    details=["the original tree has no file at this path"],
                )
            else:
                yield self.pair(before[rel], after[rel], rel)


def _listing(root: str) -> tuple[dict[str, str], dict[str, WalkProblem]]:
    """Relative path -> path of every file below ``root``, and the folders that could not be read."""
    files: dict[str, str] = {}
    problems: dict[str, WalkProblem] = {}
    for event in walk_targets([root]):
        rel = os.path.relpath(event.path, root)
        if isinstance(event, FoundFile):
            files[rel] = event.path
        else:
            problems[rel] = event
    return files, problems


def _tree_error(
    rel: str, side: str, problem: WalkProblem, original: str | None, delivered: str | None
) -> PairComparison:
    return PairComparison(
        original,
        delivered,
        PairVerdict.ERROR,
        False,
        relative=rel,
        errors=[PairError(side, problem.code, problem.message)],
        details=[f"the {side} tree could not be read here, so its files were not compared"],
    )


def compare(
    original: Target,
    delivered: Target,
    *,
    options: CheckOptions | None = None,
    checker: Checker | None = None,
) -> PairComparison:
    """Compare one original with the file delivered from it (paths, or bytes)."""
    return Comparer(options or DEFAULT_OPTIONS, checker).pair(original, delivered)


def compare_trees(
    original_root: str,
    delivered_root: str,
    *,
    options: CheckOptions | None = None,
    checker: Checker | None = None,
) -> Iterator[PairComparison]:
    """Compare two folders file by file, matched by relative path (lazily, one pair at a time)."""
    return Comparer(options or DEFAULT_OPTIONS, checker).trees(original_root, delivered_root)
