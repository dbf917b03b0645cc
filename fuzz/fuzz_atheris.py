#!/usr/bin/env python3
"""Coverage-guided fuzzing with atheris (libFuzzer), for long local runs.

    pip install atheris
    python fuzz/fuzz_atheris.py --target check -max_total_time=3600 -timeout=10 -rss_limit_mb=2048
    python fuzz/fuzz_atheris.py --list

``--target`` is one of ``--list`` (``check``, ``format:<name>``, ``reader:<family>``).
The first run copies the fixtures and the shared corpus (``AIGC_CORPUS`` or
../shared/corpus) into ``fuzz/work/<target>/`` as the seed corpus; libFuzzer
keeps growing it there.  A crash is written as ``crash-<hash>`` in the
current folder: copy it into ``tests/fuzz_regressions/`` and add its expected
outcome to ``tests/test_fuzz.py`` so it stays fixed.  Options after the
target go to libFuzzer as they are.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

with atheris.instrument_imports():
    # Everything the targets reach is imported here, inside the block, so it is instrumented:
    # the package loads its walkers, readers and signature modules lazily otherwise.
    from targets import all_targets, seed_files

    import aigc_check.checker
    import aigc_check.signatures.aigc_label
    import aigc_check.signatures.c2pa_manifest
    import aigc_check.signatures.camera
    import aigc_check.signatures.fingerprints
    import aigc_check.signatures.iptc  # noqa: F401

    TARGETS = all_targets()  # imports every walker and reader module


def main() -> None:
    args = sys.argv[1:]
    targets = TARGETS
    if "--list" in args:
        print("\n".join(sorted(targets)))
        return
    name = "check"
    if "--target" in args:
        i = args.index("--target")
        name = args[i + 1]
        del args[i : i + 2]
    if name not in targets:
        raise SystemExit(f"unknown target {name!r}; --list shows them")
    work = HERE / "work" / name.replace(":", "-")
    if not work.exists():
        work.mkdir(parents=True)
        corpus = Path(os.environ.get("AIGC_CORPUS", HERE.parent.parent / "shared" / "corpus"))
        for p in seed_files(corpus):
            shutil.copy(p, work / f"{p.parent.name}-{p.name}")
    target = targets[name]
    atheris.Setup([sys.argv[0], *args, str(work)], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
