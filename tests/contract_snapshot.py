"""The JSON contract captured over every fixture and corpus file, to prove a refactor changed nothing.

``python tests/contract_snapshot.py --write`` records ``check --format json``'s object and the
``results.csv`` row (less ``elapsed_ms``, the only field that may differ between runs) for each file
under several option sets; ``tests/test_contract_snapshot.py`` recomputes them and compares.  The snapshot was first
written by the code before the package rename (issue 11), so it is an oracle independent of the
refactored code.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from conftest import FIXTURES, TEST_ROOT_CA, corpus_dir, corpus_rows  # noqa: E402

SNAPSHOTS = {
    "fixtures": HERE / "data" / "contract-fixtures.jsonl.gz",
    "corpus": HERE / "data" / "contract-corpus.jsonl.gz",
}

# (name, policy, trust the fixtures' test CA, declared): every declaration under cn, with and without
# the test CA, and the other shipped policy once.
OPTION_SETS = [
    (f"{policy}-{'test-ca' if trust else 'default'}-{declared}", policy, trust, declared)
    for policy, trust, declared in [
        ("cn", False, "none"),
        ("cn", True, "none"),
        ("cn", True, "ai"),
        ("cn", True, "not-ai"),
        ("eu", True, "none"),
        ("eu", True, "ai"),
    ]
]


# Contract fields appended after the snapshot was taken: left out of the recorded objects (they are
# the table's last keys; ``without_appended`` checks that), so the snapshot stays the oracle of
# every field it had; the appended fields have their own tests (disclosure: test_disclosure.py).
APPENDED_AFTER_SNAPSHOT = ("disclosure",)


def without_appended(d: dict) -> dict:
    keys = list(d)
    tail = keys[-len(APPENDED_AFTER_SNAPSHOT) :]
    if tail != list(APPENDED_AFTER_SNAPSHOT):
        raise AssertionError(f"the appended contract fields must be the last keys, found {tail}")
    return {k: d[k] for k in keys[: -len(APPENDED_AFTER_SNAPSHOT)]}


def files(family: str) -> list[tuple[str, Path]]:
    """(stable name, path) of every file in a family, sorted."""
    if family == "fixtures":
        return [(p.name, p) for p in sorted(FIXTURES.iterdir()) if p.is_file()]
    root = corpus_dir()
    return [(row["file"], root / row["file"]) for row in sorted(corpus_rows(), key=lambda r: r["file"])]


def records(family: str) -> Iterator[dict]:
    from aigc_check import Checker, CheckOptions
    from aigc_check.scan.outputs import csv_row

    for option_name, policy, trust, declared in OPTION_SETS:
        anchors = (str(TEST_ROOT_CA),) if trust else ()
        # No time limit: the records are what the files say, whatever the machine's load.
        checker = Checker(CheckOptions(policy=policy, trust_anchor_files=anchors, time_limit=None))
        for name, path in files(family):
            d = without_appended(checker.check(str(path), declared, name=name).to_dict())
            d.pop("elapsed_ms")
            # The results.csv row too (elapsed_ms is its last column, left out).
            yield {"options": option_name, "object": d, "csv": csv_row({**d, "elapsed_ms": None})[:-1]}


def load(family: str) -> list[dict]:
    with gzip.open(SNAPSHOTS[family], "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def write(family: str) -> int:
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=False) for r in records(family)]
    # mtime=0: the same snapshot gives the same bytes.
    with open(SNAPSHOTS[family], "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))
    return len(lines)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/contract_snapshot.py --write")
    for fam in SNAPSHOTS:
        print(fam, write(fam))
