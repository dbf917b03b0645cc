"""The JSON contract and the CSV row of every fixture and corpus file are what they were before the
package refactor (issue 11): captured by ``tests/contract_snapshot.py`` from the old code."""

from __future__ import annotations

import contract_snapshot as snap


def _compare(family: str) -> None:
    expected = snap.load(family)
    actual = list(snap.records(family))
    assert len(actual) == len(expected), "the set of files or option sets changed"
    changed = [(e["options"], e["object"]["path"]) for e, a in zip(expected, actual) if e != a]
    assert not changed, f"{len(changed)} results differ from the snapshot, e.g. {changed[:5]}"


def test_fixture_results_match_snapshot():
    _compare("fixtures")


def test_corpus_results_match_snapshot(corpus):
    _compare("corpus")
